//go:build linux

package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/creack/pty"

	"fleetline/flasher/rfc2217"
)

// TestServePortPty serves a pty as if it were a USB-serial device and
// passes bytes both ways through an RFC 2217 client. DTR/RTS cannot be
// checked: a pty answers the modem-line ioctls with ENOTTY.
func TestServePortPty(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve-port", "--port", tty.Name(), "--listen", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var url string
	for url == "" && sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Use it as: station flash --port "); ok {
			url = strings.Fields(rest)[0]
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if url == "" {
		t.Fatalf("serve-port printed no client URL (exit %d)", <-code)
	}

	c, err := rfc2217.Dial(ctx, url, 115200)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("to board\n")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len("to board\n"))
	if _, err := io.ReadFull(ptmx, got); err != nil || string(got) != "to board\n" {
		t.Fatalf("device got %q, %v", got, err)
	}
	if _, err := ptmx.Write([]byte("from board")); err != nil {
		t.Fatal(err)
	}
	got = make([]byte, len("from board"))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "from board" {
		t.Fatalf("client got %q, %v", got, err)
	}
	c.Close()
	cancel()
	if n := <-code; n != 0 {
		t.Fatalf("serve-port exit %d after cancel", n)
	}
}
