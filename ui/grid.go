package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// layout is how the slots fit the space they get.
type layout struct {
	tiles   bool // full tiles; else compact rows
	cols    int
	colW    int
	visible int // slots shown at once (the rest scroll with the selection)
}

// gridLayout picks full tiles when they all fit, else compact rows in as
// few columns as fit, scrolling past what does not.
func gridLayout(n, width, height int) layout {
	if n == 0 || width < 1 || height < 1 {
		return layout{cols: 1, colW: max(width, 1)}
	}
	if maxCols, maxRows := min(n, width/tileMinWidth), height/tileHeight; maxCols >= 1 && maxRows >= 1 {
		// As few columns as fit the rows, but tiles no wider than
		// tileMaxWidth; then as few as keep the same number of rows.
		cols := max((n+maxRows-1)/maxRows, min(n, (width+tileMaxWidth-1)/tileMaxWidth))
		if cols <= maxCols {
			rows := (n + cols - 1) / cols
			for cols > 1 && (n+cols-2)/(cols-1) == rows {
				cols--
			}
			return layout{tiles: true, cols: cols, colW: width / cols, visible: n}
		}
	}
	cols := (n + height - 1) / height
	cols = max(min(cols, width/rowMinWidth), 1)
	return layout{cols: cols, colW: width / cols, visible: min(n, cols*height)}
}

// lineKey handles the main screen's keys.
func (m *Model) lineKey(ks string) tea.Cmd {
	if cmd, ok := m.commonKey(ks); ok {
		return cmd
	}
	lay := m.currentLayout()
	switch ks {
	case keyLeft:
		m.move(-1)
	case keyRight:
		m.move(1)
	case keyUp:
		m.move(-m.rowStep(lay))
	case keyDown:
		m.move(m.rowStep(lay))
	case keyDetail, "d":
		if m.selectedSlot() != nil {
			m.back, m.screen = m.screen, screenDetail
		}
	case keyRetest:
		m.screen = screenRetest
	case keyLogMore:
		m.logBig = !m.logBig
	default:
		m.digit(ks)
	}
	return nil
}

// rowStep is how far up/down moves: a row of tiles, or one list line.
func (m *Model) rowStep(l layout) int {
	if l.tiles {
		return l.cols
	}
	return 1
}

func (m *Model) currentLayout() layout {
	_, gridH, _ := m.lineHeights()
	return gridLayout(len(m.slots), m.width, gridH)
}

// window returns the first slot index shown so the selection is visible.
func (l layout) window(n, selected int) int {
	if l.visible >= n || l.visible == 0 {
		return 0
	}
	first := selected - l.visible/2
	return min(max(first, 0), n-l.visible)
}

// gridView renders the slots into width × height.
func (m *Model) gridView(width, height int) string {
	n := len(m.slots)
	if n == 0 {
		return "no slots: give --slots"
	}
	l := gridLayout(n, width, height)
	if l.tiles {
		var rows []string
		for i := 0; i < n; i += l.cols {
			var row []string
			for j := i; j < min(i+l.cols, n); j++ {
				row = append(row, m.tileView(m.slots[j], j == m.selected, l.colW))
			}
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
		}
		return strings.Join(rows, "\n")
	}
	visible := l.visible
	more := ""
	if visible < n {
		visible = max(visible-l.cols, 1) // keep a line for the scroll note
		l.visible = visible
		more = fmt.Sprintf("… %d of %d slots shown: ↑↓ to scroll", visible, n)
	}
	first := l.window(n, m.selected)
	nameW := 0
	for _, s := range m.slots {
		nameW = max(nameW, lipgloss.Width(s.Name)+1)
	}
	perCol := (visible + l.cols - 1) / l.cols
	cols := make([]string, 0, l.cols)
	for c := 0; c < l.cols; c++ {
		var lines []string
		for r := 0; r < perCol; r++ {
			i := first + c*perCol + r
			if i >= first+visible || i >= n {
				break
			}
			line := m.rowView(m.slots[i], i == m.selected, nameW, l.colW-1)
			if c < l.cols-1 {
				line += strings.Repeat(" ", max(l.colW-lipgloss.Width(line), 0))
			}
			lines = append(lines, line)
		}
		cols = append(cols, strings.Join(lines, "\n"))
	}
	out := lipgloss.JoinHorizontal(lipgloss.Top, cols...)
	if more != "" {
		out += "\n" + m.st.Dim.Render(more)
	}
	return out
}
