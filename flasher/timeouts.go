package flasher

import "time"

// Timeouts are how long the client waits for each kind of reply. They follow
// esptool's defaults; per-megabyte values scale with the bytes a command
// makes the chip process (10^6 bytes per MB) and never go below Default.
type Timeouts struct {
	Default          time.Duration // any command (esptool: 3 s)
	Sync             time.Duration // each SYNC try (0.1 s)
	EraseRegionPerMB time.Duration // FLASH_BEGIN / erase region (30 s/MB)
	EraseWritePerMB  time.Duration // a FLASH_DEFL_DATA block, per inflated MB (40 s/MB)
	MD5PerMB         time.Duration // SPI_FLASH_MD5 (8 s/MB)
	Max              time.Duration // ceiling of any scaled timeout (240 s)
}

// DefaultTimeouts returns esptool's values.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Default:          3 * time.Second,
		Sync:             100 * time.Millisecond,
		EraseRegionPerMB: 30 * time.Second,
		EraseWritePerMB:  40 * time.Second,
		MD5PerMB:         8 * time.Second,
		Max:              240 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultTimeouts.
func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&t.Default, d.Default)
	set(&t.Sync, d.Sync)
	set(&t.EraseRegionPerMB, d.EraseRegionPerMB)
	set(&t.EraseWritePerMB, d.EraseWritePerMB)
	set(&t.MD5PerMB, d.MD5PerMB)
	set(&t.Max, d.Max)
	return t
}

// scaled returns perMB × bytes/10^6, at least Default and at most Max.
func (t Timeouts) scaled(perMB time.Duration, bytes uint32) time.Duration {
	d := time.Duration(float64(perMB) * float64(bytes) / 1e6)
	return min(max(d, t.Default), max(t.Max, t.Default))
}
