package serialport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"

	"go.bug.st/serial"

	"fleetline/flasher/portio"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		op   string
		err  error
		want error
	}{
		{"open", &serial.PortError{}, ErrBusy}, // code 0 is PortBusy
		{"open", &os.PathError{Op: "open", Path: "/dev/ttyUSB9", Err: syscall.ENOENT}, ErrNotFound},
		{"open", &os.PathError{Op: "open", Path: "/dev/ttyUSB0", Err: syscall.EACCES}, ErrPermission},
		{"open", syscall.EBUSY, ErrBusy},
		{"open", syscall.ENOTTY, ErrNotSerial},
		{"set DTR", syscall.ENOTTY, ErrNoControlLines},
		{"read", syscall.EIO, portio.ErrClosed},
		{"write", fmt.Errorf("write: %w", syscall.ENXIO), portio.ErrClosed},
		{"set RTS", syscall.ENODEV, portio.ErrClosed},
		{"read", errors.New("read /dev/ttyUSB0: bad file descriptor"), portio.ErrClosed},
		{"read", os.ErrClosed, portio.ErrClosed},
		{"read", fs.ErrNotExist, portio.ErrClosed},
		{"read", errors.New("something else"), nil},
	} {
		if got := classify(tc.op, tc.err); got != tc.want {
			t.Errorf("classify(%q, %v) = %v, want %v", tc.op, tc.err, got, tc.want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		err   error
		kind  error
		words []string
	}{
		{wrap("/dev/ttyUSB0", "open", &os.PathError{Op: "open", Path: "/dev/ttyUSB0", Err: syscall.EACCES}),
			ErrPermission, []string{"/dev/ttyUSB0", "open", "dialout"}},
		{wrap("/dev/ttyUSB9", "open", &os.PathError{Op: "open", Path: "/dev/ttyUSB9", Err: syscall.ENOENT}),
			ErrNotFound, []string{"/dev/ttyUSB9", "station ports"}},
		{wrap("/dev/ttyUSB0", "read", syscall.EIO),
			portio.ErrClosed, []string{"/dev/ttyUSB0", "read", "port closed", "cable"}},
		{&Error{Path: "/dev/pts/3", Op: "set DTR", Kind: ErrNoControlLines},
			ErrNoControlLines, []string{"/dev/pts/3", "set DTR", "reset"}},
	} {
		msg := tc.err.Error()
		if !errors.Is(tc.err, tc.kind) {
			t.Errorf("%q is not %v", msg, tc.kind)
		}
		for _, w := range tc.words {
			if !strings.Contains(msg, w) {
				t.Errorf("%q does not mention %q", msg, w)
			}
		}
	}
	// The OS error stays reachable.
	if err := wrap("/dev/ttyUSB0", "read", syscall.EIO); !errors.Is(err, syscall.EIO) {
		t.Errorf("%v does not wrap EIO", err)
	}
	if wrap("x", "read", nil) != nil {
		t.Error("wrap(nil) != nil")
	}
}

func TestBridgeOf(t *testing.T) {
	for _, tc := range []struct {
		vid, pid uint16
		want     string
	}{
		{0x10C4, 0xEA60, BridgeCP210x},
		{0x10C4, 0xEA70, BridgeCP210x},
		{0x1A86, 0x7523, BridgeCH34x},
		{0x1A86, 0x55D4, BridgeCH34x},
		{0x0403, 0x6001, BridgeFTDI},
		{0x0403, 0x6010, BridgeFTDI},
		{0x0403, 0x6014, BridgeFTDI},
		{0x0403, 0x6015, BridgeFTDI},
		{0x303A, 0x1001, BridgeUSBJTAG},
		{0x303A, 0x0002, BridgeUSBOTG},
		{0x303A, 0x4001, BridgeEspressif},
		{0x10C4, 0x8A2A, ""}, // a Silicon Labs id that is not a UART bridge
		{0x067B, 0x2303, ""}, // Prolific: not in the table
	} {
		if got := BridgeOf(tc.vid, tc.pid); got != tc.want {
			t.Errorf("BridgeOf(%04X:%04X) = %q, want %q", tc.vid, tc.pid, got, tc.want)
		}
	}
}

func TestParseID(t *testing.T) {
	for in, want := range map[string]uint16{"10C4": 0x10C4, "ea60": 0xEA60, "0x303a": 0x303A, " 1001 ": 0x1001} {
		if got, ok := parseID(in); !ok || got != want {
			t.Errorf("parseID(%q) = %04X, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "xyz", "12345"} {
		if _, ok := parseID(in); ok {
			t.Errorf("parseID(%q) accepted", in)
		}
	}
}
