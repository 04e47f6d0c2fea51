package flasher

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"fleetline/sim/board"
)

// The virtual board's realistic-timing model (sim/board timing.go), used to
// compute the link limit: what a host with zero overhead would reach.
const (
	simBlockErase  = 150 * time.Millisecond // per aligned 64 KiB block
	simPageProgram = 700 * time.Microsecond // per 256-byte page
	simInflateRate = 2 << 20                // ROM inflate output, bytes/s
	// CP2102N-like bridge: 1 ms turnaround plus up to 1 ms jitter each way.
	simTurnaround = 1500 * time.Microsecond
)

// BenchmarkFlash1MiB writes a 1 MiB app to a realistic-timing virtual
// ESP32 at 921600 baud through a CP2102N-like bridge, ROM mode with
// compression, and reports the effective rate, the link limit (wire time of
// the compressed bytes plus the board's erase, program and inflate time),
// the share of it reached and the host CPU the client used.
func BenchmarkFlash1MiB(b *testing.B) {
	for _, bs := range []uint32{0x400, 0x1000} {
		b.Run(fmt.Sprintf("block%#x", bs), func(b *testing.B) { benchFlash(b, bs) })
	}
}

func benchFlash(b *testing.B, bs uint32) {
	const size, baud = 1 << 20, 921600
	app := firmware(size, 99)
	tp := time.Now()
	plan, err := PrepareWrite([]Region{{"app", 0x10000, app}}, WriteOptions{Compress: true, BlockSize: bs, SegmentSize: 256 << 10})
	if err != nil {
		b.Fatal(err)
	}
	prep := time.Since(tp)
	_, wire := plan.Bytes()
	boardTime := time.Duration(size/(64<<10))*simBlockErase + time.Duration(size/256)*simPageProgram +
		time.Duration(int64(size)*int64(time.Second)/simInflateRate)
	wireTime := time.Duration(int64(wire) * 10 * int64(time.Second) / baud)
	limit := wireTime + boardTime
	// ROM mode is stop-and-wait: every block (and every BEGIN) also costs the
	// bridge's round trip and the 14-byte reply on the wire. The protocol
	// limit adds that; the gap between it and the measured time is what the
	// host itself costs.
	commands := 0
	for _, r := range plan.regions {
		commands += r.blocks + len(r.segments)
	}
	perCommand := 2*simTurnaround + time.Duration(14*10*int64(time.Second)/baud)
	protoLimit := limit + time.Duration(commands)*perCommand

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var total, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bd, err := board.New(board.Config{Chip: "esp32", Timing: board.Realistic, Bridge: "cp2102n"})
		if err != nil {
			b.Fatal(err)
		}
		p, err := bd.Open()
		if err != nil {
			b.Fatal(err)
		}
		c := New(p, Options{})
		ctx := context.Background()
		if _, err := c.Connect(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Identify(ctx); err != nil {
			b.Fatal(err)
		}
		if err := c.ChangeBaud(ctx, baud); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0, _ := threadCPU()
		t0 := time.Now()
		if _, err := c.WritePlan(ctx, plan); err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
		c1, _ := threadCPU()
		cpu += c1 - c0
		b.StopTimer()
		c.Close()
		bd.Close()
		b.StartTimer()
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(float64(size)*8/per.Seconds()/1000, "kbit/s")
	b.ReportMetric(float64(size)*8/limit.Seconds()/1000, "limit-kbit/s")
	b.ReportMetric(100*limit.Seconds()/per.Seconds(), "%-of-limit")
	b.ReportMetric(100*protoLimit.Seconds()/per.Seconds(), "%-of-protocol-limit")
	b.ReportMetric(float64(wire)/size*100, "%-compressed")
	if _, ok := threadCPU(); ok {
		b.ReportMetric(100*cpu.Seconds()/total.Seconds(), "%-host-CPU")
	}
	b.ReportMetric(prep.Seconds()*1000, "ms-prepare")
}

// BenchmarkPrepareFactoryRegion prepares what the station writes for every
// board on its own: a 24 KiB factory-data partition, mostly erased flash.
func BenchmarkPrepareFactoryRegion(b *testing.B) {
	nvs := bytes.Repeat([]byte{0xFF}, 24<<10)
	copy(nvs, firmware(4<<10, 3))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := PrepareWrite([]Region{{"fctry", 0x10000, nvs}}, WriteOptions{Compress: true, Verify: true}); err != nil {
			b.Fatal(err)
		}
	}
}
