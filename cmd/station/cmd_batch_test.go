package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fleetline/batch"
	"fleetline/firmware"
	"fleetline/sim/board"
	"fleetline/sim/cloud"
	"fleetline/sim/factoryapp"
	"fleetline/sim/line"
	"fleetline/station/audit"
)

// batchLine writes a batch manifest, its bundle and claim into a temp dir
// and starts a virtual line of n boards; it returns the manifest path and
// the --slots value; the claim is valid [notBefore, notAfter).
func batchLine(t *testing.T, n int, appF map[int]factoryapp.Faults, notBefore, notAfter time.Time) (string, string) {
	t.Helper()
	dir := t.TempDir()
	c, err := cloud.New(cloud.Config{})
	mustOK(t, err)
	mustOK(t, c.CreateTemplate(cloud.Template{Name: "CmdT", Active: true, Parameters: []string{"SerialNumber"}, ThingNamePattern: "{SerialNumber}"}))
	claim, key, err := c.CreateClaimWindow("CmdT", notBefore, notAfter)
	mustOK(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	endpoint, err := c.Start(ctx, "127.0.0.1:0")
	mustOK(t, err)
	t.Cleanup(func() { cancel(); c.Close() })
	mustOK(t, firmware.WriteExampleBundle(dir, firmware.AppSpec{Chip: firmware.ChipESP32, Version: "2.0.0"}))
	files := map[string][]byte{"claim.crt": claim, "claim.key": key, "ca.pem": c.RootCAPEM(),
		"batch.toml": []byte(fmt.Sprintf(`batch = "CMD-1"
product = "p"
bundle = "bundle.toml"
quantity = 10
station = "cmd-st"
[serial]
template = "C{seq:05}"
start = 1
end = 100
[claim]
cert = "claim.crt"
key = "claim.key"
template = "CmdT"
endpoint = %q
[device]
ca_bundle = "ca.pem"
[retry]
max_attempts = 1
`, endpoint))}
	for name, data := range files {
		mustOK(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
	}
	ca := c.RootCAPEM()
	l, err := line.Start(context.Background(), line.Config{Boards: n, App: func(i int) board.App {
		return factoryapp.New(factoryapp.Config{Seed: uint64(i + 1), RootCAPEM: ca, Faults: appF[i]})
	}})
	mustOK(t, err)
	t.Cleanup(func() { l.Close() })
	eps := filepath.Join(dir, "endpoints.json")
	mustOK(t, line.WriteEndpoints(eps, l.Endpoints()))
	return filepath.Join(dir, "batch.toml"), "endpoints:" + eps
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func runStation(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBatchConfigErrorsExit2(t *testing.T) {
	now := time.Now()
	manifest, slots := batchLine(t, 1, nil, now.Add(-48*time.Hour), now.Add(-time.Hour))
	bad := filepath.Join(filepath.Dir(manifest), "bad.toml")
	data, _ := os.ReadFile(manifest)
	mustOK(t, os.WriteFile(bad, append([]byte("qantity = 3\n"), data...), 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no manifest", []string{"batch", "--slots", slots}, "--manifest is required"},
		{"unknown key", []string{"batch", "--manifest", bad, "--slots", slots}, `line 1: unknown key "qantity"`},
		{"no slots", []string{"batch", "--manifest", manifest}, "no slots"},
		{"expired claim", []string{"batch", "--manifest", manifest, "--slots", slots}, "claim_expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runStation(tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestBatchAndRetestHeadless(t *testing.T) {
	now := time.Now()
	manifest, slots := batchLine(t, 2, map[int]factoryapp.Faults{1: {FailTest: "wifi_rssi"}}, now.Add(-time.Hour), now.Add(48*time.Hour))
	code, stdout, stderr := runStation("batch", "--manifest", manifest, "--slots", slots, "--count", "2", "--json", "--operator", "op-9")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (one board fails)\n%s\n%s", code, stdout, stderr)
	}
	var passed, failed int
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	for _, l := range lines {
		var ev struct {
			Type   string `json:"type"`
			Result *struct {
				Passed bool   `json:"passed"`
				Reason string `json:"reason"`
			} `json:"result"`
		}
		mustOK(t, json.Unmarshal([]byte(l), &ev))
		if ev.Type == "unit_result" {
			if ev.Result.Passed {
				passed++
			} else if ev.Result.Reason == "test_out_of_limits" {
				failed++
			}
		}
	}
	if passed != 1 || failed != 1 || !strings.Contains(lines[len(lines)-1], `"type":"summary"`) {
		t.Errorf("%d passed, %d failed; last line %s", passed, failed, lines[len(lines)-1])
	}
	// The QA station passes the good board and fails the one that never
	// provisioned (its factory data still holds the claim).
	code, stdout, stderr = runStation("retest", "--manifest", manifest, "--slots", slots, "--count", "2", "--read-nvs")
	if code != 1 || !strings.Contains(stdout, "PASS") || !strings.Contains(stdout, "FAIL") {
		t.Errorf("retest exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr := runStation("retest", "--manifest", manifest, "--slots", slots, "--rework", "--read-nvs"); code != 2 {
		t.Errorf("retest --rework --read-nvs: exit %d %s", code, stderr)
	}
}

// TestBatchInterruptedExit3: an interrupt (the context main cancels on
// SIGINT) stops the run gracefully — the boards in flight finish and are
// recorded — and the exit code is 3.
func TestBatchInterruptedExit3(t *testing.T) {
	now := time.Now()
	manifest, slots := batchLine(t, 2, nil, now.Add(-time.Hour), now.Add(48*time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		var errb bytes.Buffer
		code := run(ctx, []string{"batch", "--manifest", manifest, "--slots", slots, "--json"}, pw, &errb)
		pw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var results int
	var last string
	for sc.Scan() {
		last = sc.Text()
		if strings.Contains(last, `"type":"unit_result"`) {
			if results++; results == 1 {
				cancel() // SIGINT
			}
		}
	}
	if code := <-done; code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	if results < 1 || !strings.Contains(last, `"interrupted":true`) {
		t.Errorf("%d results, last line %s", results, last)
	}
	// Whatever was in flight was recorded to its end.
	st, err := audit.Open(filepath.Join(filepath.Dir(manifest), "fleetline.db"), audit.Options{ReadOnly: true})
	mustOK(t, err)
	defer st.Close()
	p, err := st.BatchProgress(context.Background(), "CMD-1")
	mustOK(t, err)
	if p.InProgress != 0 || p.Reserved+p.Confirmed != int64(results) {
		t.Errorf("audit after the interrupt: %+v, %d results", p, results)
	}
}

func TestBatchReadableLines(t *testing.T) {
	now := time.Now()
	manifest, slots := batchLine(t, 1, nil, now.Add(-time.Hour), now.Add(48*time.Hour))
	code, stdout, stderr := runStation("batch", "--manifest", manifest, "--slots", slots, "--count", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{" S01 PASS sn=C00001 mac=", "summary: 1 passed, 0 failed in this run; batch 1/10 passed, 9 remaining", "slot S01"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	t.Log("\n" + stdout)
}

func TestAuditBatchUnreadableManifest(t *testing.T) {
	gone := filepath.Join(t.TempDir(), "gone.toml")
	_, err := auditBatch(&batch.Manifest{Path: gone}, nil)
	if err == nil || !strings.Contains(err.Error(), gone) {
		t.Fatalf("auditBatch with a missing manifest: err %v; want one naming %s", err, gone)
	}
}
