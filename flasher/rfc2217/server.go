package rfc2217

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"fleetline/flasher/portio"
)

// idleReadTimeout is the read timeout a server sets on the port it serves.
// The goroutine copying port to network blocks in Read that long, so an idle
// session wakes once an hour, not in a polling loop.
const idleReadTimeout = time.Hour

// defaultServerBaud is what a server reports before any SET-BAUDRATE.
const defaultServerBaud = 115200

// Server serves a port over RFC 2217, one client connection at a time per
// listener. A second client that connects while one is served is refused:
// its connection is closed at once, which the client reports as the server
// closing the connection during negotiation (esp_rfc2217_server, which also
// serves one client, lets it wait unanswered instead).
type Server struct {
	// Open returns the port for a new client session. The session closes
	// it when the client leaves; wrap a port that must outlive sessions
	// with Reuse.
	Open func() (portio.Port, error)
	// Baud is the port's rate when a session starts, reported to clients
	// that only ask (SET-BAUDRATE 0); zero means 115200.
	Baud int
	// Logf, if set, receives a line per session event and per command a
	// port refused.
	Logf func(format string, args ...any)
}

// Serve serves the ports open returns on ln until ctx is cancelled (then it
// returns nil) or ln fails. See Server.
func Serve(ctx context.Context, ln net.Listener, open func() (portio.Port, error)) error {
	return (&Server{Open: open}).Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx is cancelled (it returns nil
// after closing ln and ending the session in progress) or Accept fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var busy atomic.Bool
	var wg sync.WaitGroup
	defer wg.Wait()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("rfc2217 server %s: accept: %w", ln.Addr(), err)
			}
			// Out of file descriptors and the like: wait, then go on
			// serving rather than dropping every board of a line.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logf("rfc2217 server %s: accept: %v; retrying in %v", ln.Addr(), err, backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-ctx.Done():
				return nil
			}
		}
		backoff = 0
		if !busy.CompareAndSwap(false, true) {
			s.logf("rfc2217 server %s: refused %s: another client is connected", ln.Addr(), conn.RemoteAddr())
			conn.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer busy.Store(false)
			s.session(ctx, conn)
		}()
	}
}

// session opens the port for one connection and serves it.
func (s *Server) session(ctx context.Context, conn net.Conn) {
	peer := conn.RemoteAddr()
	if s.Open == nil {
		s.logf("rfc2217 server: %s: no port to serve (Server.Open is nil)", peer)
		conn.Close()
		return
	}
	p, err := s.Open()
	if err != nil {
		s.logf("rfc2217 server: %s: open port: %v", peer, err)
		conn.Close()
		return
	}
	s.logf("rfc2217 server: %s connected", peer)
	err = s.ServeConn(ctx, conn, p)
	if err != nil {
		s.logf("rfc2217 server: %s: %v", peer, err)
	}
	s.logf("rfc2217 server: %s disconnected", peer)
}

// ServeConn serves one client connection over p until the client leaves,
// the port goes away or ctx is cancelled. It closes both conn and p. A
// client that disconnects is not an error.
func (s *Server) ServeConn(ctx context.Context, conn net.Conn, p portio.Port) error {
	ss := &session{srv: s, conn: conn, port: p, baud: s.Baud}
	if ss.baud <= 0 {
		ss.baud = defaultServerBaud
	}
	ss.neg.canLocal = oneOf(optBinary, optSGA, optEcho, optComPort)
	ss.neg.canRemote = oneOf(optBinary, optSGA, optComPort)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := p.SetReadTimeout(idleReadTimeout); err != nil {
		conn.Close()
		p.Close()
		return fmt.Errorf("set port read timeout: %w", err)
	}
	// The opening esp_rfc2217_server (pyserial's PortManager) sends; its
	// clients expect the server to offer COM-PORT-OPTION first.
	var out []byte
	out = ss.neg.request(out, cmdWILL, optEcho)
	out = ss.neg.request(out, cmdWILL, optSGA)
	out = ss.neg.request(out, cmdDO, optBinary)
	out = ss.neg.request(out, cmdWILL, optComPort)
	ss.send(out)

	outErr := make(chan error, 1)
	go func() { outErr <- ss.portToNet() }()
	inErr := ss.netToPort()
	conn.Close()
	p.Close()
	return errors.Join(inErr, <-outErr)
}

// session is one client connection.
type session struct {
	srv  *Server
	conn net.Conn
	port portio.Port
	wmu  sync.Mutex // one socket write at a time

	// Used by the network-reading goroutine only.
	neg         negotiator
	dec         decoder
	dtr, rts    bool
	baud        int
	notified    bool  // the initial NOTIFY-MODEMSTATE was sent
	linesWarned bool  // a DTR/RTS failure was logged
	portErr     error // the port failed; the session ends

	// purges counts PURGE-DATA commands, changed with wmu held. Bytes
	// the port gave before a purge but not yet sent are dropped rather
	// than sent after the purge's answer.
	purges atomic.Uint64
}

// send writes telnet bytes; a failure closes the connection, which ends
// the network-reading loop.
func (ss *session) send(b []byte) {
	if len(b) == 0 {
		return
	}
	ss.wmu.Lock()
	_, err := ss.conn.Write(b)
	ss.wmu.Unlock()
	if err != nil {
		ss.conn.Close()
	}
}

// portToNet copies port input to the client, escaping IAC.
func (ss *session) portToNet() error {
	buf := make([]byte, 4096)
	var out []byte
	for {
		n, err := ss.port.Read(buf)
		gen := ss.purges.Load()
		if n > 0 {
			out = appendEscaped(out[:0], buf[:n])
			var werr error
			ss.wmu.Lock()
			if ss.purges.Load() == gen {
				_, werr = ss.conn.Write(out)
			}
			ss.wmu.Unlock()
			if werr != nil {
				ss.conn.Close()
				return nil // the client went away
			}
		}
		switch {
		case err == nil, errors.Is(err, portio.ErrTimeout):
		case errors.Is(err, portio.ErrClosed):
			ss.conn.Close()
			return nil
		default:
			ss.conn.Close()
			return fmt.Errorf("read port: %w", err)
		}
	}
}

// netToPort decodes the client's bytes into port writes and commands, in
// the order they arrive, until the connection ends.
func (ss *session) netToPort() error {
	buf := make([]byte, 4096)
	h := serverHandler{ss}
	for {
		n, err := ss.conn.Read(buf)
		if n > 0 {
			ss.dec.decode(buf[:n], h)
		}
		if ss.portErr != nil {
			if errors.Is(ss.portErr, portio.ErrClosed) {
				return nil
			}
			return ss.portErr
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("read connection: %w", err)
		}
	}
}

// fail records a port failure and ends the session.
func (ss *session) fail(err error) {
	if ss.portErr == nil {
		ss.portErr = err
	}
	ss.conn.Close()
}

type serverHandler struct{ ss *session }

func (h serverHandler) data(p []byte) {
	if h.ss.portErr != nil {
		return
	}
	if _, err := h.ss.port.Write(p); err != nil {
		h.ss.fail(fmt.Errorf("write port: %w", err))
	}
}

func (h serverHandler) negotiate(verb, opt byte) {
	ss := h.ss
	out := ss.neg.receive(nil, verb, opt)
	if !ss.notified && (ss.neg.enabled(true, optComPort) || ss.neg.enabled(false, optComPort)) {
		// Like pyserial's server: one modem-state report once the
		// client speaks RFC 2217, so its CTS/DSR getters have a value.
		ss.notified = true
		out = appendComPort(out, serverOffset+cpNotifyModem, 0)
	}
	ss.send(out)
}

func (h serverHandler) subneg(p []byte) {
	if p[0] != optComPort || len(p) < 2 {
		return
	}
	h.ss.comPort(p[1], p[2:])
}

func (h serverHandler) command(byte) {}

func (ss *session) logf(format string, args ...any) {
	ss.srv.logf("rfc2217 server: %s: "+format, append([]any{ss.conn.RemoteAddr()}, args...)...)
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}
