package netport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"fleetline/flasher/portio"
)

// peer returns a Port dialled to a loopback listener and the server side
// of that connection.
func peer(t *testing.T) (*Port, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	p, err := Dial(context.Background(), "socket://"+ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := <-accepted
	if srv == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { p.Close(); srv.Close() })
	return p, srv
}

func TestParseAddr(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"socket://127.0.0.1:5555", "127.0.0.1:5555", true},
		{"socket://localhost:5555/", "localhost:5555", true},
		{"localhost:5555", "localhost:5555", true},
		{"socket://[::1]:5555", "[::1]:5555", true},
		{"rfc2217://localhost:5555", "", false},
		{"socket://localhost", "", false},
		{"/dev/ttyUSB0", "", false},
	} {
		got, err := ParseAddr(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAddr(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestDataBothWays(t *testing.T) {
	p, srv := peer(t)
	want := []byte{0x00, 0xC0, 0xDB, 0xFF, 0xFF, 0x55}
	if _, err := p.Write(want); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(srv, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("peer got % x, %v", got, err)
	}
	if _, err := srv.Write(want); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(p, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("port got % x, %v", got, err)
	}
	if p.ControlLines() {
		t.Error("ControlLines = true for a socket")
	}
	for _, err := range []error{p.SetDTR(true), p.SetRTS(true), p.SetLines(false, false), p.SetBaud(921600)} {
		if err != nil {
			t.Errorf("control call on an open socket: %v", err)
		}
	}
}

func TestReadTimeout(t *testing.T) {
	p, _ := peer(t)
	p.SetReadTimeout(5 * time.Millisecond)
	if _, err := p.Read(make([]byte, 4)); !errors.Is(err, portio.ErrTimeout) {
		t.Errorf("Read = %v; want ErrTimeout", err)
	}
	p.SetReadTimeout(0)
	if _, err := p.Read(make([]byte, 4)); !errors.Is(err, portio.ErrTimeout) {
		t.Errorf("Read with zero timeout = %v; want ErrTimeout", err)
	}
}

func TestFlushDropsReceived(t *testing.T) {
	p, srv := peer(t)
	noise := []byte("ets Jun  8 2016 00:22:57")
	srv.Write(noise)
	for { // wait until the reader goroutine has all of it
		n := p.in.Buffered()
		if n == len(noise) {
			break
		}
		runtime.Gosched()
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	srv.Write([]byte("ok"))
	got := make([]byte, 2)
	if _, err := io.ReadFull(p, got); err != nil || string(got) != "ok" {
		t.Errorf("after Flush read %q, %v", got, err)
	}
}

func TestPeerCloses(t *testing.T) {
	p, srv := peer(t)
	srv.Write([]byte("bye"))
	srv.Close()
	p.SetReadTimeout(-1)
	got := make([]byte, 3)
	if _, err := io.ReadFull(p, got); err != nil || string(got) != "bye" {
		t.Fatalf("buffered bytes before the close: %q, %v", got, err)
	}
	if _, err := p.Read(got); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("Read after peer close = %v; want ErrClosed", err)
	}
	if err := p.SetDTR(true); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("SetDTR after peer close = %v; want ErrClosed", err)
	}
}

func TestClose(t *testing.T) {
	p, _ := peer(t)
	p.SetReadTimeout(-1)
	errc := make(chan error, 1)
	go func() { _, err := p.Read(make([]byte, 1)); errc <- err }()
	p.Close()
	if err := <-errc; !errors.Is(err, portio.ErrClosed) {
		t.Errorf("blocked Read after Close = %v; want ErrClosed", err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := p.Flush(); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
}

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := Dial(context.Background(), addr); err == nil {
		t.Fatal("Dial to a closed listener succeeded")
	}
}
