package ui

import (
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"fleetline/batch"
	"fleetline/station"
)

// Controller is what the screen can ask of the line. *station.Engine
// fits it through a small adapter in the command (Start needs the
// engine's context and slots); tests use a fake.
type Controller interface {
	Start() error
	Pause()
	Resume()
	Stop()
	RetrySlot(slot string) error
	ClearQuarantine(slot string) error
	SetOperator(id string)
}

// Options describe the batch and the line the screen shows.
type Options struct {
	Batch    string
	Product  string
	Firmware string
	Station  string
	Operator string // pre-filled operator id
	// AskOperator makes the screen ask for (or take a badge scan of) the
	// operator id before the batch starts.
	AskOperator bool
	// ClaimNotAfter is when the claim certificate expires; zero hides it.
	ClaimNotAfter time.Time
	Quantity      int
	Slots         []string
	Findings      batch.Findings
	// Retest opens on the QA re-test screen: the engine runs in retest mode.
	Retest bool
	// AutoStart starts the batch as soon as the operator and the
	// pre-flight are through, without waiting for the start key.
	AutoStart bool

	Events     <-chan station.Event
	Controller Controller
	Now        time.Time // the screen's clock until the first tick

	// Renderer renders the styles; nil means lipgloss's default one.
	Renderer *lipgloss.Renderer
	// ConsoleLines and LogLines size the ring buffers (defaults 200, 500).
	ConsoleLines int
	LogLines     int
}

type screen int

const (
	screenOperator screen = iota
	screenPreflight
	screenLine
	screenDetail
	screenRetest
)

// logEntry is one line of the log pane.
type logEntry struct {
	Time time.Time
	Slot string
	Text string
	Bad  bool
}

// Model is the operator screen. Build it with New; it is a tea.Model.
type Model struct {
	opts   Options
	st     *Styles
	width  int
	height int
	now    time.Time

	screen     screen
	back       screen // where esc returns from the detail view
	operator   string // the id being typed
	acked      []bool // per warning
	started    bool   // Start was sent
	running    bool   // batch_started seen
	paused     bool
	finished   bool
	closed     bool // event channel closed
	confirm    bool // quit confirmation shown
	quitting   bool // Stop sent, waiting for the channel to close
	logBig     bool
	batchStart time.Time

	slots    []*slotModel
	bySlot   map[string]*slotModel
	selected int
	stats    station.Stats
	haveStat bool
	log      *ring[logEntry]
	results  []station.UnitResult // every attempt's result, for the re-test screen
	lastErr  string
}

// New builds the model.
func New(o Options) *Model {
	if o.ConsoleLines == 0 {
		o.ConsoleLines = 200
	}
	if o.LogLines == 0 {
		o.LogLines = 500
	}
	r := o.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	m := &Model{opts: o, st: NewStyles(r), width: 80, height: 24, now: o.Now, bySlot: map[string]*slotModel{},
		log: newRing[logEntry](o.LogLines), operator: o.Operator}
	for _, name := range o.Slots {
		m.addSlot(name)
	}
	m.acked = make([]bool, len(o.Findings.Warnings()))
	if len(o.Findings) == 0 {
		m.addLog(logEntry{Time: o.Now, Text: "pre-flight: all checks passed"})
	}
	switch {
	case o.AskOperator:
		m.screen = screenOperator
	default:
		m.screen = m.afterOperator()
	}
	return m
}

func (m *Model) addSlot(name string) *slotModel {
	s := newSlot(name, m.opts.ConsoleLines)
	m.slots = append(m.slots, s)
	m.bySlot[name] = s
	return s
}

// afterOperator is the screen that follows the operator prompt.
func (m *Model) afterOperator() screen {
	if len(m.opts.Findings) > 0 {
		return screenPreflight
	}
	return m.lineScreen()
}

func (m *Model) lineScreen() screen {
	if m.opts.Retest {
		return screenRetest
	}
	return screenLine
}

// Init starts reading events and the clock.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{WaitForEvents(m.opts.Events), tick()}
	if m.screen == screenLine || m.screen == screenRetest {
		cmds = append(cmds, m.autoStart())
	}
	return tea.Batch(cmds...)
}

// Update folds one message into the model; any I/O goes out as a Cmd.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case TickMsg:
		m.now = time.Time(msg)
		return m, tick()
	case EventsMsg:
		for _, ev := range msg {
			m.apply(ev)
		}
		return m, WaitForEvents(m.opts.Events)
	case EventsClosedMsg:
		m.closed, m.finished = true, true
		if m.quitting {
			return m, tea.Quit
		}
		return m, nil
	case ControlDoneMsg:
		if msg.Err != nil && msg.Action == "start" && !m.running {
			m.started = false // nothing runs: s may try again, q quits at once
		}
		if msg.Err != nil {
			m.lastErr = fmt.Sprintf("%s: %v", msg.Action, msg.Err)
			m.addLog(logEntry{Time: m.now, Text: m.lastErr, Bad: true})
		}
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, nil
}

// apply folds one engine event into the model.
func (m *Model) apply(ev station.Event) {
	if !ev.Time.IsZero() && ev.Time.After(m.now) {
		m.now = ev.Time
	}
	if ev.Stats != nil {
		m.stats, m.haveStat = *ev.Stats, true
	}
	switch ev.Type {
	case station.EvBatchStarted:
		m.running, m.started, m.batchStart = true, true, ev.Time
	case station.EvBatchFinished:
		m.finished = true
	case station.EvBatchPaused:
		m.paused = true
	case station.EvBatchResumed:
		m.paused = false
	case station.EvUnitResult:
		if ev.Result != nil {
			m.results = append(m.results, *ev.Result)
		}
	}
	if ev.Slot != "" {
		s, ok := m.bySlot[ev.Slot]
		if !ok {
			s = m.addSlot(ev.Slot)
		}
		s.apply(ev)
	}
	if e, ok := logLine(ev); ok {
		m.addLog(e)
	}
}

func (m *Model) addLog(e logEntry) { m.log.push(e) }

// call runs a Controller action as a Cmd and reports its error.
func (m *Model) call(action string, f func() error) tea.Cmd {
	if m.opts.Controller == nil {
		return nil
	}
	return func() tea.Msg { return ControlDoneMsg{Action: action, Err: f()} }
}

func (m *Model) autoStart() tea.Cmd {
	if !m.opts.AutoStart || m.started {
		return nil
	}
	return m.start()
}

func (m *Model) start() tea.Cmd {
	if m.started {
		if m.paused {
			return m.pauseResume()
		}
		return nil
	}
	m.started = true
	c := m.opts.Controller
	return m.call("start", func() error { return c.Start() })
}

func (m *Model) pauseResume() tea.Cmd {
	c := m.opts.Controller
	if !m.started {
		return nil
	}
	if m.paused {
		m.paused = false
		return m.call("resume", func() error { c.Resume(); return nil })
	}
	m.paused = true
	return m.call("pause", func() error { c.Pause(); return nil })
}

// quit stops the engine and waits for its channel to close; with nothing
// started (or the run over) it exits at once.
func (m *Model) quit() tea.Cmd {
	m.confirm = false
	if !m.started || m.closed {
		return tea.Quit
	}
	c := m.opts.Controller
	stop := m.call("stop", func() error { c.Stop(); return nil })
	if m.opts.Events == nil {
		return tea.Sequence(stop, tea.Quit) // nothing to wait for
	}
	m.quitting = true
	return stop
}

// selectedSlot is the slot under the cursor, or nil.
func (m *Model) selectedSlot() *slotModel {
	if m.selected < 0 || m.selected >= len(m.slots) {
		return nil
	}
	return m.slots[m.selected]
}
