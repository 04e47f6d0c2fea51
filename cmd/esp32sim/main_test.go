package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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
	go func() { done <- run(ctx, []string{"--boards", "2", "--endpoints", path}, &out, &errb) }()
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
