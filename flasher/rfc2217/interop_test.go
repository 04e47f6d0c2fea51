package rfc2217

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/portio"
)

// The interop tests run pyserial, the RFC 2217 implementation esptool
// uses, against this package. They need a Python with pyserial and are
// opt-in: FLEETLINE_INTEROP=1 go test -run Interop ./flasher/rfc2217/
// (PYTHON selects the interpreter, default /usr/bin/python3).

func python(t *testing.T) string {
	t.Helper()
	if os.Getenv("FLEETLINE_INTEROP") == "" {
		t.Skip("set FLEETLINE_INTEROP=1 to run against pyserial")
	}
	py := os.Getenv("PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if err := exec.Command(py, "-c", "import serial.rfc2217").Run(); err != nil {
		t.Skipf("%s has no pyserial: %v", py, err)
	}
	return py
}

// pyClient drives a pyserial rfc2217:// client the way esptool does:
// reset-like line changes, a baud change, a purge, then an echo check.
const pyClient = `
import sys, serial
s = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=3)
s.dtr = False
s.rts = True
s.dtr = True
s.rts = False
s.baudrate = 921600
s.reset_input_buffer()
payload = bytes(range(256)) * 2
s.write(payload)
got = s.read(len(payload))
print("echo", "ok" if got == payload else "BAD %d" % len(got))
print("cts", s.cts)
s.close()
`

func TestInteropPyserialClient(t *testing.T) {
	py := python(t)
	host, device := portio.Pipe()
	b := newBenchWith(t, device, Reuse(host))
	go func() { // the board echoes what it gets
		buf := make([]byte, 1024)
		device.SetReadTimeout(time.Hour)
		for {
			n, err := device.Read(buf)
			if err != nil {
				return
			}
			device.Write(buf[:n])
		}
	}()
	script := filepath.Join(t.TempDir(), "client.py")
	os.WriteFile(script, []byte(pyClient), 0o644)
	out, err := exec.Command(py, script, "rfc2217://"+b.addr).CombinedOutput()
	t.Logf("pyserial client:\n%s", out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("echo ok")) {
		t.Error("echo through pyserial failed")
	}
	// pyserial sets DTR and RTS at open (asserted, its default), then
	// the script's four changes and the baud rate, in that order.
	var lines []string
	for _, c := range device.Controls() {
		lines = append(lines, fmt.Sprintf("D%d R%d %d", b2i(c.DTR), b2i(c.RTS), c.Baud))
	}
	got := strings.Join(lines, ", ")
	t.Logf("board saw: %s", got)
	want := "D0 R0 115200, D1 R0 115200, D1 R1 115200, " + // open: baud, DTR, RTS
		"D0 R1 115200, D0 R1 115200, D1 R1 115200, D1 R0 115200, D1 R0 921600"
	if got != want {
		t.Errorf("board saw  %s\nwant       %s", got, want)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestInteropPyserialServer(t *testing.T) {
	py := python(t)
	server := "/usr/share/doc/python3-serial/examples/rfc2217_server.py"
	if _, err := os.Stat(server); err != nil {
		t.Skipf("no pyserial example server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	// loop:// is pyserial's loopback port: what is written is read back.
	cmd := exec.Command(py, "-u", server, "-v", "-p", port, "loop://")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	scanned := make(chan struct{})
	defer func() { cmd.Process.Kill(); <-scanned; cmd.Wait() }()
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			t.Log("server: " + sc.Text())
			if !once && strings.Contains(sc.Text(), "TCP/IP port:") {
				once = true
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("pyserial server did not start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var c *Client
	for c == nil { // it logs the port just before it listens
		c, err = Dial(ctx, "127.0.0.1:"+port, 115200)
		if err != nil && ctx.Err() != nil {
			t.Fatal(err)
		}
	}
	defer c.Close()
	for _, step := range []func() error{
		func() error { return c.SetDTR(false) },
		func() error { return c.SetRTS(true) },
		func() error { return c.SetDTR(true) },
		func() error { return c.SetRTS(false) },
		func() error { return c.SetBaud(921600) },
		c.Flush,
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	payload := allBytes()
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	c.SetReadTimeout(3 * time.Second)
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("echo: % x, %v", got, err)
	}
}

// TestInteropEspRFC2217Server runs this client against Espressif's
// esp_rfc2217_server (from an esptool source tree named by ESPTOOL_SRC)
// serving pyserial's loop:// port. In its default mode that server
// swallows DTR/RTS changes without answering and plays its own reset
// sequence: the client must cope with the missing SET-CONTROL answers.
func TestInteropEspRFC2217Server(t *testing.T) {
	py := python(t)
	src := os.Getenv("ESPTOOL_SRC")
	if src == "" {
		t.Skip("set ESPTOOL_SRC to an esptool source tree to run against esp_rfc2217_server")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	cmd := exec.Command(py, "-u", filepath.Join(src, "esp_rfc2217_server.py"), "-v", "-p", port, "loop://")
	cmd.Dir = src
	c := startAndDial(t, "esp_rfc2217_server", cmd, Dialer{ReplyTimeout: 500 * time.Millisecond}, "127.0.0.1:"+port)
	start := time.Now()
	for _, step := range []func() error{
		// DTR ON would start the server's own reset sequence, which
		// needs a real tty (loop:// breaks); RTS ON/OFF is its hard reset.
		func() error { return c.SetDTR(false) },
		func() error { return c.SetRTS(true) },
		func() error { return c.SetRTS(false) },
		func() error { return c.SetBaud(460800) },
		c.Flush,
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("line changes and baud took %v (one unanswered SET-CONTROL, then no more waits)", time.Since(start))
	payload := allBytes()
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	c.SetReadTimeout(3 * time.Second)
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("echo: %d bytes, %v", len(got), err)
	}
}

// startAndDial starts an RFC 2217 server process, dials it until it
// answers (it takes a moment to listen) and returns the client, closed at
// the end of the test; the process is then killed and its output logged.
func startAndDial(t *testing.T, name string, cmd *exec.Cmd, d Dialer, addr string) *Client {
	t.Helper()
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		t.Logf("%s output:\n%s", name, out)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	for {
		c, err := d.Dial(ctx, addr, 115200)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			t.Logf("connected to %s after %v", name, time.Since(start))
			return c
		}
		if ctx.Err() != nil {
			t.Fatalf("dial %s: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond) // still starting
	}
}
