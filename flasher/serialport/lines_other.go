//go:build !linux

package serialport

import (
	"runtime"

	"go.bug.st/serial"
)

// lines drives DTR and RTS through go.bug.st/serial: one call per line, so
// setting both is two calls (a few microseconds apart).
type lines struct{ sp serial.Port }

func openLines(_ string, sp serial.Port) (*lines, error) { return &lines{sp: sp}, nil }

// openFirst says openLines runs after serial.Open, on its port.
const openFirst = false

// initialBits asks Windows to open with both lines released (it applies
// them with the port settings, so there is no glitch). Elsewhere the lines
// are released right after open, which also works on ptys.
func initialBits() *serial.ModemOutputBits {
	if runtime.GOOS == "windows" {
		return &serial.ModemOutputBits{}
	}
	return nil
}

func (l *lines) set(dtr, rts bool) error {
	if err := l.sp.SetDTR(dtr); err != nil {
		return err
	}
	return l.sp.SetRTS(rts)
}

func (l *lines) setDTR(v, _ bool) error { return l.sp.SetDTR(v) }
func (l *lines) setRTS(v, _ bool) error { return l.sp.SetRTS(v) }

func (l *lines) close() error { return nil }
