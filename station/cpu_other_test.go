//go:build !linux

package station

import "time"

// processCPU is not measured off Linux.
func processCPU() (time.Duration, bool) { return 0, false }

// processCPUSplit is not measured off Linux.
func processCPUSplit() (user, sys time.Duration, ok bool) { return 0, 0, false }
