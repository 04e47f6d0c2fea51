package flasher

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"fleetline/flasher/portio"
	"fleetline/flasher/rfc2217"
	"fleetline/sim/board"
)

// serveBoard puts a virtual board behind an RFC 2217 server on a loopback
// port and returns its rfc2217:// URL.
func serveBoard(t *testing.T, cfg board.Config) (*board.Board, string) {
	t.Helper()
	b, err := board.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rfc2217.Serve(ctx, ln, func() (portio.Port, error) { return b.Open() })
	}()
	t.Cleanup(func() { cancel(); ln.Close(); <-done; b.Close() })
	return b, "rfc2217://" + ln.Addr().String()
}

// TestOpenRFC2217 resets a board through RFC 2217 SET-CONTROL (the classic
// sequence, as over Windows and RFC 2217 ports) and flashes it.
func TestOpenRFC2217(t *testing.T) {
	b, url := serveBoard(t, board.Config{Chip: "esp32c3"})
	ctx := context.Background()
	p, err := Open(ctx, url, 115200)
	if err != nil {
		t.Fatal(err)
	}
	c := New(p, Options{ConnectAttempts: 3, Logf: t.Logf})
	defer c.Close()
	info, err := c.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Reset, "classic") {
		t.Errorf("reset over rfc2217 was %s, want classic", info.Reset)
	}
	ci, err := c.Identify(ctx)
	if err != nil || ci.MAC != b.Identity().MAC {
		t.Fatalf("identify %+v %v", ci, err)
	}
	if err := c.ChangeBaud(ctx, 460800); err != nil {
		t.Fatal(err)
	}
	app := firmware(40_000, 5)
	if _, err := c.WriteRegions(ctx, []Region{{"app", 0x10000, app}}, WriteOptions{Compress: true, Verify: true}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(app))
	b.Flash().ReadAt(got, 0x10000)
	if !bytes.Equal(got, app) {
		t.Fatal("flash differs")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "socket://127.0.0.1:1", 115200); err == nil || !strings.Contains(err.Error(), "socket://127.0.0.1:1") {
		t.Errorf("socket: %v", err)
	}
	// A scheme in capitals still picks the network port, not a device
	// path that does not exist.
	for _, name := range []string{"SOCKET://127.0.0.1:1", "RFC2217://127.0.0.1:1"} {
		if _, err := Open(ctx, name, 115200); err == nil || !strings.Contains(err.Error(), "connect") {
			t.Errorf("%s: %v", name, err)
		}
	}
	saved := OpenSerial
	defer func() { OpenSerial = saved }()
	OpenSerial = nil
	if _, err := Open(ctx, "/dev/ttyNOPE", 115200); !errors.Is(err, ErrNoSerial) {
		t.Errorf("serial: %v", err)
	}
}

// TestOpenNamesThePortOnce: the port's own layer usually names it already;
// Open adds the name only when it did not.
func TestOpenNamesThePortOnce(t *testing.T) {
	saved := OpenSerial
	defer func() { OpenSerial = saved }()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"layer names it", errors.New("serial port /dev/ttyUSB7: open: permission denied"), "serial port /dev/ttyUSB7: open: permission denied"},
		{"layer does not", errors.New("permission denied"), "open /dev/ttyUSB7: permission denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			OpenSerial = func(context.Context, string, int) (portio.Port, error) { return nil, tc.err }
			_, err := Open(context.Background(), "/dev/ttyUSB7", 115200)
			if err == nil || err.Error() != tc.want || !errors.Is(err, tc.err) {
				t.Fatalf("Open = %v, want %q wrapping the port's error", err, tc.want)
			}
		})
	}
}
