package serialport

import (
	"fmt"
	"path/filepath"
)

// Filter selects ports, for mapping a station's fixture slots to devices.
// Zero fields match anything; all set fields must match.
type Filter struct {
	VID, PID     uint16 // USB ids
	SerialNumber string // exact USB serial number
	// ByPath is a glob (filepath.Match syntax) on the /dev/serial/by-path
	// name, e.g. "/dev/serial/by-path/pci-0000:00:14.0-usb-0:1.*:1.0-port0"
	// for every socket of one hub.
	ByPath string
	// Path is a glob on the device path, e.g. "/dev/ttyUSB*".
	Path string
	// Bridge is a bridge family (BridgeCP210x, ...).
	Bridge string
}

// Match returns the ports that f selects, in the order given. It fails
// only on a malformed glob.
func Match(infos []Info, f Filter) ([]Info, error) {
	for _, g := range []string{f.ByPath, f.Path} {
		if _, err := filepath.Match(g, ""); err != nil {
			return nil, fmt.Errorf("port filter: bad pattern %q: %w", g, err)
		}
	}
	var out []Info
	for _, in := range infos {
		if f.matches(in) {
			out = append(out, in)
		}
	}
	return out, nil
}

func (f Filter) matches(in Info) bool {
	if (f.VID != 0 && (!in.USB || in.VID != f.VID)) ||
		(f.PID != 0 && (!in.USB || in.PID != f.PID)) ||
		(f.SerialNumber != "" && in.SerialNumber != f.SerialNumber) ||
		(f.Bridge != "" && in.Bridge != f.Bridge) {
		return false
	}
	if f.ByPath != "" {
		if ok, _ := filepath.Match(f.ByPath, in.ByPath); !ok || in.ByPath == "" {
			return false
		}
	}
	if f.Path != "" {
		if ok, _ := filepath.Match(f.Path, in.Path); !ok {
			return false
		}
	}
	return true
}
