//go:build darwin && !cgo

package serialport

import "go.bug.st/serial"

// detailedPorts lists port names only: go.bug.st/serial reads USB details
// on macOS through IOKit, which needs cgo.
func detailedPorts() ([]rawPort, error) {
	names, err := serial.GetPortsList()
	if err != nil {
		return nil, err
	}
	out := make([]rawPort, len(names))
	for i, n := range names {
		out[i] = rawPort{Name: n}
	}
	return out, nil
}
