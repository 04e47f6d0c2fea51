package rfc2217

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/portio"
)

// Transcripts in testdata/*.txt are byte sequences written from RFC 854,
// 855, 1143 and 2217; each file's header explains its line kinds.

type step struct {
	line int
	kind string // "!", "!err", "C", "S", "+", "="
	args []string
	data []byte
}

func loadTranscript(t *testing.T, name string) []step {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []step
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		s := step{line: n, kind: fields[0], args: fields[1:]}
		switch s.kind {
		case "C", "S", "+":
			s.data = mustHex(t, name, n, s.args)
		case "!", "!err", "=":
		default:
			t.Fatalf("%s:%d: unknown line kind %q", name, n, s.kind)
		}
		steps = append(steps, s)
	}
	return steps
}

func mustHex(t *testing.T, name string, line int, words []string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(words, ""))
	if err != nil {
		t.Fatalf("%s:%d: %v", name, line, err)
	}
	return b
}

// expect reads exactly len(want) bytes from conn and compares.
func expect(t *testing.T, where string, conn net.Conn, want []byte) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(want))
	n, err := io.ReadFull(conn, got)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s: got % x (%v)\nwant       % x", where, got[:n], err, want)
	}
}

// expectNothingMore checks that conn ends without further bytes.
func expectNothingMore(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(conn)
	if len(rest) > 0 || (err != nil && !errors.Is(err, net.ErrClosed)) {
		t.Errorf("unexpected bytes after the transcript: % x (%v)", rest, err)
	}
}

func TestClientTranscripts(t *testing.T) {
	for _, name := range []string{"client_session.txt", "client_refused.txt"} {
		t.Run(name, func(t *testing.T) { runClientTranscript(t, name) })
	}
}

func runClientTranscript(t *testing.T, name string) {
	steps := loadTranscript(t, name)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	var c *Client
	var conn net.Conn
	var pending chan error // the call in flight
	var pendingStep step
	finish := func() {
		if pending == nil {
			return
		}
		err := <-pending
		pending = nil
		where := fmt.Sprintf("%s:%d %s", name, pendingStep.line, strings.Join(pendingStep.args, " "))
		if wantErr := pendingStep.kind == "!err"; wantErr != (err != nil) {
			t.Fatalf("%s: error = %v, want error: %v", where, err, wantErr)
		}
		if err != nil {
			t.Logf("%s: %v (as expected)", where, err)
		}
	}
	for _, s := range steps {
		where := fmt.Sprintf("%s:%d", name, s.line)
		switch s.kind {
		case "!", "!err":
			finish()
			pending, pendingStep = make(chan error, 1), s
			if s.args[0] == "dial" {
				baud, _ := strconv.Atoi(s.args[1])
				go func() {
					var err error
					c, err = Dial(context.Background(), ln.Addr().String(), baud)
					pending <- err
				}()
				if conn, err = ln.Accept(); err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				continue
			}
			call := clientCall(t, where, c, s.args)
			go func() { pending <- call() }()
		case "C":
			expect(t, where, conn, s.data)
		case "S":
			if _, err := conn.Write(s.data); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		}
	}
	finish()
	if c != nil {
		c.Close()
	}
	expectNothingMore(t, conn)
}

// clientCall turns "setdtr 1", "write c0 ff", "read 41" ... into a call.
func clientCall(t *testing.T, where string, c *Client, args []string) func() error {
	t.Helper()
	if c == nil {
		t.Fatalf("%s: no client (dial failed)", where)
	}
	arg := func() int {
		v, err := strconv.Atoi(args[1])
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		return v
	}
	switch args[0] {
	case "setdtr":
		v := arg() == 1
		return func() error { return c.SetDTR(v) }
	case "setrts":
		v := arg() == 1
		return func() error { return c.SetRTS(v) }
	case "setbaud":
		v := arg()
		return func() error { return c.SetBaud(v) }
	case "flush":
		return c.Flush
	case "write":
		data := mustHex(t, where, 0, args[1:])
		return func() error { _, err := c.Write(data); return err }
	case "read":
		want := mustHex(t, where, 0, args[1:])
		return func() error {
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil {
				return err
			}
			if !bytes.Equal(got, want) {
				return fmt.Errorf("read % x, want % x", got, want)
			}
			return nil
		}
	}
	t.Fatalf("%s: unknown call %q", where, args[0])
	return nil
}

func TestServerTranscript(t *testing.T) {
	const name = "server_session.txt"
	steps := loadTranscript(t, name)
	host, device := portio.Pipe()
	b := newBenchWith(t, device, Reuse(host))
	conn, err := net.Dial("tcp", b.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	device.SetReadTimeout(5 * time.Second)
	for _, s := range steps {
		where := fmt.Sprintf("%s:%d", name, s.line)
		switch s.kind {
		case "S":
			expect(t, where, conn, s.data)
		case "C":
			if _, err := conn.Write(s.data); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		case "+":
			if _, err := device.Write(s.data); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		case "=":
			checkBoard(t, where, device, s.args)
		default:
			t.Fatalf("%s: %q lines are for client transcripts", where, s.kind)
		}
	}
	conn.Close()
}

func checkBoard(t *testing.T, where string, device *portio.PipeEnd, args []string) {
	t.Helper()
	switch args[0] {
	case "data":
		want := mustHex(t, where, 0, args[1:])
		got := make([]byte, len(want))
		if _, err := io.ReadFull(device, got); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: board read % x (%v), want % x", where, got, err, want)
		}
	case "lines":
		dtr, rts, baud := device.Lines()
		got := fmt.Sprintf("D%d R%d %d", b2i(dtr), b2i(rts), baud)
		if want := strings.Join(args[1:], " "); got != want {
			t.Fatalf("%s: board lines %s, want %s", where, got, want)
		}
	default:
		t.Fatalf("%s: unknown check %q", where, args[0])
	}
}
