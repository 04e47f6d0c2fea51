//go:build !unix

package board

import "time"

// processCPU is not measured off Unix; the benchmark then reports 0.
func processCPU() time.Duration { return 0 }
