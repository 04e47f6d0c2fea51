package flasher

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"fleetline/flasher/netport"
	"fleetline/flasher/portio"
	"fleetline/flasher/rfc2217"
	"fleetline/flasher/serialport"
)

// OpenSerial opens a local serial device (a /dev/tty path, COM3, a
// /dev/serial/by-path name) at baud, through flasher/serialport. It is a
// variable so tests (and a station with its own device layer) can
// substitute it.
var OpenSerial = func(_ context.Context, name string, baud int) (portio.Port, error) {
	return serialport.Open(name, baud)
}

// ErrNoSerial is returned by Open for a device path when OpenSerial has
// been set to nil.
var ErrNoSerial = errors.New("no serial port driver linked in")

// Open opens a port by name: rfc2217://host:port (an RFC 2217 server, e.g.
// ser2net, esp_rfc2217_server or `station serve-port`), socket://host:port
// (raw TCP with no control lines, as Espressif's QEMU exposes a UART), or
// anything else as a local serial device. Schemes are case-insensitive,
// as in pyserial.
func Open(ctx context.Context, name string, baud int) (portio.Port, error) {
	scheme, _, _ := strings.Cut(strings.ToLower(name), "://")
	switch {
	case scheme == rfc2217.Scheme:
		p, err := rfc2217.Dial(ctx, name, baud)
		if err != nil {
			return nil, openErr(name, err)
		}
		return p, nil
	case scheme == netport.Scheme:
		p, err := netport.Dial(ctx, netport.Scheme+name[len(scheme):])
		if err != nil {
			return nil, openErr(name, err)
		}
		return p, nil
	}
	if OpenSerial == nil {
		return nil, fmt.Errorf("open %s: %w", name, ErrNoSerial)
	}
	p, err := OpenSerial(ctx, name, baud)
	if err != nil {
		return nil, openErr(name, err)
	}
	return p, nil
}

// openErr names the port in an open error, unless the port's own layer
// already did (serialport, rfc2217 and netport all do), so that the
// operator reads the name once.
func openErr(name string, err error) error {
	if strings.Contains(err.Error(), name) {
		return err
	}
	return fmt.Errorf("open %s: %w", name, err)
}

// EspressifVID is Espressif's USB vendor id.
const EspressifVID = 0x303A

// LocalUSBPID returns the USB product id of a local serial device when its
// bridge is Espressif's own USB (VID 0x303A), so that Options.USBPID can
// select the USB-Serial/JTAG reset; 0 for other bridges, URLs and unknown
// devices. name may be the device or a /dev/serial/by-path or by-id link.
func LocalUSBPID(name string) uint16 {
	if strings.Contains(name, "://") {
		return 0
	}
	infos, err := serialport.List()
	if err != nil {
		return 0
	}
	real := name
	if r, err := filepath.EvalSymlinks(name); err == nil {
		real = r
	}
	for _, i := range infos {
		if !i.USB || i.VID != EspressifVID {
			continue
		}
		if i.Path == name || i.Path == real || i.ByPath == name || i.ByID == name {
			return i.PID
		}
	}
	return 0
}
