package station

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"fleetline/flasher/serialport"
)

// Discover lists the slots of the USB serial ports attached to this
// machine that match filter ("" for every USB port, or "VID:PID" in hex),
// named by their stable by-path names where the OS has them (a by-path name
// is the physical socket, so a slot keeps its name when a board is swapped).
// It is a variable so tests can substitute the machine.
var Discover = func(filter string) ([]Slot, error) {
	infos, err := serialport.List()
	if err != nil {
		return nil, err
	}
	var f serialport.Filter
	if filter != "" {
		vid, pid, ok := strings.Cut(filter, ":")
		v, err1 := strconv.ParseUint(vid, 16, 16)
		p, err2 := strconv.ParseUint(pid, 16, 16)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("USB filter %q: want VID:PID in hex, e.g. 10C4:EA60", filter)
		}
		f.VID, f.PID = uint16(v), uint16(p)
	}
	matched, err := serialport.Match(infos, f)
	if err != nil {
		return nil, err
	}
	var out []Slot
	for _, in := range matched {
		if !in.USB {
			continue
		}
		addr := in.Path
		name := filepath.Base(in.Path)
		if in.ByPath != "" {
			addr, name = in.ByPath, byPathName(in.ByPath)
		}
		out = append(out, Slot{Name: name, Address: addr})
	}
	return out, nil
}

// byPathName shortens a by-path link to its USB topology, e.g.
// "pci-0000:00:14.0-usb-0:1.3:1.0-port0" to "usb-0:1.3".
func byPathName(p string) string {
	b := filepath.Base(p)
	if i := strings.Index(b, "usb-"); i >= 0 {
		b = b[i:]
		if j := strings.LastIndex(b, ":1.0"); j > 0 {
			b = b[:j]
		}
	}
	return b
}

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
