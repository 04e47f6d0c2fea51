package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"

	"fleetline/sim/board"
	"fleetline/sim/cloud"
)

// screen is the real program in a pseudo-terminal, its output parsed by
// a terminal emulator, so the test reads what an operator would see.
type screen struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	vt   vt10x.Terminal
	mu   sync.Mutex
	done chan struct{}
	err  error
}

// buildStation compiles this command into dir.
func buildStation(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "station")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build station: %v\n%s", err, out)
	}
	return bin
}

func startScreen(t *testing.T, bin string, cols, rows int, args ...string) *screen {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = colourTerminalEnv()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		t.Fatalf("start in a pty: %v", err)
	}
	s := &screen{t: t, cmd: cmd, pty: f, vt: vt10x.New(vt10x.WithWriter(f), vt10x.WithSize(cols, rows)), done: make(chan struct{})}
	go func() {
		r := bufio.NewReader(f)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				s.mu.Lock()
				_, _ = s.vt.Write(buf[:n])
				s.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Kill()
			<-s.done
		}
		f.Close()
	})
	return s
}

// colourTerminalEnv is this process's environment as a 256-colour
// terminal would have it: whatever asked the runner for no colour
// (NO_COLOR, CLICOLOR=0, a dumb TERM, CI — which termenv reads as "not a
// terminal") is dropped, so the colour checks
// test the program rather than the machine running the tests.
func colourTerminalEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "COLORTERM", "TERM", "CI":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TERM=xterm-256color")
}

func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vt.String()
}

// waitFor polls the emulated screen until ok holds, or fails after a
// generous deadline with the screen as it was.
func (s *screen) waitFor(what string, ok func(string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		txt := s.text()
		if ok(txt) {
			return txt
		}
		select {
		case <-s.done:
			s.t.Fatalf("program exited (%v) while waiting for %s; screen:\n%s", s.err, what, txt)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; screen:\n%s", what, txt)
		}
	}
}

// colourOf returns the background of the first cell where word starts.
func (s *screen) colourOf(word string) (vt10x.Color, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cols, rows := s.vt.Size()
	w := []rune(word)
	for y := 0; y < rows; y++ {
		for x := 0; x+len(w) <= cols; x++ {
			match := true
			for i, r := range w {
				if s.vt.Cell(x+i, y).Char != r {
					match = false
					break
				}
			}
			if match {
				return s.vt.Cell(x, y).BG, true
			}
		}
	}
	return 0, false
}

func (s *screen) contains(what string) string {
	s.t.Helper()
	return s.waitFor(what, func(txt string) bool { return strings.Contains(txt, what) })
}

func (s *screen) keys(k string) {
	s.t.Helper()
	if _, err := s.pty.Write([]byte(k)); err != nil {
		s.t.Fatalf("type %q: %v", k, err)
	}
}

// exit waits for the program to end and returns its exit code.
func (s *screen) exit() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		s.t.Fatalf("program did not exit; screen:\n%s", s.text())
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		s.t.Fatalf("wait: %v", s.err)
	}
	return 0
}

// tileLabel finds what a slot's tile says: PASS, FAIL or its step.
var tileLabel = regexp.MustCompile(`(S0\d)\s+[✔✘▶⚠]?\s*(PASS|FAIL|QUARANTINED|[A-Z]+)`)

func labels(txt string) map[string]string {
	out := map[string]string{}
	for _, m := range tileLabel.FindAllStringSubmatch(txt, -1) {
		out[m[1]] = m[2]
	}
	return out
}

func TestDemoScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the station in a pseudo-terminal")
	}
	bin := buildStation(t, t.TempDir())
	verify := func(t *testing.T, db string) {
		if out, err := exec.Command(bin, "audit", "verify", "--db", db).CombinedOutput(); err != nil {
			t.Errorf("audit verify: %v\n%s", err, out)
		}
	}

	t.Run("batch to the end", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "demo")
		s := startScreen(t, bin, 120, 40, "demo", "--boards", "3", "--faults", "--timing", "instant", "--dir", dir)
		s.contains("Operator id")
		s.keys("\x15") // ctrl+u clears the pre-filled id
		s.contains("[_]")
		s.keys("op-e2e") // a badge scan types the id, then Enter
		s.contains("[op-e2e_]")
		s.keys("\r")
		s.contains("─ log") // the line screen
		if txt := s.text(); !strings.Contains(txt, "operator op-e2e") || !regexp.MustCompile(`claim cert 2[34]h\d\dm left`).MatchString(txt) {
			t.Errorf("header lacks the operator or the claim validity:\n%s", txt)
		}
		s.keys("s")
		txt := s.waitFor("every slot to end", func(txt string) bool {
			l := labels(txt)
			return strings.Contains(txt, "FINISHED") && l["S01"] == "PASS" && l["S02"] == "FAIL" && l["S03"] == "PASS"
		})
		if !strings.Contains(txt, "passed 2") || !strings.Contains(txt, "failed 1") {
			t.Errorf("counters wrong:\n%s", txt)
		}
		if !strings.Contains(txt, "→") {
			t.Errorf("the failed tile shows no remedy:\n%s", txt)
		}
		// Colour as well as words: the labels have red and green backgrounds.
		if bg, ok := s.colourOf("✘ FAIL"); !ok || bg != vt10x.Red {
			t.Errorf("FAIL label background %v (found %t), want red", bg, ok)
		}
		if bg, ok := s.colourOf("✔ PASS"); !ok || bg != vt10x.Green {
			t.Errorf("PASS label background %v (found %t), want green", bg, ok)
		}
		// The failed slot's details: its steps and what to do.
		s.keys("2\r")
		s.contains("what to do:")
		s.keys("\x1b")
		s.contains("─ log")
		s.keys("q") // the run is over: no confirmation needed
		if code := s.exit(); code != 1 {
			t.Errorf("exit code %d, want 1 (a board failed)", code)
		}
		verify(t, filepath.Join(dir, "audit.db"))
	})

	t.Run("pre-flight errors stop the batch", func(t *testing.T) {
		dir := t.TempDir()
		c, err := cloud.New(cloud.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CreateTemplate(cloud.Template{Name: demoTemplate, Active: true, Parameters: []string{"SerialNumber"}, ThingNamePattern: "demo-{SerialNumber}"}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		claim, key, err := c.CreateClaimWindow(demoTemplate, now.Add(-48*time.Hour), now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := writeDemoFiles(dir, claim, key, c.RootCAPEM(), "127.0.0.1:1", 2); err != nil {
			t.Fatal(err)
		}
		s := startScreen(t, bin, 100, 30, "tui", "--manifest", filepath.Join(dir, "batch.toml"), "--slots", "rfc2217://127.0.0.1:1", "--operator", "op-1")
		txt := s.contains("Pre-flight checks")
		if !strings.Contains(txt, "ERROR") || !strings.Contains(txt, "claim_expired") || !strings.Contains(txt, "cannot start") {
			t.Errorf("pre-flight screen:\n%s", txt)
		}
		s.keys("\r") // errors cannot be acknowledged away
		s.keys("q")
		if code := s.exit(); code != 2 {
			t.Errorf("exit code %d, want 2", code)
		}
	})

	t.Run("QA re-test screen", func(t *testing.T) {
		dir := t.TempDir()
		d, err := startDemoLine(context.Background(), demoSpec{dir: dir, boards: 2, timing: board.Instant, seed: 3, claimLife: 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		slots := "endpoints:" + d.endpoints
		if out, err := exec.Command(bin, "batch", "--manifest", d.manifest, "--slots", slots, "--db", d.db, "--count", "2").CombinedOutput(); err != nil {
			t.Fatalf("build the boards first: %v\n%s", err, out)
		}
		s := startScreen(t, bin, 120, 30, "tui", "--retest", "--manifest", d.manifest, "--slots", slots, "--db", d.db, "--operator", "qa-1", "--count", "2", "--no-color")
		s.contains("QA re-test")
		s.keys("s")
		txt := s.waitFor("both boards re-tested", func(txt string) bool {
			return strings.Contains(txt, "FINISHED") && strings.Contains(txt, "match 2")
		})
		if !strings.Contains(txt, "SN000001") || !strings.Contains(txt, "SN000002") {
			t.Errorf("re-test screen lacks the SNs:\n%s", txt)
		}
		s.keys("q")
		if code := s.exit(); code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
	})

	t.Run("a continuous line with swapped boards", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "demo")
		s := startScreen(t, bin, 100, 30, "demo", "--boards", "2", "--units", "5", "--timing", "instant", "--dir", dir, "--auto-start", "--no-color")
		s.contains("Operator id")
		s.keys("\r")
		txt := s.waitFor("five boards through two fixtures", func(txt string) bool {
			return strings.Contains(txt, "FINISHED") && strings.Contains(txt, "passed 5")
		})
		if !strings.Contains(txt, "failed 0") {
			t.Errorf("counters wrong:\n%s", txt)
		}
		s.keys("q")
		if code := s.exit(); code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
		verify(t, filepath.Join(dir, "audit.db"))
	})

	t.Run("quit while running", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "demo")
		s := startScreen(t, bin, 80, 24, "demo", "--boards", "2", "--dir", dir, "--auto-start", "--no-color")
		s.contains("Operator id")
		s.keys("\r")
		s.contains("RUNNING")
		s.keys("q")
		s.contains("Quit?")
		s.keys("y")
		if code := s.exit(); code != 3 && code != 0 {
			t.Errorf("exit code %d, want 3 (stopped) or 0 (both boards had finished)", code)
		}
		verify(t, filepath.Join(dir, "audit.db"))
	})
}
