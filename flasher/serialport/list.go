package serialport

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Info describes one serial port found on the machine.
type Info struct {
	// Path is the device (/dev/ttyUSB0, /dev/ttyACM1, COM3).
	Path string `json:"path"`
	// ByPath is the /dev/serial/by-path link to it (Linux): the name of
	// the physical USB socket, stable across re-plugging, which is how a
	// station maps fixture slots to ports.
	ByPath string `json:"by_path,omitempty"`
	// ByID is the /dev/serial/by-id link (Linux): vendor, product and
	// serial number.
	ByID string `json:"by_id,omitempty"`
	// USB says the port is a USB device; VID, PID and the strings below
	// are only set then.
	USB          bool   `json:"usb"`
	VID          uint16 `json:"-"`
	PID          uint16 `json:"-"`
	SerialNumber string `json:"serial_number,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
	// Bridge is the USB-serial family (BridgeCP210x, ...), "" if unknown.
	Bridge string `json:"bridge,omitempty"`
}

// VIDPID returns "10C4:EA60", or "" for a non-USB port.
func (i Info) VIDPID() string {
	if !i.USB {
		return ""
	}
	return fmt.Sprintf("%04X:%04X", i.VID, i.PID)
}

// Linux udev's stable names for serial devices.
const (
	byPathDir = "/dev/serial/by-path"
	byIDDir   = "/dev/serial/by-id"
)

// List returns the serial ports on this machine, sorted by path, with USB
// identity and, on Linux, their by-path and by-id names.
func List() ([]Info, error) {
	ports, err := detailedPorts()
	if err != nil {
		return nil, fmt.Errorf("list serial ports: %w", err)
	}
	return infos(ports, links(byPathDir), links(byIDDir)), nil
}

// rawPort is what the platform's enumerator found.
type rawPort struct {
	Name, VID, PID, SerialNumber, Manufacturer, Product string
	IsUSB                                               bool
}

// infos turns enumerator results into Infos; byPath and byID map a
// resolved device path to its link.
func infos(ports []rawPort, byPath, byID map[string]string) []Info {
	out := make([]Info, 0, len(ports))
	for _, p := range ports {
		if p.Name == "" {
			continue
		}
		dev := resolve(p.Name) // one EvalSymlinks walk for both maps
		in := Info{
			Path:         p.Name,
			ByPath:       byPath[dev],
			ByID:         byID[dev],
			USB:          p.IsUSB,
			SerialNumber: p.SerialNumber,
			Manufacturer: p.Manufacturer,
			Product:      p.Product,
		}
		if p.IsUSB {
			in.VID, _ = parseID(p.VID)
			in.PID, _ = parseID(p.PID)
			in.Bridge = BridgeOf(in.VID, in.PID)
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// links maps the target of every symlink in dir to the link's path. A
// missing dir (not Linux, or no USB serial device plugged in) gives none.
func links(dir string) map[string]string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	m := make(map[string]string, len(entries))
	for _, e := range entries {
		link := filepath.Join(dir, e.Name())
		if target, err := filepath.EvalSymlinks(link); err == nil {
			m[target] = link
		}
	}
	return m
}

func resolve(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	return path
}

// Find returns the Info of the port at path, which may be a by-path or
// by-id link, so that a caller can pick a reset strategy from the bridge
// (esptool does the same with the USB PID). ok is false when path is not
// among the listed ports.
func Find(path string) (info Info, ok bool, err error) {
	ports, err := List()
	if err != nil {
		return Info{}, false, err
	}
	info, ok = find(ports, path)
	return info, ok, nil
}

func find(ports []Info, path string) (Info, bool) {
	want := resolve(path)
	for _, p := range ports {
		if p.Path == path || resolve(p.Path) == want {
			return p, true
		}
	}
	return Info{}, false
}
