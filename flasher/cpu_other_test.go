//go:build !linux

package flasher

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
