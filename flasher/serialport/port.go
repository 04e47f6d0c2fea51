package serialport

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.bug.st/serial"

	"fleetline/flasher/portio"
)

// DefaultReadTimeout is a new port's read timeout, as for portio.Pipe.
const DefaultReadTimeout = time.Second

// Port is a local serial device. It implements portio.Port,
// portio.LineSetter and portio.Named.
type Port struct {
	path    string
	sp      serial.Port
	ln      *lines
	mu      sync.Mutex // guards dtr, rts and line changes
	dtr     bool
	rts     bool
	noLines bool // the device has no modem lines (a pty)
	closed  atomic.Bool
}

var (
	_ portio.Port       = (*Port)(nil)
	_ portio.LineSetter = (*Port)(nil)
	_ portio.Named      = (*Port)(nil)
)

// Open opens the serial device at path (/dev/ttyUSB0, a
// /dev/serial/by-path link, COM3) at baud, 8N1, and releases DTR and RTS.
//
// On Linux and macOS the kernel asserts both lines when a tty is opened, so
// they are asserted for the few hundred microseconds until Open releases
// them. On the usual auto-reset circuit asserting both does nothing (the
// transistors cancel out), so the board does not reset; a board wired
// differently may see a short pulse on EN, as with esptool. On Windows the
// port opens with the lines released.
//
// A device without modem lines (a Linux pty) opens fine; SetDTR and SetRTS
// then return ErrNoControlLines and ControlLines reports false.
func Open(path string, baud int) (*Port, error) {
	if baud <= 0 {
		return nil, &Error{Path: path, Op: "open", Kind: ErrBadSetting, Err: fmt.Errorf("baud %d", baud)}
	}
	var ln *lines
	var err error
	if openFirst {
		if ln, err = openLines(path, nil); err != nil {
			return nil, wrap(path, "open", err)
		}
	}
	sp, err := serial.Open(path, &serial.Mode{
		BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit,
		InitialStatusBits: initialBits(),
	})
	if err != nil {
		if ln != nil {
			ln.close()
		}
		return nil, wrap(path, "open", err)
	}
	if !openFirst {
		ln, _ = openLines(path, sp)
	}
	p := &Port{path: path, sp: sp, ln: ln}
	if err := p.SetLines(false, false); err != nil {
		if !errors.Is(err, ErrNoControlLines) {
			p.Close()
			return nil, err
		}
		p.noLines = true
	}
	if err := sp.SetReadTimeout(DefaultReadTimeout); err != nil {
		p.Close()
		return nil, wrap(path, "set read timeout", err)
	}
	return p, nil
}

func (p *Port) closedErr(op string) error {
	return &Error{Path: p.path, Op: op, Kind: portio.ErrClosed}
}

// Read implements portio.Port. go.bug.st/serial's (0, nil) on timeout
// comes out as portio.ErrTimeout.
func (p *Port) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if p.closed.Load() {
		return 0, p.closedErr("read")
	}
	n, err := p.sp.Read(b)
	if err != nil {
		if p.closed.Load() {
			return n, p.closedErr("read")
		}
		return n, wrap(p.path, "read", err)
	}
	if n == 0 {
		return 0, portio.ErrTimeout
	}
	return n, nil
}

// Write implements portio.Port: it loops until all of b is written, since
// a tty write may take only part of it.
func (p *Port) Write(b []byte) (int, error) {
	total := 0
	for len(b) > 0 {
		if p.closed.Load() {
			return total, p.closedErr("write")
		}
		n, err := p.sp.Write(b)
		if n > 0 {
			total += n
			b = b[n:]
		}
		if err != nil {
			if interrupted(err) {
				continue
			}
			return total, wrap(p.path, "write", err)
		}
		if n == 0 {
			return total, wrap(p.path, "write", errors.New("device accepted no bytes"))
		}
	}
	return total, nil
}

// SetDTR implements portio.Port.
func (p *Port) SetDTR(asserted bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.lineCheck("set DTR"); err != nil {
		return err
	}
	if err := p.ln.setDTR(asserted, p.rts); err != nil {
		return wrap(p.path, "set DTR", err)
	}
	p.dtr = asserted
	return nil
}

// SetRTS implements portio.Port.
func (p *Port) SetRTS(asserted bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.lineCheck("set RTS"); err != nil {
		return err
	}
	if err := p.ln.setRTS(asserted, p.dtr); err != nil {
		return wrap(p.path, "set RTS", err)
	}
	p.rts = asserted
	return nil
}

// SetLines implements portio.LineSetter: on Linux one TIOCMSET changes
// both lines at once; elsewhere DTR is set, then RTS.
func (p *Port) SetLines(dtr, rts bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.lineCheck("set DTR and RTS"); err != nil {
		return err
	}
	if err := p.ln.set(dtr, rts); err != nil {
		return wrap(p.path, "set DTR and RTS", err)
	}
	p.dtr, p.rts = dtr, rts
	return nil
}

func (p *Port) lineCheck(op string) error {
	if p.closed.Load() {
		return p.closedErr(op)
	}
	if p.noLines {
		return &Error{Path: p.path, Op: op, Kind: ErrNoControlLines}
	}
	return nil
}

// SetBaud implements portio.Port.
func (p *Port) SetBaud(baud int) error {
	if p.closed.Load() {
		return p.closedErr("set baud")
	}
	if baud <= 0 {
		return &Error{Path: p.path, Op: "set baud", Kind: ErrBadSetting, Err: fmt.Errorf("baud %d", baud)}
	}
	err := p.sp.SetMode(&serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	return wrap(p.path, fmt.Sprintf("set baud %d", baud), err)
}

// SetReadTimeout implements portio.Port. Zero makes Read return at once;
// a negative duration waits without limit. Call it between reads, not
// during one.
func (p *Port) SetReadTimeout(d time.Duration) error {
	if p.closed.Load() {
		return p.closedErr("set read timeout")
	}
	if d < 0 {
		d = serial.NoTimeout
	}
	return wrap(p.path, "set read timeout", p.sp.SetReadTimeout(d))
}

// Flush implements portio.Port: it discards the driver's input buffer.
func (p *Port) Flush() error {
	if p.closed.Load() {
		return p.closedErr("flush")
	}
	return wrap(p.path, "flush", p.sp.ResetInputBuffer())
}

// Close implements portio.Port. A Read blocked in another goroutine
// returns portio.ErrClosed.
func (p *Port) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	err := p.sp.Close()
	if p.ln != nil {
		p.ln.close()
	}
	return wrap(p.path, "close", err)
}

// Name implements portio.Named: the path given to Open.
func (p *Port) Name() string { return p.path }

// ControlLines reports whether DTR and RTS reach the device; false for a
// pty, which cannot reset a board.
func (p *Port) ControlLines() bool { return !p.noLines }
