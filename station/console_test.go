package station

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/portio"
)

func TestPortConsoleLines(t *testing.T) {
	host, dev := portio.Pipe()
	con, err := NewPortConsole(host)
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	// Lines arrive in pieces, with CRLF and LF endings and an empty line.
	for _, chunk := range []string{"I (12) boot: ", "ok\r\n@FCT1 {", "\"type\":\"hello\"} *0\n", "\n", "last\n"} {
		if _, err := dev.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	var got []string
	for range 4 {
		l, err := con.ReadLine(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	if want := []string{"I (12) boot: ok", `@FCT1 {"type":"hello"} *0`, "", "last"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
	if err := con.WriteLine(ctx, []byte("to board\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	dev.SetReadTimeout(time.Second)
	n, _ := dev.Read(buf)
	if string(buf[:n]) != "to board\n" {
		t.Errorf("board got %q", buf[:n])
	}

	// A cancelled context ends a read promptly; a closed port is ErrClosed.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := con.ReadLine(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: %v", err)
	}
	dev.Close()
	if _, err := con.ReadLine(ctx); !errors.Is(err, portio.ErrClosed) {
		t.Errorf("read after the board went away: %v", err)
	}
}
