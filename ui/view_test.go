package ui

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// newTestModel is a model on n scripted slots, colour off, at a fixed time.
func newTestModel(n int, o Options) (*Model, *fakeController) {
	fc := &fakeController{}
	o.Batch, o.Product, o.Firmware, o.Station = "B-1", "sensor", "1.2.3", "st-1"
	if o.Operator == "" && !o.AskOperator {
		o.Operator = "op-7"
	}
	o.ClaimNotAfter = t0.Add(23*time.Hour + 10*time.Minute)
	o.Quantity = 100
	o.Slots = slotNames(n)
	o.Controller = fc
	o.Now = t0
	o.Renderer = NewRenderer(io.Discard, true)
	return New(o), fc
}

func runScript(m *Model, n int) {
	m.started = true
	m.Update(EventsMsg(script(n)))
	m.Update(TickMsg(t0.Add(61 * time.Second)))
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./ui -update to accept):\n%s", name, got)
	}
}

func checkFits(t *testing.T, name, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("%s: %d lines, want %d", name, len(lines), h)
	}
	for i, l := range lines {
		if n := len([]rune(l)); n > w {
			t.Errorf("%s: line %d is %d cells wide, want at most %d: %q", name, i+1, n, w, l)
		}
		if strings.Contains(l, "\x1b") {
			t.Errorf("%s: line %d has escape codes with colour off: %q", name, i+1, l)
		}
	}
}

func TestViewGolden(t *testing.T) {
	sizes := [][2]int{{80, 24}, {100, 30}, {120, 40}, {200, 60}}
	for _, n := range []int{1, 8, 32} {
		for _, sz := range sizes {
			name := fmt.Sprintf("line_%dslots_%dx%d", n, sz[0], sz[1])
			t.Run(name, func(t *testing.T) {
				m, _ := newTestModel(n, Options{})
				m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
				runScript(m, n)
				v := m.View()
				checkFits(t, name, v, sz[0], sz[1])
				golden(t, name, v)
			})
		}
	}
}

func TestScreensGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		prep func(m *Model)
	}{
		{"operator", Options{AskOperator: true, Operator: ""}, func(m *Model) {
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("op-42")})
		}},
		{"preflight", Options{Findings: testFindings}, func(m *Model) {
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("1")})
		}},
		{"detail_fail", Options{}, func(m *Model) {
			runScript(m, 8)
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("5")})
			m.Update(tea.KeyMsg{Type: tea.KeyEnter})
		}},
		{"detail_flashing", Options{}, func(m *Model) {
			runScript(m, 8)
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2")})
			m.Update(tea.KeyMsg{Type: tea.KeyEnter})
		}},
		{"retest", Options{Retest: true}, func(m *Model) { runScript(m, 8) }},
		{"quit_confirm", Options{}, func(m *Model) {
			runScript(m, 8)
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
		}},
		{"not_started", Options{}, func(m *Model) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestModel(8, tt.opts)
			m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
			tt.prep(m)
			v := m.View()
			checkFits(t, tt.name, v, 100, 30)
			golden(t, "screen_"+tt.name+"_100x30", v)
		})
	}
}

// TestEverySlotCountFits renders 1 to 32 slots at the smallest size and a
// few others: every view must fill the screen exactly, whatever the layout.
func TestEverySlotCountFits(t *testing.T) {
	for n := 1; n <= 32; n++ {
		for _, sz := range [][2]int{{80, 24}, {100, 30}, {132, 43}} {
			m, _ := newTestModel(n, Options{})
			m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			runScript(m, n)
			for _, k := range []string{"", "enter", "esc", "t"} {
				if k != "" {
					m.Update(keyMsg(k))
				}
				checkFits(t, fmt.Sprintf("%d slots %dx%d after %q", n, sz[0], sz[1], k), m.View(), sz[0], sz[1])
			}
		}
	}
}

func BenchmarkView32Slots(b *testing.B) {
	m, _ := newTestModel(32, Options{})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	runScript(m, 32)
	for b.Loop() {
		_ = m.View()
	}
}

func BenchmarkUpdateEvents(b *testing.B) {
	evs := script(32)
	for b.Loop() {
		m, _ := newTestModel(32, Options{})
		m.Update(EventsMsg(evs))
	}
}

// TestColourOn checks the other path: with a colour profile the same
// screen carries escape codes, and the words stay.
func TestColourOn(t *testing.T) {
	m, _ := newTestModel(8, Options{})
	r := NewRenderer(io.Discard, false)
	r.SetColorProfile(termenv.ANSI256)
	m.st = NewStyles(r)
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	runScript(m, 8)
	v := m.View()
	if !strings.Contains(v, "\x1b[") {
		t.Error("no escape codes with a colour profile")
	}
	for _, w := range []string{"PASS", "FAIL", "QUARANTINED", "claim cert"} {
		if !strings.Contains(v, w) {
			t.Errorf("%q missing with colour on", w)
		}
	}
}
