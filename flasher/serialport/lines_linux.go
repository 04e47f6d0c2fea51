//go:build linux

package serialport

import (
	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// lines drives DTR and RTS with TIOCMSET, both in one ioctl, which is what
// the "unix-tight" reset needs. go.bug.st/serial does not expose its file
// descriptor, so a second descriptor is opened on the same tty before the
// library takes its exclusive lock; modem-line ioctls act on the device,
// whichever descriptor they come through.
type lines struct{ fd int }

func openLines(path string, _ serial.Port) (*lines, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &lines{fd: fd}, nil
}

// openFirst says openLines must run before serial.Open (see lines).
const openFirst = true

// initialBits is nil: asking go.bug.st/serial to set the lines at open
// would make Open fail on a pty (ENOTTY); they are released right after.
func initialBits() *serial.ModemOutputBits { return nil }

func (l *lines) set(dtr, rts bool) error {
	bits, err := unix.IoctlGetInt(l.fd, unix.TIOCMGET)
	if err != nil {
		return err
	}
	bits &^= unix.TIOCM_DTR | unix.TIOCM_RTS
	if dtr {
		bits |= unix.TIOCM_DTR
	}
	if rts {
		bits |= unix.TIOCM_RTS
	}
	return unix.IoctlSetPointerInt(l.fd, unix.TIOCMSET, bits)
}

func (l *lines) setDTR(v, rts bool) error { return l.set(v, rts) }
func (l *lines) setRTS(v, dtr bool) error { return l.set(dtr, v) }

func (l *lines) close() error { return unix.Close(l.fd) }
