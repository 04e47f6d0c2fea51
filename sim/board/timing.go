package board

import (
	"fmt"
	"strings"
	"time"
)

// Timing selects how long things take on a board.
type Timing int

const (
	// Instant makes every transfer and flash operation take no time: for
	// unit tests. Nothing sleeps; replies are ready when the request's
	// Write returns.
	Instant Timing = iota
	// Realistic charges UART byte times at the current baud, the USB
	// bridge's turnaround, flash erase and program times and the ROM's
	// inflate and MD5 speeds: for demos and benchmarks.
	Realistic
)

// ParseTiming accepts "instant" or "realistic".
func ParseTiming(s string) (Timing, error) {
	switch strings.ToLower(s) {
	case "", "instant":
		return Instant, nil
	case "realistic":
		return Realistic, nil
	}
	return 0, fmt.Errorf("board: unknown timing %q (want instant or realistic)", s)
}

// String returns the name ParseTiming accepts.
func (t Timing) String() string {
	if t == Realistic {
		return "realistic"
	}
	return "instant"
}

// Bridge is the USB-to-UART chip between the host and the ESP32.
type Bridge struct {
	Name    string
	MaxBaud int // the line runs at most this fast; asking more leaves it here
	// Turnaround is what the bridge adds to every chunk on its way to the
	// host (USB frame scheduling), and Jitter up to that much again.
	Turnaround time.Duration
	Jitter     time.Duration
	// LatencyTimer holds a short reply (under PacketSize bytes) this long
	// before sending it to the host, as FTDI parts do.
	LatencyTimer time.Duration
	PacketSize   int
	// USB marks the chip's own USB-Serial/JTAG port (S3, C3): no UART in
	// between, so the baud rate is ignored, and DTR/RTS drive the
	// peripheral's reset logic instead of the two-transistor circuit.
	USB bool
}

// usbWireBaud turns USB full-speed throughput (about 1 MB/s of payload)
// into the 10-bits-a-byte figure the cost model uses.
const usbWireBaud = 10_000_000

var bridges = map[string]Bridge{
	"cp2102n":  {Name: "cp2102n", MaxBaud: 3000000, Turnaround: time.Millisecond, Jitter: time.Millisecond},
	"cp2102":   {Name: "cp2102", MaxBaud: 921600, Turnaround: time.Millisecond, Jitter: time.Millisecond},
	"ch340":    {Name: "ch340", MaxBaud: 2000000, Turnaround: time.Millisecond, Jitter: 2 * time.Millisecond},
	"ftdi":     {Name: "ftdi", MaxBaud: 3000000, Turnaround: time.Millisecond, LatencyTimer: 16 * time.Millisecond, PacketSize: 62},
	"usb-jtag": {Name: "usb-jtag", MaxBaud: usbWireBaud, Turnaround: time.Millisecond, USB: true},
}

// LookupBridge returns the named bridge: cp2102n (the default), cp2102,
// ch340, ftdi, or usb-jtag (the S3's and C3's built-in USB-Serial/JTAG).
func LookupBridge(name string) (Bridge, error) {
	if name == "" {
		name = "cp2102n"
	}
	b, ok := bridges[strings.ToLower(name)]
	if !ok {
		return Bridge{}, fmt.Errorf("board: unknown bridge %q (want cp2102n, cp2102, ch340, ftdi or usb-jtag)", name)
	}
	return b, nil
}

// Realistic-mode costs. NOR figures are typical datasheet values for the
// 4-32 MiB quad SPI parts on ESP32 modules; ROM figures are measured
// orders of magnitude (the ROM inflates and hashes at a few MB/s).
const (
	sectorEraseTime = 45 * time.Millisecond
	blockEraseTime  = 150 * time.Millisecond
	pageProgramTime = 700 * time.Microsecond
	romInflateRate  = 2 << 20 // bytes of output per second
	romMD5Rate      = 4 << 20 // bytes per second
	usbHostToBridge = time.Millisecond
)

// costs turns operations into durations; all zero in instant mode.
type costs struct {
	realistic bool
	slow      float64 // slow-flash fault multiplier (1 when healthy)
}

func (c costs) scaleFlash(d time.Duration) time.Duration {
	if !c.realistic {
		return 0
	}
	if c.slow > 1 {
		d = time.Duration(float64(d) * c.slow)
	}
	return d
}

// bytes is the wire time of n bytes at baud (8N1: 10 bit times a byte).
func (c costs) bytes(n, baud int) time.Duration {
	if !c.realistic || baud <= 0 {
		return 0
	}
	return time.Duration(int64(n) * 10 * int64(time.Second) / int64(baud))
}

// erase is the time to erase [off, off+n): 64 KiB blocks where aligned,
// 4 KiB sectors elsewhere, as the ROM's erase routine does.
func (c costs) erase(off, n uint32) time.Duration {
	if !c.realistic {
		return 0
	}
	var d time.Duration
	for a := off; a < off+n; {
		if a%BlockSize == 0 && off+n-a >= BlockSize {
			d += blockEraseTime
			a += BlockSize
		} else {
			d += sectorEraseTime
			a += SectorSize
		}
	}
	return c.scaleFlash(d)
}

func (c costs) program(n int) time.Duration {
	pages := (n + PageSize - 1) / PageSize
	return c.scaleFlash(time.Duration(pages) * pageProgramTime)
}

func (c costs) rate(n int, perSecond int) time.Duration {
	if !c.realistic {
		return 0
	}
	return time.Duration(int64(n) * int64(time.Second) / int64(perSecond))
}
