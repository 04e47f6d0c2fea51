package main

import (
	"bufio"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoUnitsSwapsBoards: with --units above --boards the stand-in
// operator swaps each finished board for a new one, and the run builds
// every unit, each a different board with its own SN.
func TestDemoUnitsSwapsBoards(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a virtual line")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	out, errOut, code := runCmd(t, "demo", "--headless", "--boards", "2", "--units", "5", "--timing", "instant", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	macs, sns := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Type   string `json:"type"`
			Result *struct {
				MAC    string `json:"mac"`
				SN     string `json:"sn"`
				Passed bool   `json:"passed"`
			} `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		if ev.Type == "unit_result" && ev.Result != nil && ev.Result.MAC != "" {
			if !ev.Result.Passed {
				t.Errorf("a board failed: %s", sc.Text())
			}
			macs[ev.Result.MAC], sns[ev.Result.SN] = true, true
		}
	}
	if len(macs) != 5 || len(sns) != 5 {
		t.Fatalf("%d boards and %d SNs, want 5 each\n%s", len(macs), len(sns), out)
	}
	if _, errOut, code := runCmd(t, "audit", "verify", "--db", filepath.Join(dir, "audit.db")); code != 0 {
		t.Errorf("audit verify: exit %d\n%s", code, errOut)
	}
}

func TestDemoUnitsBelowBoards(t *testing.T) {
	_, errOut, code := runCmd(t, "demo", "--headless", "--boards", "4", "--units", "2")
	if code != 2 || !strings.Contains(errOut, "--units 2") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
