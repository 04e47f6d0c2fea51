//go:build linux

package rfc2217

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestInteropSer2net runs this client against ser2net (Debian: apt-get
// install ser2net) serving a pty. Opt-in like the pyserial tests.
func TestInteropSer2net(t *testing.T) {
	if os.Getenv("FLEETLINE_INTEROP") == "" {
		t.Skip("set FLEETLINE_INTEROP=1 to run against ser2net")
	}
	bin, err := exec.LookPath("ser2net")
	if err != nil {
		t.Skip("no ser2net")
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	ln.Close()
	cfg := filepath.Join(t.TempDir(), "ser2net.yaml")
	writeErr := os.WriteFile(cfg, []byte(fmt.Sprintf(`connection: &board
  accepter: telnet(rfc2217),tcp,127.0.0.1,%s
  connector: serialdev,%s,115200n81,local
  options:
    kickolduser: true
`, port, tty.Name())), 0o644)
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	c := startAndDial(t, "ser2net", exec.Command(bin, "-n", "-d", "-c", cfg), Dialer{ReplyTimeout: time.Second}, addr)
	step := time.Now()
	if err := c.SetBaud(921600); err != nil {
		t.Errorf("SetBaud: %v", err)
	}
	t.Logf("SetBaud took %v", time.Since(step))
	for _, v := range []bool{false, true, false} {
		s := time.Now()
		if err := c.SetDTR(v); err != nil {
			t.Logf("SetDTR(%v) on a pty through ser2net: %v", v, err)
		}
		t.Logf("SetDTR(%v) took %v", v, time.Since(s))
		s = time.Now()
		if err := c.SetRTS(v); err != nil {
			t.Logf("SetRTS(%v) on a pty through ser2net: %v", v, err)
		}
		t.Logf("SetRTS(%v) took %v", v, time.Since(s))
	}
	t.Logf("baud and six line changes took %v", time.Since(step))
	step = time.Now()
	if err := c.Flush(); err != nil {
		t.Errorf("Flush: %v", err)
	}
	t.Logf("flush took %v", time.Since(step))
	payload := allBytes()
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(ptmx, got); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("pty got % x, %v", got, err)
	}
	if _, err := ptmx.Write(payload); err != nil {
		t.Fatal(err)
	}
	c.SetReadTimeout(3 * time.Second)
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("client got % x, %v", got, err)
	}
}
