package netport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"fleetline/flasher/portio"
)

// Scheme is the URL scheme of a raw TCP port, as esptool spells it.
const Scheme = "socket"

// DefaultReadTimeout is a new port's read timeout, as for portio.Pipe.
const DefaultReadTimeout = time.Second

// Port is a raw TCP connection used as a serial port. It implements
// portio.Port, portio.LineSetter and portio.Named.
type Port struct {
	conn net.Conn
	name string
	in   *portio.Inbox
	rx   *portio.Receiver // read timeout and close state
	wmu  sync.Mutex
	done chan struct{} // the reader goroutine has ended
}

var (
	_ portio.Port       = (*Port)(nil)
	_ portio.LineSetter = (*Port)(nil)
	_ portio.Named      = (*Port)(nil)
)

// ParseAddr returns the host:port of "socket://host:port" or "host:port".
func ParseAddr(s string) (string, error) {
	addr := strings.TrimPrefix(s, Scheme+"://")
	if strings.Contains(addr, "://") {
		return "", fmt.Errorf("socket port %q: want socket://host:port", s)
	}
	addr = strings.TrimSuffix(addr, "/")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("socket port %q: want socket://host:port: %w", s, err)
	}
	return addr, nil
}

// Dial connects to addr ("socket://host:port" or "host:port").
func Dial(ctx context.Context, addr string) (*Port, error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	name := Scheme + "://" + a
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", a)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%s: connect: %w", name, ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: connect: %w (is the emulator or board server listening?)", name, err)
	}
	return New(conn, name), nil
}

// New makes a Port of an established connection; name is what Name
// reports. The Port owns conn from then on.
func New(conn net.Conn, name string) *Port {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true) // ROM commands are small: send them now
	}
	in := portio.NewInbox(0)
	p := &Port{conn: conn, name: name, in: in, rx: portio.NewReceiver(in, name, DefaultReadTimeout), done: make(chan struct{})}
	go p.readLoop()
	return p
}

func (p *Port) readLoop() {
	defer close(p.done)
	buf := make([]byte, 4096)
	for {
		n, err := p.conn.Read(buf)
		if n > 0 {
			p.in.Push(buf[:n])
		}
		if err != nil {
			p.in.Fail(p.lost("receive", err))
			return
		}
	}
}

func (p *Port) lost(op string, err error) error {
	if p.rx.IsClosed() {
		return p.closedErr()
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: peer closed the connection: %w", p.name, portio.ErrClosed)
	}
	return fmt.Errorf("%s: %s: %v: %w", p.name, op, err, portio.ErrClosed)
}

// Read implements portio.Port.
func (p *Port) Read(b []byte) (int, error) { return p.rx.Read(b) }

// closedErr is the error of a call after Close.
func (p *Port) closedErr() error { return p.rx.ClosedErr() }

// Write implements portio.Port.
func (p *Port) Write(b []byte) (int, error) {
	if p.rx.IsClosed() {
		return 0, p.closedErr()
	}
	p.wmu.Lock()
	n, err := p.conn.Write(b)
	p.wmu.Unlock()
	if err != nil {
		return n, p.lost("send", err)
	}
	return n, nil
}

func (p *Port) check() error {
	if p.rx.IsClosed() {
		return p.closedErr()
	}
	select {
	case <-p.done:
		return p.in.Err()
	default:
		return nil
	}
}

// SetDTR implements portio.Port; a socket has no DTR line, so it does
// nothing (see ControlLines).
func (p *Port) SetDTR(bool) error { return p.check() }

// SetRTS implements portio.Port; it does nothing.
func (p *Port) SetRTS(bool) error { return p.check() }

// SetLines implements portio.LineSetter; it does nothing.
func (p *Port) SetLines(bool, bool) error { return p.check() }

// SetBaud implements portio.Port; a socket has no line rate, so it does
// nothing.
func (p *Port) SetBaud(int) error { return p.check() }

// SetReadTimeout implements portio.Port. Zero makes Read return at once
// when nothing is buffered; a negative duration waits without limit.
func (p *Port) SetReadTimeout(d time.Duration) error { return p.rx.SetReadTimeout(d) }

// Flush implements portio.Port: it drops what has been received and not
// read.
func (p *Port) Flush() error {
	if p.rx.IsClosed() {
		return p.closedErr()
	}
	p.in.Drop()
	return p.check()
}

// Close implements portio.Port.
func (p *Port) Close() error {
	p.rx.Close(func() { p.conn.Close() })
	<-p.done
	return nil
}

// Name implements portio.Named: the socket:// URL.
func (p *Port) Name() string { return p.name }

// ControlLines reports false: DTR, RTS and baud changes do not reach the
// device, so it cannot be reset from here.
func (p *Port) ControlLines() bool { return false }
