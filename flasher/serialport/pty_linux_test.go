//go:build linux

package serialport

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/creack/pty"

	"fleetline/flasher/portio"
)

// A Linux pty stands in for a USB-serial device: Open, data both ways,
// timeouts and a vanishing device can be tested; modem lines cannot, since
// the pty answers their ioctls with ENOTTY.
func openPty(t *testing.T) (*Port, *os.File) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	p, err := Open(tty.Name(), 115200)
	if err != nil {
		t.Fatalf("Open(%s): %v", tty.Name(), err)
	}
	t.Cleanup(func() { p.Close() })
	return p, ptmx
}

func TestPtyData(t *testing.T) {
	p, ptmx := openPty(t)
	want := []byte{0xC0, 0x00, 0x08, 0xFF, 0x0A, 0x0D, 0x03, 0xC0} // raw mode: no ^C, no CR/LF mangling
	if _, err := p.Write(want); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(ptmx, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("master read % x, %v; want % x", got, err, want)
	}
	if _, err := ptmx.Write(want); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(p, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("port read % x, %v; want % x", got, err, want)
	}
	if err := p.SetBaud(921600); err != nil {
		t.Errorf("SetBaud on a pty: %v", err)
	}
	if p.Name() == "" {
		t.Error("no Name")
	}
}

func TestPtyLargeWrite(t *testing.T) {
	p, ptmx := openPty(t)
	want := bytes.Repeat([]byte("0123456789abcdef"), 16<<10) // more than the pty buffer
	done := make(chan error, 1)
	go func() { _, err := p.Write(want); done <- err }()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(ptmx, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("large write arrived damaged: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPtyTimeout(t *testing.T) {
	p, _ := openPty(t)
	if err := p.SetReadTimeout(5 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Read(make([]byte, 4)); n != 0 || !errors.Is(err, portio.ErrTimeout) {
		t.Errorf("Read = %d, %v; want ErrTimeout", n, err)
	}
	if err := p.SetReadTimeout(0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(make([]byte, 4)); !errors.Is(err, portio.ErrTimeout) {
		t.Errorf("Read with zero timeout = %v; want ErrTimeout", err)
	}
}

func TestPtyNoControlLines(t *testing.T) {
	p, _ := openPty(t)
	if p.ControlLines() {
		t.Error("ControlLines = true on a pty")
	}
	for name, err := range map[string]error{
		"SetDTR": p.SetDTR(true), "SetRTS": p.SetRTS(false), "SetLines": p.SetLines(true, true),
	} {
		if !errors.Is(err, ErrNoControlLines) {
			t.Errorf("%s = %v; want ErrNoControlLines", name, err)
		}
	}
}

func TestPtyFlush(t *testing.T) {
	p, ptmx := openPty(t)
	ptmx.Write([]byte("noise"))
	// Wait until the noise is readable, then flush it.
	p.SetReadTimeout(time.Second)
	first := make([]byte, 1)
	if _, err := p.Read(first); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	ptmx.Write([]byte("ok"))
	got := make([]byte, 2)
	if _, err := io.ReadFull(p, got); err != nil || string(got) != "ok" {
		t.Errorf("after Flush read %q, %v", got, err)
	}
}

func TestPtyVanishes(t *testing.T) {
	p, ptmx := openPty(t)
	p.SetReadTimeout(-1)
	ptmx.Close() // the "device" goes away: the slave hangs up
	_, err := p.Read(make([]byte, 4))
	if !errors.Is(err, portio.ErrClosed) {
		t.Fatalf("Read after hangup = %v; want ErrClosed", err)
	}
	t.Logf("vanished: %v", err)
	if _, err := p.Write([]byte("x")); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("Write after hangup = %v; want ErrClosed", err)
	}
}

func TestPtyClose(t *testing.T) {
	p, _ := openPty(t)
	p.SetReadTimeout(-1)
	errc := make(chan error, 1)
	go func() { _, err := p.Read(make([]byte, 1)); errc <- err }()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, portio.ErrClosed) {
		t.Errorf("Read blocked across Close = %v; want ErrClosed", err)
	}
	if err := p.SetDTR(true); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("SetDTR after Close = %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("/dev/does-not-exist-fleetline", 115200); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing device: %v; want ErrNotFound", err)
	}
	f, err := os.CreateTemp(t.TempDir(), "notatty")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Open(f.Name(), 115200); !errors.Is(err, ErrNotSerial) {
		t.Errorf("regular file: %v; want ErrNotSerial", err)
	}
	if _, err := Open("/dev/null", 0); !errors.Is(err, ErrBadSetting) {
		t.Errorf("baud 0: %v; want ErrBadSetting", err)
	}
}
