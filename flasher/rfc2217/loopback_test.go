package rfc2217

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"fleetline/flasher/portio"
)

// bench is a server on a loopback listener with a portio.Pipe behind it:
// the server drives the pipe's host end, the test plays the board on the
// device end.
type bench struct {
	addr   string
	device *portio.PipeEnd
	cancel context.CancelFunc
	done   chan error
}

func newBench(t *testing.T) *bench {
	t.Helper()
	host, device := portio.Pipe()
	return newBenchWith(t, device, Reuse(host))
}

// newBenchB is newBench for benchmarks.
func newBenchB(tb testing.TB) *bench {
	host, device := portio.Pipe()
	return newBenchWith(tb, device, Reuse(host))
}

func newBenchWith(t testing.TB, device *portio.PipeEnd, open func() (portio.Port, error)) *bench {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &bench{addr: ln.Addr().String(), device: device, cancel: cancel, done: make(chan error, 1)}
	srv := &Server{Open: open}
	if _, ok := t.(*testing.T); ok {
		srv.Logf = t.Logf
	}
	go func() { b.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-b.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		device.Close()
	})
	return b
}

func (b *bench) dial(t *testing.T) *Client {
	t.Helper()
	c, err := Dial(context.Background(), b.addr, 115200)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readN reads exactly n bytes from r (a Port), failing on any error.
func readN(t *testing.T, r io.Reader, n int) []byte {
	t.Helper()
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return buf
}

// allBytes is every byte value, IAC included, twice.
func allBytes() []byte {
	var p []byte
	for i := range 512 {
		p = append(p, byte(i))
	}
	return append(p, 0xFF, 0xFF, 0xFF)
}

func TestLoopbackData(t *testing.T) {
	b := newBench(t)
	c := b.dial(t)
	want := allBytes()

	if _, err := c.Write(want); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, b.device, len(want)); !bytes.Equal(got, want) {
		t.Errorf("device got % x\nwant % x", got, want)
	}

	if _, err := b.device.Write(want); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, c, len(want)); !bytes.Equal(got, want) {
		t.Errorf("client got % x\nwant % x", got, want)
	}
	if c.Name() != "rfc2217://"+b.addr {
		t.Errorf("Name = %q", c.Name())
	}
}

func TestLoopbackControlsInOrder(t *testing.T) {
	b := newBench(t)
	c := b.dial(t)
	steps := []struct {
		do   func() error
		want portio.Control
	}{
		{func() error { return c.SetDTR(false) }, portio.Control{DTR: false, RTS: false, Baud: 115200}},
		{func() error { return c.SetRTS(true) }, portio.Control{DTR: false, RTS: true, Baud: 115200}},
		{func() error { return c.SetDTR(true) }, portio.Control{DTR: true, RTS: true, Baud: 115200}},
		{func() error { return c.SetRTS(false) }, portio.Control{DTR: true, RTS: false, Baud: 115200}},
		{func() error { return c.SetBaud(921600) }, portio.Control{DTR: true, RTS: false, Baud: 921600}},
		{func() error { return c.SetDTR(false) }, portio.Control{DTR: false, RTS: false, Baud: 921600}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatal(err)
		}
	}
	got := b.device.Controls()
	// The first record is Dial's SET-BAUDRATE 115200.
	if len(got) != len(steps)+1 || got[0].Baud != 115200 {
		t.Fatalf("controls = %+v", got)
	}
	for i, s := range steps {
		g := got[i+1]
		g.At = time.Time{}
		if g != s.want {
			t.Errorf("control %d = %+v, want %+v", i, g, s.want)
		}
		// Each change was applied before the client's call returned,
		// so the board's timestamps follow the client's.
		if got[i+1].At.Before(got[i].At) {
			t.Errorf("control %d recorded before control %d", i+1, i)
		}
	}
}

func TestLoopbackFlush(t *testing.T) {
	b := newBench(t)
	c := b.dial(t)
	// The noise is written in one piece, so once its first byte has
	// reached the client the rest waits in the client's buffer.
	if _, err := b.device.Write([]byte("boot noise\xff")); err != nil {
		t.Fatal(err)
	}
	readN(t, c, 1)
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.device.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, c, 2); string(got) != "ok" {
		t.Errorf("after Flush read %q, want \"ok\"", got)
	}
}

func TestLoopbackReadTimeout(t *testing.T) {
	b := newBench(t)
	c := b.dial(t)
	if err := c.SetReadTimeout(5 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := c.Read(buf); !errors.Is(err, portio.ErrTimeout) || n != 0 {
		t.Errorf("Read = %d, %v; want ErrTimeout", n, err)
	}
	if err := c.SetReadTimeout(0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(buf); !errors.Is(err, portio.ErrTimeout) {
		t.Errorf("Read with zero timeout: %v; want ErrTimeout", err)
	}
}

func TestLoopbackPortVanishes(t *testing.T) {
	b := newBench(t)
	c := b.dial(t)
	if err := c.SetReadTimeout(-1); err != nil {
		t.Fatal(err)
	}
	b.device.Close() // the board's cable is pulled: the server drops us
	buf := make([]byte, 8)
	_, err := c.Read(buf)
	if !errors.Is(err, portio.ErrClosed) {
		t.Fatalf("Read after the port vanished: %v; want ErrClosed", err)
	}
	if _, err := c.Write([]byte("x")); err != nil && !errors.Is(err, portio.ErrClosed) {
		t.Errorf("Write after loss: %v; want ErrClosed", err)
	}
	if err := c.SetDTR(true); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("SetDTR after loss: %v; want ErrClosed", err)
	}
}

func TestLoopbackServerGoesAway(t *testing.T) {
	b := newBench(t)
	c := b.dial(t)
	b.cancel() // the server shuts down mid-session
	if err := c.SetReadTimeout(-1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, portio.ErrClosed) {
		t.Fatalf("Read: %v; want ErrClosed", err)
	}
}

func TestLoopbackClosedClient(t *testing.T) {
	b := newBench(t)
	c := b.dial(t)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := c.SetBaud(9600); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("SetBaud after Close: %v", err)
	}
}

func TestLoopbackOneClientAtATime(t *testing.T) {
	b := newBench(t)
	c := b.dial(t)
	if _, err := Dial(context.Background(), b.addr, 115200); err == nil {
		t.Fatal("second client was accepted while the first is connected")
	} else {
		t.Logf("second client: %v", err)
	}
	// The first session is unaffected, and after it ends the port is
	// lent to the next client with the board's output still flowing.
	if _, err := c.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	readN(t, b.device, 1)
	c.Close()
	var c2 *Client
	for c2 == nil { // the server frees the slot once it sees the close
		var err error
		if c2, err = Dial(context.Background(), b.addr, 115200); err != nil {
			t.Logf("redial: %v", err)
			c2 = nil
			time.Sleep(time.Millisecond)
		}
	}
	defer c2.Close()
	if _, err := b.device.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, c2, 2); string(got) != "hi" {
		t.Errorf("second session read %q", got)
	}
}

func TestDialURL(t *testing.T) {
	b := newBench(t)
	c, err := Dial(context.Background(), "rfc2217://"+b.addr+"?ign_set_control&timeout=1", 115200)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.d.IgnoreSetControl || c.d.ReplyTimeout != time.Second {
		t.Errorf("options not applied: %+v", c.d)
	}
	if err := c.SetRTS(true); err != nil {
		t.Fatal(err)
	}
}

func TestDialCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // a server that accepts and never answers
		conn, err := ln.Accept()
		if err == nil {
			defer conn.Close()
			io.Copy(io.Discard, conn)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	_, err = Dial(ctx, ln.Addr().String(), 115200)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Dial = %v; want context.Canceled", err)
	}
}

// noLines is a port without modem lines, like a pty.
type noLines struct{ portio.Port }

var errNoLines = errors.New("no modem lines")

func (noLines) SetDTR(bool) error { return errNoLines }
func (noLines) SetRTS(bool) error { return errNoLines }

func TestLoopbackPortWithoutLines(t *testing.T) {
	host, device := portio.Pipe()
	b := newBenchWith(t, device, func() (portio.Port, error) { return noLines{host}, nil })
	c := b.dial(t)
	// Acknowledged so that clients carry on, as they do on a local pty.
	if err := c.SetDTR(true); err != nil {
		t.Errorf("SetDTR: %v", err)
	}
	if err := c.SetRTS(true); err != nil {
		t.Errorf("SetRTS: %v", err)
	}
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	readN(t, b.device, 1)
}
