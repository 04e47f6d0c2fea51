package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// retestKey handles the QA re-test screen's keys.
func (m *Model) retestKey(ks string) tea.Cmd {
	if cmd, ok := m.commonKey(ks); ok {
		return cmd
	}
	switch ks {
	case keyBack, keyRetest:
		if !m.opts.Retest {
			m.screen = screenLine
		}
	case keyUp, keyLeft:
		m.move(-1)
	case keyDown, keyRight:
		m.move(1)
	case keyDetail:
		if m.selectedSlot() != nil {
			m.back, m.screen = screenRetest, screenDetail
		}
	default:
		m.digit(ks)
	}
	return nil
}

// retestView is the QA screen: the slots as compact rows, then every
// board checked so far, newest first, with its verdict against the audit
// record.
func (m *Model) retestView(width, height int) string {
	var out []string
	title := "QA re-test: boards are identified by MAC and compared with the audit record (SN, thing, certificate, firmware)"
	if !m.opts.Retest {
		title = "Results of this session (QA re-test runs with 'station tui --retest'); esc returns to the line"
	}
	out = append(out, truncate(m.st.Title.Render(title), width))
	slotsH := min(len(m.slots), max(height/3, 1))
	out = append(out, strings.Split(m.gridViewRows(width, slotsH), "\n")...)
	out = append(out, "")
	passed, failed := 0, 0
	for _, r := range m.results {
		if r.Passed {
			passed++
		} else {
			failed++
		}
	}
	out = append(out, truncate(fmt.Sprintf("%s  %s  checked %d", m.st.Good.Render(fmt.Sprintf("match %d", passed)), m.failedText(failed), len(m.results)), width))
	out = append(out, m.st.Dim.Render(truncate(fmt.Sprintf("%-6s %-12s %-17s %-16s %-7s %s", "slot", "SN", "MAC", "thing", "verdict", "reason → remedy"), width)))
	room := height - len(out)
	for i := len(m.results) - 1; i >= 0 && room > 0; i-- {
		r := m.results[i]
		verdict := m.st.Good.Render("PASS   ")
		why := ""
		if !r.Passed {
			verdict = m.st.Bad.Render("FAIL   ")
			why = humanReason(r.Reason) + ": " + r.Message + " → " + r.Remedy
		}
		out = append(out, truncate(fmt.Sprintf("%-6s %-12s %-17s %-16s %s %s", r.Slot, orDash(r.SN), orDash(r.MAC), orDash(r.ThingName), verdict, why), width))
		room--
	}
	return strings.Join(out, "\n")
}

// gridViewRows renders the slots as compact rows only, in height lines.
func (m *Model) gridViewRows(width, height int) string {
	l := gridLayout(len(m.slots), width, height)
	if l.tiles {
		// Force rows: a height below one tile makes gridView list them.
		return m.gridView(width, min(height, tileHeight-1))
	}
	return m.gridView(width, height)
}
