package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fleetline/firmware"
	"fleetline/flasher"
	"fleetline/flasher/portio"
	"fleetline/sim/board"
)

func TestParseNum(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"0x10000", 0x10000, true}, {"65536", 65536, true}, {"64k", 64 << 10, true}, {"4M", 4 << 20, true},
		{"0X1000", 0x1000, true}, {"", 0, false}, {"0x", 0, false}, {"12q", 0, false}, {"8192M", 0, false},
	}
	for _, tt := range tests {
		got, err := parseNum(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseNum(%q) = %#x, %v", tt.in, got, err)
		}
	}
}

// simBoard makes the device name "sim0" open a virtual board's port, the
// way a local serial device would be opened.
func simBoard(t *testing.T) (*board.Board, string) {
	t.Helper()
	return simBoardWith(t, board.Config{Chip: "esp32", Seed: 3})
}

// simBoardWith is simBoard with a board configuration of the test's own.
func simBoardWith(t *testing.T, cfg board.Config) (*board.Board, string) {
	t.Helper()
	b, err := board.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	saved := flasher.OpenSerial
	flasher.OpenSerial = func(_ context.Context, name string, _ int) (portio.Port, error) {
		if name != "sim0" {
			return nil, fmt.Errorf("no such device %s", name)
		}
		return b.Open()
	}
	t.Cleanup(func() { flasher.OpenSerial = saved; b.Close() })
	return b, "sim0"
}

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// cmdCase is one command-line run and what it must produce.
type cmdCase struct {
	name   string
	args   []string
	code   int      // exit code
	stdout []string // substrings of stdout
	stderr []string // substrings of stderr
	notOut []string // must not appear in stdout
}

// check runs the case through run(), reports every mismatch and returns
// the outputs for further checks.
func (tc cmdCase) check(t *testing.T) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := runCmd(t, tc.args...)
	if code != tc.code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
	}
	for _, want := range tc.stdout {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, want := range tc.stderr {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, bad := range tc.notOut {
		if strings.Contains(stdout, bad) {
			t.Errorf("stdout shows %q:\n%s", bad, stdout)
		}
	}
	return stdout, stderr
}

func TestBoardCommands(t *testing.T) {
	b, url := simBoard(t)
	dir := t.TempDir()
	app := bytes.Repeat([]byte("fleetline app image "), 5000)
	appFile := filepath.Join(dir, "app.bin")
	if err := os.WriteFile(appFile, app, 0o644); err != nil {
		t.Fatal(err)
	}

	out, errs, code := runCmd(t, "info", "--port", url, "--json")
	if code != 0 {
		t.Fatalf("info: exit %d\n%s", code, errs)
	}
	var info struct {
		Chip string `json:"chip"`
		MAC  string `json:"mac"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.Chip != "esp32" || info.MAC != b.MAC() {
		t.Fatalf("info %q: %v", out, err)
	}

	out, errs, code = runCmd(t, "flash", "--port", url, "--baud", "460800", "0x10000", appFile)
	if code != 0 {
		t.Fatalf("flash: exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, "written, verified") || !strings.Contains(out, "Wrote 100000 bytes") || !strings.Contains(out, "kbit/s effective") {
		t.Fatalf("flash output:\n%s", out)
	}
	if !strings.Contains(errs, "100%") {
		t.Errorf("no progress bar on stderr:\n%s", errs)
	}
	got := make([]byte, len(app))
	b.Flash().ReadAt(got, 0x10000)
	if !bytes.Equal(got, app) {
		t.Fatal("flash content differs")
	}

	out, _, code = runCmd(t, "flash", "--port", url, "0x10000", appFile)
	if code != 0 || !strings.Contains(out, "unchanged, skipped") {
		t.Fatalf("second flash: exit %d\n%s", code, out)
	}

	readFile := filepath.Join(dir, "back.bin")
	if _, errs, code = runCmd(t, "read-flash", "--port", url, "0x10000", "1k", readFile); code != 0 {
		t.Fatalf("read-flash: exit %d\n%s", code, errs)
	}
	if back, _ := os.ReadFile(readFile); !bytes.Equal(back, app[:1024]) {
		t.Fatal("read-flash content differs")
	}

	if _, errs, code = runCmd(t, "erase-region", "--port", url, "0x10000", "0x1000"); code != 0 {
		t.Fatalf("erase-region: exit %d\n%s", code, errs)
	}
	b.Flash().ReadAt(got[:16], 0x10000)
	if !bytes.Equal(got[:16], bytes.Repeat([]byte{0xFF}, 16)) {
		t.Fatal("not erased")
	}

	if _, _, code = runCmd(t, "erase-region", "--port", url, "0x10100", "0x1000"); code != 2 {
		t.Fatalf("unaligned erase: exit %d, want 2", code)
	}
	if _, _, code = runCmd(t, "flash", "--port", url, "0x10000"); code != 2 {
		t.Fatalf("odd flash args: exit %d, want 2", code)
	}
}

func TestFlashRefusesOtherChipsImage(t *testing.T) {
	_, url := simBoard(t) // an ESP32
	c3, _ := firmware.ChipByName("esp32c3")
	img, err := firmware.BuildApp(firmware.AppSpec{Chip: c3, Size: 0x8000})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "c3.bin")
	if err := os.WriteFile(f, img, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := runCmd(t, "flash", "--port", url, "0x10000", f)
	if code != 1 || !strings.Contains(errs, "built for chip_id 5") || !strings.Contains(errs, "--force") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if _, errs, code = runCmd(t, "flash", "--port", url, "--force", "0x10000", f); code != 0 {
		t.Fatalf("--force: exit %d\n%s", code, errs)
	}
}

// TestBoardFlagErrors: bad connection flags are usage errors found before
// the port is touched.
func TestBoardFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"info"}, "--port is required"},
		{[]string{"info", "--port", "/dev/none", "--baud", "0"}, "--baud 0: must be positive"},
		{[]string{"info", "--port", "/dev/none", "--connect-attempts", "0"}, "--connect-attempts 0: want at least 1"},
		{[]string{"info", "--port", "/dev/none", "--before", "soon"}, `unknown --before "soon"`},
		{[]string{"info", "--port", "/dev/none", "--after", "hard-reset"}, "-after"},
		{[]string{"flash", "--port", "/dev/none", "--after", "later", "0", "cmd_flash.go"}, `unknown --after "later"`},
		{[]string{"flash", "--port", "/dev/none", "0x1000"}, "OFFSET FILE pairs"},
		{[]string{"flash", "--port", "/dev/none", "zz", "cmd_flash.go"}, `offset 1: "zz" is not a number`},
		{[]string{"read-flash", "--port", "/dev/none", "0", "zz", "out.bin"}, `size: "zz" is not a number`},
		{[]string{"erase-region", "--port", "/dev/none", "0", "0x1001"}, "must be non-zero multiples of 4 KiB"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runCmd(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
			if strings.Contains(stderr, "Connecting") {
				t.Error("the port was opened before the arguments were checked")
			}
		})
	}
}

// TestReadFlashCutShort: a read that fails part way leaves no file, so a
// partial dump cannot be taken for a whole one.
func TestReadFlashCutShort(t *testing.T) {
	_, port := simBoardWith(t, board.Config{Chip: "esp32", Seed: 3, Faults: board.Faults{UnplugAfterBytes: 6000}})
	out := filepath.Join(t.TempDir(), "dump.bin")
	stdout, stderr, code := runCmd(t, "read-flash", "--port", port, "0", "0x40000", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, want := range []string{"Chip is", "read-flash 0x0+0x40000 into " + out, "partial file was removed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("partial dump left behind: %v", err)
	}
	if _, stderr, code := runCmd(t, "read-flash", "--port", port, "0", "0", out); code != 2 || !strings.Contains(stderr, "size: must be more than 0") {
		t.Errorf("size 0: exit %d, %q", code, stderr)
	}
}
