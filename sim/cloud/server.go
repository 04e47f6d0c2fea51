package cloud

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// handshakeTimeout bounds the TLS handshake and the wait for CONNECT.
const handshakeTimeout = 10 * time.Second

// server is the TLS listener and its sessions.
type server struct {
	addr string // the bound address, kept to re-listen after a fault
	tls  *tls.Config

	mu       sync.Mutex
	ln       net.Listener
	sessions map[*session]bool
	wg       sync.WaitGroup
}

// Start listens on addr ("127.0.0.1:0" picks a port) and serves MQTT over
// TLS until ctx is done or Close is called. It returns the endpoint,
// "host:port", that a board's NVS names.
func (c *Cloud) Start(ctx context.Context, addr string) (endpoint string, err error) {
	certCA := c.ca
	cert, key, _, err := certCA.serverCert(c.now(), c.cfg.Hosts)
	if err != nil {
		return "", fmt.Errorf("cloud: server certificate: %w", err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    c.certPool(),
		Time:         c.now,
		MinVersion:   tls.VersionTLS12,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("cloud: listen on %s: %w", addr, err)
	}
	srv := &server{addr: ln.Addr().String(), tls: cfg, ln: ln, sessions: map[*session]bool{}}
	c.mu.Lock()
	if c.srv != nil {
		c.mu.Unlock()
		ln.Close()
		return "", errors.New("cloud: already started")
	}
	c.srv = srv
	c.mu.Unlock()
	srv.wg.Add(1)
	go c.acceptLoop(srv, ln)
	go func() {
		<-ctx.Done()
		c.Close()
	}()
	return srv.addr, nil
}

// Close stops the listener and ends every session.
func (c *Cloud) Close() error {
	c.mu.Lock()
	srv := c.srv
	c.mu.Unlock()
	if srv == nil {
		return ErrNotStarted
	}
	srv.shutdown()
	srv.wg.Wait()
	return nil
}

// SetUnreachable simulates the endpoint going away: true closes the
// listener (connections are refused) and drops every session; false listens
// again on the same address.
func (c *Cloud) SetUnreachable(down bool) error {
	c.mu.Lock()
	srv := c.srv
	c.mu.Unlock()
	if srv == nil {
		return ErrNotStarted
	}
	if down {
		srv.shutdown()
		return nil
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", srv.addr)
	if err != nil {
		return fmt.Errorf("cloud: listen again on %s: %w", srv.addr, err)
	}
	srv.ln = ln
	srv.wg.Add(1)
	go c.acceptLoop(srv, ln)
	return nil
}

func (s *server) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for sess := range s.sessions {
		sess.conn.Close()
	}
}

func (c *Cloud) acceptLoop(srv *server, ln net.Listener) {
	defer srv.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		srv.wg.Add(1)
		go func() {
			defer srv.wg.Done()
			c.serveConn(srv, conn)
		}()
	}
}

// serveConn runs the TLS handshake, identifies the client certificate and
// hands over to the MQTT session.
func (c *Cloud) serveConn(srv *server, raw net.Conn) {
	conn := tls.Server(raw, srv.tls)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := conn.Handshake(); err != nil {
		c.logEvent(Event{Op: "connect", Err: "TLS handshake: " + err.Error()})
		return
	}
	_ = conn.SetDeadline(time.Time{})
	peer := conn.ConnectionState().PeerCertificates[0]
	sess := &session{cloud: c, conn: conn, certID: certID(peer.Raw), subs: map[string]byte{}}
	if !srv.track(sess, true) {
		return
	}
	defer srv.track(sess, false)
	sess.run(srv)
}

// track adds or removes a session; adding fails once the server is down.
func (s *server) track(sess *session, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.sessions, sess)
		return true
	}
	if s.ln == nil {
		return false
	}
	s.sessions[sess] = true
	return true
}

// takeOver closes other sessions with the same client ID, as AWS IoT
// disconnects the older connection.
func (s *server) takeOver(sess *session, clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess.clientID = clientID
	for other := range s.sessions {
		if other != sess && other.clientID == sess.clientID {
			other.conn.Close()
		}
	}
}
