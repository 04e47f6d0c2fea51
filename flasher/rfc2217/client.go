package rfc2217

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fleetline/flasher/portio"
)

// DefaultReplyTimeout is how long a client waits for the telnet negotiation
// and for each answer to a COM-PORT command: pyserial's default.
const DefaultReplyTimeout = 3 * time.Second

// DefaultReadTimeout is a new port's read timeout, as for portio.Pipe.
const DefaultReadTimeout = time.Second

// ErrNoReply means the server did not answer a COM-PORT command in time.
var ErrNoReply = errors.New("no answer from the RFC 2217 server")

// ErrNotRFC2217 means the peer refused COM-PORT-OPTION or never negotiated
// it: it is a plain telnet or raw TCP server.
var ErrNotRFC2217 = errors.New("server does not speak RFC 2217")

// ErrRejected means the server answered a COM-PORT command with another
// value than the one asked for (a baud rate it cannot do, a line it cannot
// drive).
var ErrRejected = errors.New("RFC 2217 server rejected the setting")

// Dialer holds the options for connecting to an RFC 2217 server. The zero
// value is ready to use.
type Dialer struct {
	// ReplyTimeout bounds the telnet negotiation and every wait for an
	// answer to a COM-PORT command; zero means DefaultReplyTimeout.
	ReplyTimeout time.Duration
	// IgnoreSetControl sends DTR/RTS changes without waiting for the
	// server's answer (pyserial's ign_set_control).
	IgnoreSetControl bool
}

func (d Dialer) replyTimeout() time.Duration {
	if d.ReplyTimeout > 0 {
		return d.ReplyTimeout
	}
	return DefaultReplyTimeout
}

// Dial connects to an RFC 2217 server at addr ("host:port" or an
// rfc2217:// URL, see ParseURL) and sets the line to baud, 8N1, no flow
// control. DTR and RTS are left as the server holds them (released, for our
// own server): touching them here would make esp_rfc2217_server run its
// reset sequence.
func Dial(ctx context.Context, addr string, baud int) (*Client, error) {
	return Dialer{}.Dial(ctx, addr, baud)
}

// Dial is like the package-level Dial with the dialer's options; options in
// an rfc2217:// URL's query are added to them.
func (d Dialer) Dial(ctx context.Context, addr string, baud int) (*Client, error) {
	if strings.Contains(addr, "://") {
		a, opts, err := ParseURL(addr)
		if err != nil {
			return nil, err
		}
		addr = a
		if d.ReplyTimeout == 0 {
			d.ReplyTimeout = opts.ReplyTimeout
		}
		d.IgnoreSetControl = d.IgnoreSetControl || opts.IgnoreSetControl
	}
	name := Scheme + "://" + addr
	if baud <= 0 {
		return nil, fmt.Errorf("%s: baud %d: must be positive", name, baud)
	}
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: connect: %w", name, ctx.Err())
		}
		return nil, fmt.Errorf("%s: connect: %w (is the server running, e.g. `station serve-port`?)", name, err)
	}
	c := newClient(conn, name, d)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	err = c.start(baud)
	stop()
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", name, ctx.Err())
		}
		return nil, err
	}
	return c, nil
}

// Client is a serial port on an RFC 2217 server. It implements portio.Port
// and portio.Named. A goroutine per client reads the socket, so telnet
// answers are handled even while nobody reads data; it blocks in the
// socket read when idle.
type Client struct {
	conn net.Conn
	name string
	d    Dialer
	in   *portio.Inbox
	rx   *portio.Receiver // read timeout and close state

	wmu sync.Mutex // one socket write at a time

	ctl     sync.Mutex    // one COM-PORT command in flight; guards noAck
	noAck   [256]bool     // commands this server was seen not to answer
	replies chan []byte   // server answers: code, value...
	purging atomic.Bool   // a PURGE-DATA answer is expected
	negMu   sync.Mutex    // guards neg
	neg     negotiator    // telnet option state
	settled chan struct{} // closed when COM-PORT-OPTION is answered
	once    sync.Once     // closes settled
	dec     decoder       // reader goroutine only
	done    chan struct{} // closed when the reader goroutine ends
}

var (
	_ portio.Port  = (*Client)(nil)
	_ portio.Named = (*Client)(nil)
)

func newClient(conn net.Conn, name string, d Dialer) *Client {
	in := portio.NewInbox(0)
	c := &Client{
		conn:    conn,
		name:    name,
		d:       d,
		in:      in,
		rx:      portio.NewReceiver(in, name, DefaultReadTimeout),
		replies: make(chan []byte, 16),
		settled: make(chan struct{}),
		done:    make(chan struct{}),
	}
	c.neg.canLocal = oneOf(optBinary, optSGA, optComPort)
	c.neg.canRemote = oneOf(optBinary, optSGA, optComPort)
	return c
}

// start negotiates the telnet options and the line settings.
func (c *Client) start(baud int) error {
	var out []byte
	c.negMu.Lock()
	for _, opt := range []byte{optBinary, optSGA} {
		out = c.neg.request(out, cmdWILL, opt)
		out = c.neg.request(out, cmdDO, opt)
	}
	out = c.neg.request(out, cmdWILL, optComPort)
	c.negMu.Unlock()
	go c.readLoop()
	if err := c.writeRaw(out); err != nil {
		return fmt.Errorf("%s: telnet negotiation: %w", c.name, err)
	}
	timer := time.NewTimer(c.d.replyTimeout())
	defer timer.Stop()
	select {
	case <-c.settled:
	case <-timer.C:
		return fmt.Errorf("%s: telnet negotiation: no answer to WILL COM-PORT-OPTION within %v: %w (for a raw TCP port use socket://)",
			c.name, c.d.replyTimeout(), ErrNotRFC2217)
	case <-c.done:
		return fmt.Errorf("%s: telnet negotiation: %w (another client may be connected)", c.name, c.failure())
	}
	c.negMu.Lock()
	ok := c.neg.enabled(true, optComPort)
	c.negMu.Unlock()
	if !ok {
		return fmt.Errorf("%s: server answered DONT COM-PORT-OPTION: %w (for a raw TCP port use socket://)", c.name, ErrNotRFC2217)
	}
	if err := c.SetBaud(baud); err != nil {
		return err
	}
	for _, s := range []struct{ code, value byte }{
		{cpSetDataSize, dataSize8}, {cpSetParity, parityNone}, {cpSetStopSize, stopSizeOne},
	} {
		if _, err := c.command(s.code, []byte{s.value}, true, false); err != nil {
			return err
		}
	}
	_, err := c.command(cpSetControl, []byte{ctlNoFlow}, true, true)
	return err
}

// readLoop decodes the socket until it fails or the client is closed.
func (c *Client) readLoop() {
	defer close(c.done)
	buf := make([]byte, 4096)
	h := clientHandler{c}
	for {
		n, err := c.conn.Read(buf)
		if n > 0 {
			c.dec.decode(buf[:n], h)
		}
		if err != nil {
			c.in.Fail(c.lost(err))
			return
		}
	}
}

// lost turns a socket error into the error every later call returns.
func (c *Client) lost(err error) error {
	if c.rx.IsClosed() {
		return c.closedErr()
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: server closed the connection: %w", c.name, portio.ErrClosed)
	}
	return fmt.Errorf("%s: connection lost: %v: %w", c.name, err, portio.ErrClosed)
}

// failure is the reader's final error, once it has stopped.
func (c *Client) failure() error {
	if err := c.in.Err(); err != nil {
		return err
	}
	return c.closedErr()
}

type clientHandler struct{ c *Client }

func (h clientHandler) data(p []byte) { h.c.in.Push(p) }

func (h clientHandler) negotiate(verb, opt byte) {
	c := h.c
	c.negMu.Lock()
	out := c.neg.receive(nil, verb, opt)
	settled := !c.neg.pending(true, optComPort)
	c.negMu.Unlock()
	if settled {
		c.once.Do(func() { close(c.settled) })
	}
	if len(out) > 0 {
		_ = c.writeRaw(out) // a failed write shows up as a read error
	}
}

func (h clientHandler) subneg(p []byte) {
	if p[0] != optComPort || len(p) < 2 {
		return
	}
	code := p[1]
	if code < cpMinServerReply || code > serverOffset+cpMaxClientCode {
		return
	}
	switch code - serverOffset {
	case cpNotifyLine, cpNotifyModem, cpFlowSuspend, cpFlowResume:
		return // status reports: nothing here needs them
	case cpPurgeData:
		// Everything before this answer was received before the
		// server purged: drop it here, in stream order.
		if h.c.purging.Load() {
			h.c.in.Drop()
		}
	}
	r := append([]byte(nil), p[1:]...)
	select {
	case h.c.replies <- r:
	default: // nobody is waiting for that many answers: stale
	}
}

func (h clientHandler) command(byte) {}

// writeRaw sends telnet bytes as they are.
func (c *Client) writeRaw(b []byte) error {
	c.wmu.Lock()
	_, err := c.conn.Write(b)
	c.wmu.Unlock()
	if err == nil {
		return nil
	}
	select {
	case <-c.done:
		return c.failure()
	default:
	}
	if c.rx.IsClosed() {
		return c.closedErr()
	}
	return fmt.Errorf("%s: send: %v: %w", c.name, err, portio.ErrClosed)
}

// Read implements portio.Port.
func (c *Client) Read(p []byte) (int, error) { return c.rx.Read(p) }

// closedErr is the error of a call after Close.
func (c *Client) closedErr() error { return c.rx.ClosedErr() }

// Write implements portio.Port; bytes equal to IAC are doubled on the wire.
func (c *Client) Write(p []byte) (int, error) {
	if c.rx.IsClosed() {
		return 0, c.closedErr()
	}
	if err := c.writeRaw(appendEscaped(make([]byte, 0, len(p)+8), p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SetReadTimeout implements portio.Port. Zero makes Read return at once
// when nothing is buffered; a negative duration waits without limit.
func (c *Client) SetReadTimeout(d time.Duration) error { return c.rx.SetReadTimeout(d) }

// Close implements portio.Port. It closes the connection and waits for the
// reader goroutine.
func (c *Client) Close() error {
	c.rx.Close(func() { c.conn.Close() })
	<-c.done
	return nil
}

// Name implements portio.Named: the rfc2217:// URL.
func (c *Client) Name() string { return c.name }

// ControlLines reports that DTR, RTS and the baud rate reach the device.
func (c *Client) ControlLines() bool { return true }
