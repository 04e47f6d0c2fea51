package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The ports present differ from machine to machine, so these tests check
// the shape of the output and the exit codes, not a particular list.
func TestPortsCommand(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		stdout, stderr, code := runCmd(t, "ports", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var ports []portJSON
		if err := json.Unmarshal([]byte(stdout), &ports); err != nil {
			t.Fatalf("not a JSON array of ports: %v\n%s", err, stdout)
		}
		for _, p := range ports {
			if p.Path == "" {
				t.Errorf("port without a path: %+v", p)
			}
			if (p.VID == "") != (p.PID == "") || len(p.VID) != 0 && len(p.VID) != 4 {
				t.Errorf("VID/PID not a pair of 4-digit hex: %+v", p)
			}
		}
	})
	t.Run("table", func(t *testing.T) {
		stdout, stderr, code := runCmd(t, "ports")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.HasPrefix(stdout, "PATH") && !strings.Contains(stderr, "no serial ports found") {
			t.Fatalf("neither a table nor the no-ports hint:\nstdout: %s\nstderr: %s", stdout, stderr)
		}
	})
	for _, args := range [][]string{{"ports", "extra"}, {"ports", "--bogus"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if _, stderr, code := runCmd(t, args...); code != 2 {
				t.Fatalf("exit %d, want 2: %s", code, stderr)
			}
		})
	}
}

func TestDash(t *testing.T) {
	for in, want := range map[string]string{"": "-", "1A86:7523": "1A86:7523"} {
		if got := dash(in); got != want {
			t.Errorf("dash(%q) = %q, want %q", in, got, want)
		}
	}
}
