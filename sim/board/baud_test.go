package board

import (
	"bytes"
	"testing"
	"time"

	"fleetline/flasher/rom"
)

func TestChangeBaudrate(t *testing.T) {
	c := connect(t, Config{Chip: "esp32c3"})
	c.sync()
	c.ok(rom.OpChangeBaudrate, rom.ChangeBaudData(460800, 0), 0)
	must(t, c.p.SetBaud(460800))
	must(t, c.p.Flush())
	c.r.Decoder().Reset()
	c.sync()
	if got := c.readReg(0x60000014); got != 0x00C00056 {
		t.Fatalf("UART_CLKDIV at 460800: %#x, want 0x00c00056", got)
	}
}

func TestESP32BaudScaling(t *testing.T) {
	for seed := uint64(0); seed < 6; seed++ {
		c := connect(t, Config{Chip: "esp32", Seed: seed})
		c.sync()
		// What esptool sends: baud scaled by the ROM's crystal estimate.
		cali := c.readReg(0x3FF5F06C) >> 7 & 0x1FFFFFF
		ck8m := c.readReg(0x3FF5A010) & 0xFF
		romFreq := uint64(cali) * 15625 * uint64(ck8m) / 40
		sent := uint32(uint64(921600) * romFreq / 40_000_000)
		c.ok(rom.OpChangeBaudrate, rom.ChangeBaudData(sent, 0), 0)
		must(t, c.p.SetBaud(921600))
		must(t, c.p.Flush())
		c.r.Decoder().Reset()
		c.sync()
		if !baudsAgree(c.b.chipBaud, 921600) {
			t.Fatalf("seed %d: chip at %d", seed, c.b.chipBaud)
		}
	}
}

func TestAutobaud(t *testing.T) {
	c := connect(t, Config{})
	must(t, c.p.SetBaud(230400))
	c.sync() // the ROM measures the 0x55 run and follows the host
	if c.b.chipBaud != 230400 {
		t.Fatalf("chip at %d", c.b.chipBaud)
	}
	// Once synced, the rate is locked: a host that jumps gets garbage.
	must(t, c.p.SetBaud(115200))
	c.send(rom.OpSync, rom.SyncData)
	c.noReply(50 * time.Millisecond)
}

func TestMismatchGarbageIsReproducible(t *testing.T) {
	out := func() []byte {
		b := newBoard(t, Config{Seed: 5, Index: 2})
		p, err := b.Open()
		must(t, err)
		must(t, p.SetBaud(74880))
		must(t, p.SetLines(false, true))
		must(t, p.SetLines(true, false))
		b.mu.Lock()
		b.resolveResetLocked(time.Now())
		b.mu.Unlock()
		buf := make([]byte, 4096)
		n, err := p.Read(buf)
		must(t, err)
		return buf[:n]
	}
	a, b := out(), out()
	if !bytes.Equal(a, b) || bytes.Contains(a, []byte("waiting")) {
		t.Fatalf("garbage differs or is readable: %q vs %q", a, b)
	}
}

func TestBridgeMaxBaud(t *testing.T) {
	c := connect(t, Config{Chip: "esp32c3", Bridge: "cp2102"})
	c.sync()
	c.ok(rom.OpChangeBaudrate, rom.ChangeBaudData(1500000, 0), 0)
	must(t, c.p.SetBaud(1500000)) // a CP2102 tops out at 921600
	must(t, c.p.Flush())
	c.send(rom.OpSync, rom.SyncData)
	c.noReply(50 * time.Millisecond)
}
