//go:build linux

package flasher

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time used by the calling OS thread; with
// runtime.LockOSThread it is the calling goroutine's.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
