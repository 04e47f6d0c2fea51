package board

import (
	"bytes"
	"testing"
	"time"

	"fleetline/flasher/rom"
)

// BenchmarkIdleBoards reports the CPU that 64 idle boards, each with a host
// attached and in download mode, cost per second of wall time
// (cpu-%/core): the bench target is under 1 %.
func BenchmarkIdleBoards(b *testing.B) {
	for _, timing := range []Timing{Instant, Realistic} {
		b.Run(timing.String(), func(b *testing.B) {
			var boards []*Board
			for i := 0; i < 64; i++ {
				bd, err := New(Config{Index: i, Timing: timing})
				if err != nil {
					b.Fatal(err)
				}
				p, err := bd.Open()
				if err != nil {
					b.Fatal(err)
				}
				p.SetLines(false, true)
				p.SetLines(true, false)
				p.SetLines(false, false)
				go func() { // a reader parked in Read, as an RFC 2217 server keeps one
					p.SetReadTimeout(time.Hour)
					buf := make([]byte, 256)
					for {
						if _, err := p.Read(buf); err != nil && bd.Mode() == "reset" {
							return
						}
					}
				}()
				boards = append(boards, bd)
			}
			time.Sleep(50 * time.Millisecond) // let resets settle
			b.ResetTimer()
			var cpu time.Duration
			var wall time.Duration
			for i := 0; i < b.N; i++ {
				c0, t0 := processCPU(), time.Now()
				time.Sleep(500 * time.Millisecond)
				cpu += processCPU() - c0
				wall += time.Since(t0)
			}
			b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%/core")
			b.StopTimer()
			for _, bd := range boards {
				bd.Close()
			}
		})
	}
}

// BenchmarkFlashWriteInstant measures the simulator's own cost of a ROM
// write of 64 KiB in 1 KiB blocks, SYNC to MD5.
func BenchmarkFlashWriteInstant(b *testing.B) {
	t := &testing.T{}
	data := bytes.Repeat([]byte{0xA5, 0x5A, 0x11}, 64<<10/3+1)[:64<<10]
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		c := connectB(b, t)
		c.sync()
		c.writeFlash(0, data)
		c.md5(0, uint32(len(data)))
		c.b.Close()
	}
}

func connectB(b *testing.B, t *testing.T) *romClient {
	bd, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	p, err := bd.Open()
	if err != nil {
		b.Fatal(err)
	}
	c := &romClient{t: t, b: bd, p: p, r: slipReader(p)}
	p.SetLines(false, true)
	p.SetLines(true, false)
	c.latch()
	p.SetLines(false, false)
	return c
}

// BenchmarkRealisticROMWrite reports the simulated wall time of a 64 KiB
// uncompressed ROM write at 921600 baud through a CP2102N (s/64KiB).
func BenchmarkRealisticROMWrite(b *testing.B) {
	t := &testing.T{}
	data := bytes.Repeat([]byte{0xA5}, 64<<10)
	for i := 0; i < b.N; i++ {
		bd, err := New(Config{Timing: Realistic, Chip: "esp32c3"})
		if err != nil {
			b.Fatal(err)
		}
		p, _ := bd.Open()
		p.SetReadTimeout(5 * time.Second)
		c := &romClient{t: t, b: bd, p: p, r: slipReader(p)}
		p.SetLines(false, true)
		p.SetLines(true, false)
		c.latch()
		p.SetLines(false, false)
		c.sync()
		c.ok(rom.OpChangeBaudrate, rom.ChangeBaudData(921600, 0), 0)
		p.SetBaud(921600)
		time.Sleep(10 * time.Millisecond)
		p.Flush()
		c.r.Decoder().Reset()
		t0 := time.Now()
		c.writeFlash(0, data)
		b.ReportMetric(time.Since(t0).Seconds(), "s/64KiB")
		bd.Close()
	}
}
