//go:build !darwin || cgo

package serialport

import "go.bug.st/serial/enumerator"

// detailedPorts lists ports with their USB details.
func detailedPorts() ([]rawPort, error) {
	ports, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, err
	}
	out := make([]rawPort, 0, len(ports))
	for _, p := range ports {
		if p == nil {
			continue
		}
		out = append(out, rawPort{Name: p.Name, VID: p.VID, PID: p.PID, SerialNumber: p.SerialNumber,
			Manufacturer: p.Manufacturer, Product: p.Product, IsUSB: p.IsUSB})
	}
	return out, nil
}
