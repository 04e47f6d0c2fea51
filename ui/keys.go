package ui

import tea "github.com/charmbracelet/bubbletea"

// Keys, as Bubble Tea names them (tea.KeyMsg.String()). One table so the
// help bar and Update cannot disagree.
const (
	keyStart   = "s"
	keyPause   = "p"
	keyRetry   = "r"
	keyClear   = "c"
	keyDetail  = "enter"
	keyBack    = "esc"
	keyRetest  = "t"
	keyQuit    = "q"
	keyAbort   = "ctrl+c"
	keyYes     = "y"
	keyNo      = "n"
	keyAckAll  = "a"
	keyUp      = "up"
	keyDown    = "down"
	keyLeft    = "left"
	keyRight   = "right"
	keyLogMore = "l"
)

// binding is one key as the help bar shows it.
type binding struct{ key, help string }

var (
	// Most needed first: a narrow bar is cut at the right.
	lineKeys = []binding{{keyStart, "start"}, {keyPause, "pause"}, {keyDetail, "details"}, {keyRetry, "retry"},
		{keyClear, "clear quarantine"}, {keyRetest, "QA"}, {keyQuit, "quit"}, {"←↑↓→ 1-9", "select"}, {keyLogMore, "log size"}}
	detailKeys    = []binding{{keyBack, "back"}, {"←→", "prev/next slot"}, {keyRetry, "retry"}, {keyClear, "clear quarantine"}, {keyQuit, "quit"}}
	retestKeys    = []binding{{keyBack, "back"}, {keyStart, "start"}, {keyPause, "pause/resume"}, {keyQuit, "quit"}}
	preflightKeys = []binding{{keyAckAll, "acknowledge all warnings"}, {"1-9", "acknowledge one"}, {keyDetail, "continue"}, {keyQuit, "quit"}}
	operatorKeys  = []binding{{"type or scan", "operator id"}, {keyDetail, "confirm"}, {keyAbort, "quit"}}
	confirmKeys   = []binding{{keyYes, "stop and quit"}, {keyNo + "/" + keyBack, "keep running"}}
)

// key routes a key press: the quit confirmation first, then the screen.
func (m *Model) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	ks := k.String()
	if m.quitting {
		return m, nil // stopping: the engine's end closes the screen
	}
	if m.confirm {
		switch ks {
		case keyYes, keyAbort:
			return m, m.quit()
		case keyNo, keyBack, keyQuit:
			m.confirm = false
		}
		return m, nil
	}
	if ks == keyAbort {
		return m, m.askQuit()
	}
	switch m.screen {
	case screenOperator:
		return m, m.operatorKey(k)
	case screenPreflight:
		return m, m.preflightKey(ks)
	case screenDetail:
		return m, m.detailKey(ks)
	case screenRetest:
		return m, m.retestKey(ks)
	}
	return m, m.lineKey(ks)
}

// askQuit shows the confirmation, or quits at once when nothing runs.
func (m *Model) askQuit() tea.Cmd {
	if !m.started || m.closed {
		return m.quit()
	}
	m.confirm = true
	return nil
}

// commonKey handles the keys every line screen shares; ok reports
// whether it did.
func (m *Model) commonKey(ks string) (tea.Cmd, bool) {
	switch ks {
	case keyQuit:
		return m.askQuit(), true
	case keyStart:
		return m.start(), true
	case keyPause, " ":
		return m.pauseResume(), true
	case keyRetry:
		if s := m.selectedSlot(); s != nil && m.started {
			c, name := m.opts.Controller, s.Name
			return m.call("retry "+name, func() error { return c.RetrySlot(name) }), true
		}
		return nil, true
	case keyClear:
		if s := m.selectedSlot(); s != nil && m.started {
			c, name := m.opts.Controller, s.Name
			return m.call("clear quarantine "+name, func() error { return c.ClearQuarantine(name) }), true
		}
		return nil, true
	}
	return nil, false
}

// move changes the selection by d, clamped.
func (m *Model) move(d int) {
	if len(m.slots) == 0 {
		return
	}
	m.selected = min(max(m.selected+d, 0), len(m.slots)-1)
}

// digit selects slot 1-9 (0 is the tenth).
func (m *Model) digit(ks string) bool {
	if len(ks) != 1 || ks[0] < '0' || ks[0] > '9' {
		return false
	}
	i := int(ks[0] - '1')
	if ks[0] == '0' {
		i = 9
	}
	if i < len(m.slots) {
		m.selected = i
	}
	return true
}
