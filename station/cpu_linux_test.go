package station

import (
	"syscall"
	"time"
)

// processCPU is this process's user+system CPU time (getrusage).
func processCPU() (time.Duration, bool) {
	u, s, ok := processCPUSplit()
	return u + s, ok
}

// processCPUSplit is this process's user and system CPU time apart: system
// time is mostly the kernel's share of the ports' reads and writes.
func processCPUSplit() (user, sys time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), true
}
