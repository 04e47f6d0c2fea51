package ui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"fleetline/station"
)

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// runCmd executes a Cmd (and any batch inside it) except the ones that
// block on time or the channel, and returns the messages it produced.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(50 * time.Millisecond):
		return nil // a tick or a wait for events: not an action
	}
	// tea.BatchMsg and Sequence's unexported message are both []tea.Cmd.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		var out []tea.Msg
		for i := 0; i < v.Len(); i++ {
			out = append(out, runCmd(v.Index(i).Interface().(tea.Cmd))...)
		}
		return out
	}
	return []tea.Msg{msg}
}

func isQuit(msgs []tea.Msg) bool {
	for _, m := range msgs {
		if _, ok := m.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		script    bool // feed the scripted events first
		keys      []string
		calls     []string
		screen    screen
		selected  int
		quit      bool
		confirm   bool
		operator  string
		ackedAll  bool
		failCalls bool
	}{
		{name: "start then pause then resume", keys: []string{"s", "p", "p"}, calls: []string{"start", "pause", "resume"}, screen: screenLine},
		{name: "start twice starts once", keys: []string{"s", "s"}, calls: []string{"start"}, screen: screenLine},
		{name: "pause before start does nothing", keys: []string{"p"}, calls: nil, screen: screenLine},
		{name: "q before start quits at once", keys: []string{"q"}, quit: true, screen: screenLine},
		{name: "q while running asks first", script: true, keys: []string{"q"}, confirm: true, screen: screenLine},
		{name: "q then n keeps running", script: true, keys: []string{"q", "n"}, screen: screenLine},
		{name: "q then y stops the engine", script: true, keys: []string{"q", "y"}, calls: []string{"stop"}, quit: true, screen: screenLine},
		{name: "ctrl+c asks too", script: true, keys: []string{"ctrl+c"}, confirm: true, screen: screenLine},
		{name: "digit selects", script: true, keys: []string{"4"}, selected: 3, screen: screenLine},
		{name: "digit past the slots is ignored", script: true, keys: []string{"3", "9"}, selected: 2, screen: screenLine},
		{name: "arrows move and clamp", script: true, keys: []string{"right", "right", "left", "left", "left"}, selected: 0, screen: screenLine},
		{name: "retry the selected slot", script: true, keys: []string{"4", "r"}, calls: []string{"retry S04"}, selected: 3, screen: screenLine},
		{name: "clear a quarantine", script: true, keys: []string{"6", "c"}, calls: []string{"clear S06"}, selected: 5, screen: screenLine},
		{name: "enter opens details, esc returns", script: true, keys: []string{"2", "enter"}, selected: 1, screen: screenDetail},
		{name: "esc from details", script: true, keys: []string{"2", "enter", "esc"}, selected: 1, screen: screenLine},
		{name: "detail arrows change slot", script: true, keys: []string{"enter", "right", "right"}, selected: 2, screen: screenDetail},
		{name: "t opens the re-test screen and back", script: true, keys: []string{"t", "esc"}, screen: screenLine},
		{name: "t opens the re-test screen", script: true, keys: []string{"t"}, screen: screenRetest},
		{name: "operator typed and confirmed", opts: Options{AskOperator: true, Operator: ""}, keys: []string{"o", "p", "-", "9", "x", "backspace", "enter"},
			calls: []string{"operator op-9"}, operator: "op-9", screen: screenLine},
		{name: "operator scanned in one burst", opts: Options{AskOperator: true, Operator: ""}, keys: []string{"BADGE-0042", "enter"},
			calls: []string{"operator BADGE-0042"}, operator: "BADGE-0042", screen: screenLine},
		{name: "empty operator refused", opts: Options{AskOperator: true, Operator: ""}, keys: []string{"enter"}, screen: screenOperator},
		{name: "operator keys do not start the line", opts: Options{AskOperator: true, Operator: ""}, keys: []string{"s", "q", "enter"},
			calls: []string{"operator sq"}, operator: "sq", screen: screenLine},
		{name: "operator then auto start", opts: Options{AskOperator: true, Operator: "", AutoStart: true}, keys: []string{"a", "enter"},
			calls: []string{"operator a", "start"}, operator: "a", screen: screenLine},
		{name: "warnings block until acknowledged", opts: Options{Findings: testFindings}, keys: []string{"enter", "1", "enter"}, screen: screenPreflight},
		{name: "acknowledge one by one", opts: Options{Findings: testFindings}, keys: []string{"1", "2", "enter"}, screen: screenLine, ackedAll: true},
		{name: "acknowledge all", opts: Options{Findings: testFindings}, keys: []string{"a", "enter"}, screen: screenLine, ackedAll: true},
		{name: "errors never let the batch start", opts: Options{Findings: append(testFindings[:1:1], errFinding)}, keys: []string{"a", "enter", "s"}, screen: screenPreflight},
		{name: "retest mode opens on the re-test screen", opts: Options{Retest: true}, keys: []string{"s"}, calls: []string{"start"}, screen: screenRetest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fc := newTestModel(8, tt.opts)
			if tt.script {
				runScript(m, 8)
			}
			var msgs []tea.Msg
			for _, k := range tt.keys {
				_, cmd := m.Update(keyMsg(k))
				msgs = append(msgs, runCmd(cmd)...)
			}
			if got := fc.Calls(); !reflect.DeepEqual(got, tt.calls) {
				t.Errorf("controller calls %q, want %q", got, tt.calls)
			}
			if m.screen != tt.screen {
				t.Errorf("screen %d, want %d", m.screen, tt.screen)
			}
			if m.selected != tt.selected {
				t.Errorf("selected %d, want %d", m.selected, tt.selected)
			}
			if isQuit(msgs) != tt.quit {
				t.Errorf("quit %t, want %t", isQuit(msgs), tt.quit)
			}
			if m.confirm != tt.confirm {
				t.Errorf("confirm %t, want %t", m.confirm, tt.confirm)
			}
			if tt.operator != "" && m.opts.Operator != tt.operator {
				t.Errorf("operator %q, want %q", m.opts.Operator, tt.operator)
			}
			if tt.ackedAll && !m.preflightClear() {
				t.Errorf("warnings not all acknowledged: %v", m.acked)
			}
		})
	}
}

var errFinding = testFindings[0]

func init() {
	errFinding.Severity, errFinding.Code, errFinding.Message = "error", "claim_expired", "the claim certificate expired"
}

func TestQuitWaitsForTheEngine(t *testing.T) {
	ch := make(chan station.Event)
	m, fc := newTestModel(2, Options{Events: ch})
	runScript(m, 2)
	m.Update(keyMsg("q"))
	_, cmd := m.Update(keyMsg("y"))
	if msgs := runCmd(cmd); isQuit(msgs) {
		t.Fatal("quit before the engine ended")
	}
	if !reflect.DeepEqual(fc.Calls(), []string{"stop"}) {
		t.Fatalf("calls %q", fc.Calls())
	}
	if !strings.Contains(m.View(), "STOPPING: boards in flight finish") {
		t.Errorf("no stopping notice:\n%s", m.View())
	}
	// Keys are ignored while stopping; the channel's close ends the screen.
	if _, cmd := m.Update(keyMsg("s")); cmd != nil {
		t.Error("a key while stopping returned a command")
	}
	_, cmd = m.Update(EventsClosedMsg{})
	if msgs := runCmd(cmd); !isQuit(msgs) {
		t.Errorf("no quit after the channel closed: %v", msgs)
	}
}

func TestControllerErrorIsLogged(t *testing.T) {
	m, fc := newTestModel(2, Options{})
	fc.fail = errFake
	runScript(m, 2)
	_, cmd := m.Update(keyMsg("r"))
	for _, msg := range runCmd(cmd) {
		m.Update(msg)
	}
	if !strings.Contains(m.lastErr, "retry S01: fake refusal") {
		t.Errorf("lastErr %q", m.lastErr)
	}
}

func TestEvents(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name  string
		evs   []station.Event
		check func(t *testing.T, m *Model)
	}{
		{"new attempt clears the last board", []station.Event{
			{Type: station.EvUnitResult, Time: at(1), Slot: "S01", Result: &station.UnitResult{Slot: "S01", Passed: false, Reason: "x", SN: "FL1", MAC: "aa"}},
			{Type: station.EvSlotState, Time: at(1), Slot: "S01", State: station.StateFail},
			{Type: station.EvSlotState, Time: at(5), Slot: "S01", State: station.StateRunning, Step: station.StepIdentify, MAC: "bb"},
		}, func(t *testing.T, m *Model) {
			s := m.bySlot["S01"]
			if s.Result != nil || s.SN != "" || s.MAC != "bb" || !s.Started.Equal(at(5)) || s.Failed != 1 {
				t.Errorf("slot %+v", s)
			}
		}},
		{"progress keeps the latest", []station.Event{
			{Type: station.EvSlotState, Time: at(1), Slot: "S01", State: station.StateRunning, Step: station.StepFlash},
			{Type: station.EvProgress, Slot: "S01", Step: station.StepFlash, Label: "app", Done: 10, Total: 100},
			{Type: station.EvProgress, Slot: "S01", Step: station.StepFlash, Label: "app", Done: 60, Total: 100},
		}, func(t *testing.T, m *Model) {
			if s := m.bySlot["S01"]; s.Done != 60 || s.Label != "app" {
				t.Errorf("slot %+v", s)
			}
		}},
		{"quarantine and clear", []station.Event{
			{Type: station.EvQuarantine, Slot: "S02", State: station.StateQuarantined, Message: "q"},
			{Type: station.EvQuarantine, Slot: "S02", State: station.StateIdle, Message: "cleared"},
		}, func(t *testing.T, m *Model) {
			if m.bySlot["S02"].Quarantined {
				t.Error("still quarantined")
			}
		}},
		{"pause and resume", []station.Event{{Type: station.EvBatchPaused}}, func(t *testing.T, m *Model) {
			if !m.paused {
				t.Error("not paused")
			}
		}},
		{"unknown slot gets a tile", []station.Event{{Type: station.EvSlotState, Slot: "X9", State: station.StateIdle}}, func(t *testing.T, m *Model) {
			if _, ok := m.bySlot["X9"]; !ok || len(m.slots) != 3 {
				t.Error("no tile for X9")
			}
		}},
		{"stats replace the counters", []station.Event{{Type: station.EvStats, Stats: &station.Stats{Passed: 7, Quantity: 10}}}, func(t *testing.T, m *Model) {
			if m.stats.Passed != 7 {
				t.Errorf("stats %+v", m.stats)
			}
		}},
		{"console is a ring and loses control codes", func() []station.Event {
			var evs []station.Event
			for i := 0; i < 300; i++ {
				evs = append(evs, station.Event{Type: station.EvConsole, Slot: "S01", Message: "line\x1b[2J"})
			}
			return evs
		}(), func(t *testing.T, m *Model) {
			c := m.bySlot["S01"].Console
			if c.len() != 200 || strings.ContainsRune(c.last(1)[0], 0x1b) {
				t.Errorf("console %d lines, last %q", c.len(), c.last(1))
			}
		}},
		{"session rate until the engine has one", []station.Event{
			{Type: station.EvBatchStarted, Time: t0},
			{Type: station.EvUnitResult, Time: t0.Add(30 * time.Minute), Slot: "S01", Result: &station.UnitResult{Passed: true}},
			{Type: station.EvUnitResult, Time: t0.Add(40 * time.Minute), Slot: "S02", Result: &station.UnitResult{Passed: false}},
			{Type: station.EvUnitResult, Time: t0.Add(time.Hour), Slot: "S01", Result: &station.UnitResult{Passed: true}},
		}, func(t *testing.T, m *Model) {
			if got := m.unitsPerHour(); got != 2 {
				t.Errorf("units/h %v, want 2", got)
			}
		}},
		{"a finished board the station watches asks for the next", []station.Event{
			{Type: station.EvUnitResult, Time: at(3), Slot: "S01", Result: &station.UnitResult{Slot: "S01", Passed: true, SN: "FL1", MAC: "aa", Duration: 3 * time.Second}},
			{Type: station.EvSlotState, Time: at(3), Slot: "S01", State: station.StatePass, Step: station.StepDone, Message: "PASS"},
			{Type: station.EvSlotState, Time: at(3), Slot: "S01", State: station.StatePass, Step: station.StepRemove, Message: "PASS"},
			{Type: station.EvUnitResult, Time: at(4), Slot: "S02", Result: &station.UnitResult{Slot: "S02", Passed: true, SN: "FL2", MAC: "bb", Duration: 4 * time.Second}},
			{Type: station.EvSlotState, Time: at(4), Slot: "S02", State: station.StatePass, Step: station.StepDone, Message: "PASS"},
		}, func(t *testing.T, m *Model) {
			if got := m.activity(m.bySlot["S01"], 40); !strings.Contains(got, "swap board") {
				t.Errorf("watched slot says %q", got)
			}
			if got := m.activity(m.bySlot["S02"], 40); strings.Contains(got, "swap board") {
				t.Errorf("unwatched slot says %q", got)
			}
			if got := m.activity(m.bySlot["S01"], 16); strings.Contains(got, "swap") {
				t.Errorf("a narrow tile cuts the hint in: %q", got)
			}
		}},
		{"batch finished", []station.Event{{Type: station.EvBatchFinished, Message: "done"}}, func(t *testing.T, m *Model) {
			if !m.finished || !strings.Contains(m.View(), "FINISHED") {
				t.Error("not finished")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestModel(2, Options{})
			m.Update(EventsMsg(tt.evs))
			tt.check(t, m)
		})
	}
}

func TestWaitForEventsDrains(t *testing.T) {
	ch := make(chan station.Event, 10)
	for i := 0; i < 5; i++ {
		ch <- station.Event{Type: station.EvProgress, Done: int64(i)}
	}
	close(ch)
	msg := WaitForEvents(ch)()
	if evs, ok := msg.(EventsMsg); !ok || len(evs) != 5 {
		t.Fatalf("got %#v", msg)
	}
	if _, ok := WaitForEvents(ch)().(EventsClosedMsg); !ok {
		t.Fatal("no close")
	}
}

func TestClaimUrgency(t *testing.T) {
	tests := []struct {
		left time.Duration
		want claimLevel
		text string
	}{
		{24 * time.Hour, claimOK, "claim cert 24h00m left"},
		{3 * time.Hour, claimSoon, "(renew soon)"},
		{30 * time.Minute, claimUrgent, "CLAIM CERT EXPIRES IN 30m00s"},
		{-time.Hour, claimExpired, "CLAIM CERT EXPIRED 1h00m ago"},
	}
	for _, tt := range tests {
		if got := claimUrgency(tt.left); got != tt.want {
			t.Errorf("%s: level %d, want %d", tt.left, got, tt.want)
		}
		m, _ := newTestModel(1, Options{})
		m.opts.ClaimNotAfter = t0.Add(tt.left)
		if got := m.claimText(); !strings.Contains(got, tt.text) {
			t.Errorf("%s: %q, want %q", tt.left, got, tt.text)
		}
	}
}

func TestGridLayout(t *testing.T) {
	for n := 1; n <= 32; n++ {
		for _, sz := range [][2]int{{80, 16}, {100, 21}, {120, 29}, {200, 46}} {
			l := gridLayout(n, sz[0], sz[1])
			if l.cols < 1 || l.colW*l.cols > sz[0] {
				t.Errorf("n=%d %v: %+v", n, sz, l)
			}
			if l.tiles && ((n+l.cols-1)/l.cols)*tileHeight > sz[1] {
				t.Errorf("n=%d %v: tiles overflow: %+v", n, sz, l)
			}
		}
	}
}
