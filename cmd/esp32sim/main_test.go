package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	o, err := parseArgs([]string{"--boards", "3", "--chip", "esp32c3", "--timing", "realistic", "--bridge", "ftdi",
		"--fault", "1:nosync", "--fault", "drop=0.01", "--seed", "0x10"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Boards != 3 || o.cfg.Chip != "esp32c3" || o.cfg.Timing.String() != "realistic" || len(o.cfg.Faults) != 2 || o.cfg.Seed != 16 {
		t.Fatalf("%+v", o.cfg)
	}
	for _, bad := range [][]string{{"--boards", "0"}, {"--timing", "slow"}, {"--fault", "frob"}, {"--seed", "x"}, {"extra"}} {
		if _, err := parseArgs(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestRunPrintsAndWritesEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eps.json")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--boards", "2", "--endpoints", path}, strings.NewReader(""), &out, &errb)
	}()
	var eps []map[string]any
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &eps) == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if len(eps) != 2 || !strings.HasPrefix(eps[1]["url"].(string), "rfc2217://") {
		t.Fatalf("%v", eps)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "24:0a:c4:") {
		t.Fatalf("%q", out.String())
	}
}

// lockedBuffer is a bytes.Buffer safe to read while run writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls buf until it contains want or a generous deadline passes.
func waitFor(t *testing.T, buf *lockedBuffer, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %q", want, buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return buf.String()
}

func TestControlStdinSwaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eps.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, feed := io.Pipe()
	var out, errb lockedBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--boards", "2", "--endpoints", path, "--control-stdin"}, in, &out, &errb)
	}()
	first := waitFor(t, &out, "slot 1\t")
	io.WriteString(feed, "swap 1\nstatus 1\nswap 7\nfrob\n")
	got := waitFor(t, &out, "swaps 1\tresets 0\thalted\n")
	waitFor(t, &errb, `unknown command "frob"`)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	feed.Close()
	var oldMAC, newMAC string
	for _, l := range strings.Split(got, "\n") {
		f := strings.Split(l, "\t")
		switch {
		case len(f) == 4 && f[0] == "slot 1":
			oldMAC = f[2]
		case len(f) == 3 && f[0] == "slot 1" && f[1] == "swapped":
			newMAC = f[2]
		}
	}
	if oldMAC == "" || newMAC == "" || oldMAC == newMAC || !strings.Contains(first, oldMAC) {
		t.Fatalf("MAC %q swapped for %q:\n%s", oldMAC, newMAC, got)
	}
	if !strings.Contains(errb.String(), "slot \"7\": want 0..1") {
		t.Fatalf("stderr %q", errb.String())
	}
	var eps []struct {
		Slot int
		MAC  string
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &eps); err != nil || len(eps) != 2 || eps[1].MAC != newMAC {
		t.Fatalf("endpoints after swap %s (%v)", b, err)
	}
}
