package ui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// lineHeights splits the screen between the header, the slots and the
// log pane (the help bar takes the last line).
func (m *Model) lineHeights() (header, grid, log int) {
	header = lipgloss.Height(m.headerView(m.width))
	log = m.logHeight(m.height)
	grid = max(m.height-header-log-2, 1) // a blank line under the header, the help bar
	return header, grid, log
}

// View renders the screen at the size of the last WindowSizeMsg.
func (m *Model) View() string {
	w, h := m.width, m.height
	header := m.headerView(w)
	help := m.helpView(w)
	bodyH := max(h-lipgloss.Height(header)-2, 1)
	var body string
	switch m.screen {
	case screenOperator:
		body = lipgloss.Place(w, bodyH, lipgloss.Center, lipgloss.Center, m.operatorView())
	case screenPreflight:
		body = m.preflightView(w)
	case screenDetail:
		body = m.detailView(w, bodyH)
	case screenRetest:
		body = m.retestView(w, bodyH)
	default:
		_, gridH, logH := m.lineHeights()
		body = fit(m.gridView(w, gridH), w, gridH) + "\n" + m.logView(w, logH)
	}
	if m.confirm {
		body = lipgloss.Place(w, bodyH, lipgloss.Center, lipgloss.Center, m.quitDialog())
	}
	return fit(header+"\n\n"+fit(body, w, bodyH)+"\n"+help, w, h)
}

// quitDialog asks before stopping the line. Once stopping, the header
// says so and the tiles stay in view while the boards in flight finish.
func (m *Model) quitDialog() string {
	return m.st.Dialog.Render(m.st.Title.Render("Quit?") + "\nBoards in flight will finish or stop at a safe point;\nevery attempt is recorded. No new board starts.\n\n" +
		m.st.Key.Render("y") + " stop and quit   " + m.st.Key.Render("n") + " keep running")
}

// fit makes s exactly height lines of at most width cells.
func fit(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > width {
			l = truncate(l, width)
		}
		lines[i] = strings.TrimRight(l, " ")
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
