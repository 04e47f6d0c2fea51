package station

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Discover lists the slots of the serial ports attached to this machine
// that match filter ("" for every ESP-looking bridge, or "VID:PID"), named
// by their stable by-path names. The command wires it to
// flasher/serialport; nil means discovery is not available.
var Discover func(filter string) ([]Slot, error)

// endpoint is one entry of the virtual line's endpoints file.
type endpoint struct {
	Slot int    `json:"slot"`
	URL  string `json:"url"`
	MAC  string `json:"mac"`
	Chip string `json:"chip"`
}

// ParseSlots reads a --slots value:
//
//	rfc2217://127.0.0.1:4001,/dev/ttyUSB0   an explicit list (NAME=ADDR to name one)
//	endpoints:FILE                            the virtual line's endpoints JSON
//	usb | usb:VID:PID                         discovery by USB id, by-path names
func ParseSlots(spec string) ([]Slot, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		return nil, errors.New("no slots: give --slots (a list of ports, endpoints:FILE or usb[:VID:PID])")
	case strings.HasPrefix(spec, "endpoints:"):
		return endpointSlots(strings.TrimPrefix(spec, "endpoints:"))
	case spec == "usb" || strings.HasPrefix(spec, "usb:"):
		if Discover == nil {
			return nil, errors.New("USB discovery is not available in this build: list the ports with --slots")
		}
		ss, err := Discover(strings.TrimPrefix(strings.TrimPrefix(spec, "usb"), ":"))
		if err != nil {
			return nil, fmt.Errorf("discover slots: %w", err)
		}
		if len(ss) == 0 {
			return nil, fmt.Errorf("discover slots: no serial port matches %q", spec)
		}
		return ss, nil
	}
	var out []Slot
	seen := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		s := Slot{Address: item}
		if name, addr, ok := strings.Cut(item, "="); ok && !strings.Contains(name, "/") {
			s = Slot{Name: name, Address: addr}
		} else {
			s.Name = slotName(item)
		}
		if seen[s.Name] {
			return nil, fmt.Errorf("slot %q listed twice", s.Name)
		}
		seen[s.Name] = true
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("no slots in --slots")
	}
	return out, nil
}

// slotName derives a short name from an address: host:port of a URL, the
// base name of a device path.
func slotName(addr string) string {
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		return strings.TrimSuffix(rest, "/")
	}
	return filepath.Base(addr)
}

func endpointSlots(path string) ([]Slot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("endpoints file: %w", err)
	}
	var eps []endpoint
	if err := json.Unmarshal(data, &eps); err != nil {
		return nil, fmt.Errorf("endpoints file %s: %w", path, err)
	}
	if len(eps) == 0 {
		return nil, fmt.Errorf("endpoints file %s lists no boards", path)
	}
	out := make([]Slot, 0, len(eps))
	for _, ep := range eps {
		if ep.URL == "" {
			return nil, fmt.Errorf("endpoints file %s: slot %d has no url", path, ep.Slot)
		}
		out = append(out, Slot{Name: fmt.Sprintf("S%02d", ep.Slot+1), Address: ep.URL})
	}
	return out, nil
}
