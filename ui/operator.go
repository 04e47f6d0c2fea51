package ui

import (
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
)

// maxOperatorLen bounds the id: badge scanners type 8 to 20 characters.
const maxOperatorLen = 32

// operatorKey edits the operator id. A badge scanner types the id and
// Enter, which arrives here exactly like typing does.
func (m *Model) operatorKey(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEnter:
		id := strings.TrimSpace(m.operator)
		if id == "" {
			m.lastErr = "an operator id is required: scan your badge or type your id"
			return nil
		}
		m.operator, m.lastErr = id, ""
		m.opts.Operator = id
		m.screen = m.afterOperator()
		c := m.opts.Controller
		cmd := m.call("set operator", func() error { c.SetOperator(id); return nil })
		if m.screen == screenLine || m.screen == screenRetest {
			return tea.Batch(cmd, m.autoStart())
		}
		return cmd
	case tea.KeyBackspace:
		if r := []rune(m.operator); len(r) > 0 {
			m.operator = string(r[:len(r)-1])
		}
	case tea.KeyCtrlU:
		m.operator = ""
	case tea.KeyRunes, tea.KeySpace:
		for _, r := range k.Runes {
			if unicode.IsPrint(r) && len([]rune(m.operator)) < maxOperatorLen {
				m.operator += string(r)
			}
		}
		if k.Type == tea.KeySpace && len(k.Runes) == 0 {
			m.operator += " "
		}
	}
	return nil
}

// operatorView is the shift-start prompt.
func (m *Model) operatorView() string {
	var b strings.Builder
	b.WriteString(m.st.Title.Render("Start of shift") + "\n\n")
	b.WriteString("Scan your badge or type your operator id, then press Enter.\n")
	b.WriteString("It is recorded with every board you run.\n\n")
	b.WriteString("Operator id: " + m.st.Bold.Render("["+m.operator+"_]") + "\n")
	if m.lastErr != "" {
		b.WriteString("\n" + m.st.Bad.Render(m.lastErr) + "\n")
	}
	return m.st.Dialog.Render(strings.TrimRight(b.String(), "\n"))
}
