package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// helpView is the key bar of the screen shown, cut to width.
func (m *Model) helpView(width int) string {
	var keys []binding
	switch {
	case m.confirm:
		keys = confirmKeys
	case m.screen == screenOperator:
		keys = operatorKeys
	case m.screen == screenPreflight:
		keys = preflightKeys
	case m.screen == screenDetail:
		keys = detailKeys
	case m.screen == screenRetest:
		keys = retestKeys
	default:
		keys = lineKeys
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, m.st.Key.Render(k.key)+" "+m.st.Dim.Render(k.help))
	}
	return truncate(strings.Join(parts, "  "), width)
}

// truncate cuts s (which may hold escape codes) to width cells.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, "…")
}
