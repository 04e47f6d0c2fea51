//go:build linux

package rfc2217

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkIdle64 holds 64 connected, idle sessions (what the simulator
// serves for a full line) for one second per iteration and reports the
// process CPU time they cost as a percentage of one core. Idle sessions
// block in reads; nothing polls.
func BenchmarkIdle64(b *testing.B) {
	for range 64 {
		bn := newBenchB(b)
		c, err := Dial(b.Context(), bn.addr, 115200)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	start, wall := cpu(), time.Now()
	for range b.N {
		time.Sleep(time.Second)
	}
	used, elapsed := cpu()-start, time.Since(wall)
	b.ReportMetric(100*float64(used)/float64(elapsed), "%core")
}
