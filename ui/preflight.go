package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"fleetline/batch"
)

// preflightKey acknowledges warnings and moves on once every one is.
// Errors cannot be acknowledged: the batch cannot start.
func (m *Model) preflightKey(ks string) tea.Cmd {
	switch {
	case ks == keyQuit:
		return m.quit()
	case ks == keyAckAll:
		for i := range m.acked {
			m.acked[i] = true
		}
	case len(ks) == 1 && ks[0] >= '1' && ks[0] <= '9':
		if i := int(ks[0] - '1'); i < len(m.acked) {
			m.acked[i] = true
		}
	case ks == keyDetail:
		if !m.preflightClear() {
			return nil
		}
		m.screen = m.lineScreen()
		m.addLog(logEntry{Time: m.now, Text: fmt.Sprintf("pre-flight: %d warning(s) acknowledged by operator %s", len(m.acked), orDash(m.opts.Operator))})
		return m.autoStart()
	}
	return nil
}

// preflightBlocked reports whether an error stops the batch.
func (m *Model) preflightBlocked() bool { return !m.opts.Findings.OK() }

// preflightClear reports whether the operator may go on.
func (m *Model) preflightClear() bool {
	if m.preflightBlocked() {
		return false
	}
	for _, a := range m.acked {
		if !a {
			return false
		}
	}
	return true
}

// preflightView lists the findings: errors first, then warnings with
// their acknowledgement boxes.
func (m *Model) preflightView(width int) string {
	w := max(width-4, 20)
	var b strings.Builder
	b.WriteString(m.st.Title.Render("Pre-flight checks for batch "+m.opts.Batch) + "\n\n")
	errs, warns := m.opts.Findings.Errors(), m.opts.Findings.Warnings()
	for _, f := range errs {
		b.WriteString(m.finding(m.st.Bad.Render("ERROR  "), f, w))
	}
	for i, f := range warns {
		box := "[ ]"
		if m.acked[i] {
			box = "[x]"
		}
		b.WriteString(m.finding(m.st.Warn.Render(fmt.Sprintf("%d %s WARNING  ", i+1, box)), f, w))
	}
	switch {
	case m.preflightBlocked():
		b.WriteString(m.st.Bad.Render(fmt.Sprintf("%d error(s): the batch cannot start. Fix them and run the station again; press q to quit.", len(errs))))
	case !m.preflightClear():
		b.WriteString(m.st.Warn.Render("Acknowledge each warning (its number, or a for all), then press Enter."))
	default:
		b.WriteString(m.st.Good.Render("All warnings acknowledged: press Enter to go to the line."))
	}
	return b.String()
}

func (m *Model) finding(label string, f batch.Finding, w int) string {
	head := label + m.st.Bold.Render(f.Code) + ": " + f.Message
	return ansi.Wordwrap(head, w, " ") + "\n" + ansi.Wordwrap("   what to do: "+f.Remedy, w, " ") + "\n\n"
}
