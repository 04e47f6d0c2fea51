package serialport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"go.bug.st/serial"

	"fleetline/flasher/portio"
)

// Kinds of serial-port failure, for errors.Is. A device that went away
// mid-session (a yanked cable, a hub reset) is portio.ErrClosed, never a
// timeout.
var (
	// ErrNotFound: no device at the path.
	ErrNotFound = errors.New("no such serial port")
	// ErrPermission: the user may not open the device.
	ErrPermission = errors.New("permission denied")
	// ErrBusy: another process holds the port.
	ErrBusy = errors.New("serial port busy")
	// ErrNotSerial: the path is not a serial device.
	ErrNotSerial = errors.New("not a serial port")
	// ErrBadSetting: the port refuses a baud rate or line setting.
	ErrBadSetting = errors.New("setting not supported")
	// ErrNoControlLines: the port has no DTR/RTS lines to drive. A Linux
	// pty answers the modem-line ioctls with ENOTTY; so do some virtual
	// ports. The port still carries data, but cannot reset a board.
	ErrNoControlLines = errors.New("port has no DTR/RTS lines")
)

// Error is a failed operation on a serial port: which port, which step,
// what kind of failure, and the operating system's own error.
type Error struct {
	Path string // the device path as given to Open
	Op   string // "open", "read", "write", "set DTR", ...
	Kind error  // one of this package's kinds or portio.ErrClosed; nil if unclassified
	Err  error  // the underlying error, if any
}

// Error names the port and the operation, then what went wrong and, for
// the kinds an operator can fix, what to do.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "serial port %s: %s", e.Path, e.Op)
	if e.Kind != nil {
		b.WriteString(": " + e.Kind.Error())
	}
	if e.Err != nil && (e.Kind == nil || e.Err.Error() != e.Kind.Error()) {
		b.WriteString(": " + e.Err.Error())
	}
	if h := hint(e.Kind); h != "" {
		b.WriteString(" (" + h + ")")
	}
	return b.String()
}

// Unwrap lets errors.Is see both the kind and the cause.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// hint says what the operator can do about a kind of failure.
func hint(kind error) string {
	switch kind {
	case ErrNotFound:
		return "list ports with `station ports`"
	case ErrPermission:
		return "add your user to the dialout group (Linux: sudo usermod -aG dialout $USER, then log in again)"
	case ErrBusy:
		return "another program has it open: close esptool, idf.py monitor, miniterm or screen, or stop ModemManager"
	case ErrNotSerial:
		return "check the path: list ports with `station ports`"
	case ErrNoControlLines:
		return "a pty or virtual port cannot reset the board: connect without a reset"
	case portio.ErrClosed:
		return "the device went away: check the USB cable and hub"
	}
	return ""
}

// wrap classifies err from operation op on the port at path.
func wrap(path, op string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	return &Error{Path: path, Op: op, Kind: classify(op, err), Err: err}
}

// classify maps go.bug.st/serial and operating-system errors to a kind.
func classify(op string, err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortNotFound:
			return ErrNotFound
		case serial.PermissionDenied:
			return ErrPermission
		case serial.PortBusy:
			return ErrBusy
		case serial.InvalidSerialPort:
			return ErrNotSerial
		case serial.PortClosed:
			return portio.ErrClosed
		case serial.InvalidSpeed, serial.InvalidDataBits, serial.InvalidParity,
			serial.InvalidStopBits, serial.InvalidTimeoutValue:
			return ErrBadSetting
		}
	}
	switch {
	case errors.Is(err, portio.ErrClosed), errors.Is(err, os.ErrClosed), vanished(err),
		strings.Contains(err.Error(), "bad file descriptor"):
		return portio.ErrClosed
	case errors.Is(err, fs.ErrNotExist):
		if op == "open" {
			return ErrNotFound
		}
		return portio.ErrClosed
	case errors.Is(err, fs.ErrPermission):
		if op == "open" {
			return ErrPermission
		}
		// Windows answers I/O on a removed device with access denied.
		return portio.ErrClosed
	case busy(err):
		return ErrBusy
	case notTTY(err):
		if op == "open" {
			return ErrNotSerial
		}
		return ErrNoControlLines
	}
	return nil
}
