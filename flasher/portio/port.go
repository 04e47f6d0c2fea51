package portio

import (
	"errors"
	"time"
)

// ErrTimeout is returned by Read when the read timeout passed with no byte.
var ErrTimeout = errors.New("read timeout")

// ErrClosed is returned by every call on a port that was closed or whose
// device or connection went away.
var ErrClosed = errors.New("port closed")

// Port is a serial line to one board.
type Port interface {
	// Read returns at least one byte, or ErrTimeout once the read timeout
	// has passed with none, or ErrClosed.
	Read(p []byte) (int, error)
	// Write writes all of p or returns an error.
	Write(p []byte) (int, error)
	// SetDTR and SetRTS drive the modem control lines; true means asserted
	// (0 V on the wire), as pyserial and esptool count it.
	SetDTR(asserted bool) error
	SetRTS(asserted bool) error
	// SetBaud changes the line rate.
	SetBaud(baud int) error
	// SetReadTimeout sets how long Read waits for the first byte.
	SetReadTimeout(d time.Duration) error
	// Flush discards input received but not yet read.
	Flush() error
	// Close releases the port; later calls return ErrClosed.
	Close() error
}

// LineSetter is implemented by ports that can change DTR and RTS in one
// operation (TIOCMSET on POSIX), which the "unix-tight" reset relies on.
type LineSetter interface {
	SetLines(dtr, rts bool) error
}

// Named is implemented by ports that know a human name for themselves
// (a device path, an rfc2217:// URL).
type Named interface {
	Name() string
}

// Control is one change of the control lines or baud rate as seen by the
// device end of a pipe or by a server.
type Control struct {
	At   time.Time // when the change was made
	DTR  bool      // DTR after the change, true = asserted
	RTS  bool      // RTS after the change, true = asserted
	Baud int       // line rate after the change
}
