package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"fleetline/station"
)

// Tile geometry: a full tile is tileLines lines inside its border.
const (
	tileLines    = 6
	tileHeight   = tileLines + 2
	tileMinWidth = 25
	tileMaxWidth = 60
	rowMinWidth  = 38 // one compact list row
)

// label is the slot's state in a word, styled; without colour the word
// and its mark (✔ ✘ ⚠) say it all.
func (m *Model) label(s *slotModel) string {
	switch {
	case s.Quarantined:
		return m.st.LabelQuarantine.Render("⚠ QUARANTINED")
	case s.State == station.StatePass || (!s.running() && s.Result != nil && s.Result.Passed):
		return m.st.LabelPass.Render("✔ PASS")
	case s.State == station.StateFail || (!s.running() && s.Result != nil && !s.Result.Passed):
		return m.st.LabelFail.Render("✘ FAIL")
	case s.running():
		return m.st.LabelRunning.Render("▶ " + strings.ToUpper(string(s.Step)))
	case s.State == station.StatePaused:
		return m.st.LabelIdle.Render("PAUSED")
	}
	return m.st.LabelIdle.Render("idle")
}

// tileStyle picks the border shape and colour for the slot's state.
func (m *Model) tileStyle(s *slotModel) lipgloss.Style {
	switch {
	case s.Quarantined:
		return m.st.TileQuarantine
	case s.running():
		return m.st.TileRunning
	case s.Result != nil && s.Result.Passed:
		return m.st.TilePass
	case s.Result != nil:
		return m.st.TileFail
	}
	return m.st.TileIdle
}

// name is the slot's name with the selection mark.
func (m *Model) name(s *slotModel, selected bool) string {
	if selected {
		return m.st.Selected.Render("▸" + s.Name)
	}
	return " " + m.st.Bold.Render(s.Name)
}

// activity is what the slot is doing now, in at most width cells.
func (m *Model) activity(s *slotModel, width int) string {
	switch {
	case s.running() && s.Step == station.StepFlash && s.Total > 0:
		pct := fmt.Sprintf(" %3d%%", int(100*min(s.Done, s.Total)/s.Total))
		lab := "flash " + s.Label + " "
		barW := width - lipgloss.Width(lab) - len(pct)
		if barW < 6 {
			lab = ""
			barW = width - len(pct)
		}
		return lab + m.bar(s.Done, s.Total, barW) + pct
	case s.running():
		msg := string(s.Step)
		if s.Message != "" {
			msg += ": " + s.Message
		}
		return msg
	case s.Result != nil && s.Result.Passed:
		return withHint(s, "passed in "+dur(s.Result.Duration), width)
	case s.Result != nil:
		return withHint(s, m.st.Bad.Render(humanReason(s.Result.Reason))+" at "+string(s.Result.Step), width)
	case s.Message != "":
		return s.Message
	}
	return "waiting for a board"
}

// removeHint tells the operator the station is ready for the next board
// in a fixture: it watches the finished one's port (step "remove").
const removeHint = " · swap board"

// withHint adds removeHint to a finished slot's activity when it fits.
func withHint(s *slotModel, activity string, width int) string {
	if s.Step != station.StepRemove || lipgloss.Width(activity)+lipgloss.Width(removeHint) > width {
		return activity
	}
	return activity + removeHint
}

// bar is a progress bar of width cells.
func (m *Model) bar(done, total int64, width int) string {
	if width < 1 {
		return ""
	}
	full := 0
	if total > 0 {
		full = int(int64(width) * min(done, total) / total)
	}
	return m.st.BarFull.Render(strings.Repeat("█", full)) + m.st.BarEmpty.Render(strings.Repeat("░", width-full))
}

// reason is the failure (or quarantine) in plain words and its remedy.
func (m *Model) reason(s *slotModel) (what, remedy string) {
	switch {
	case s.Quarantined:
		return "slot quarantined", "check cable, hub port and pins; c clears"
	case s.running() || s.Result == nil || s.Result.Passed:
		return "", ""
	}
	return humanReason(s.Result.Reason), s.Result.Remedy
}

// humanReason turns a reason code into words: claim_expired → claim expired.
func humanReason(code string) string { return strings.ReplaceAll(code, "_", " ") }

// tileView renders a full tile of outer width w.
func (m *Model) tileView(s *slotModel, selected bool, w int) string {
	iw := max(w-2, 10)
	lines := make([]string, 0, tileLines)
	head := m.name(s, selected)
	lab := m.label(s)
	gap := iw - lipgloss.Width(head) - lipgloss.Width(lab)
	if gap < 1 {
		head = truncate(head, iw-lipgloss.Width(lab)-1)
		gap = 1
	}
	lines = append(lines, head+strings.Repeat(" ", gap)+lab)
	lines = append(lines, m.activity(s, iw))
	lines = append(lines, "MAC "+orDash(s.MAC))
	el := ""
	if d := s.elapsed(m.now); d > 0 {
		el = dur(d)
	}
	sn := "SN  " + orDash(s.SN)
	if g := iw - lipgloss.Width(sn) - lipgloss.Width(el); g > 0 {
		sn += strings.Repeat(" ", g) + el
	}
	lines = append(lines, sn)
	if what, remedy := m.reason(s); what != "" {
		if s.Quarantined {
			lines[1] = m.st.Warn.Render(what)
		}
		// The remedy gets the last two lines, wrapped.
		wrapped := strings.Split(ansi.Wrap("→ "+remedy, iw, " "), "\n")
		lines = append(lines, wrapped[:min(len(wrapped), tileLines-len(lines))]...)
	}
	for len(lines) < tileLines {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = truncate(l, iw)
	}
	return m.tileStyle(s).Width(iw).Render(strings.Join(lines, "\n"))
}

// rowView renders a slot as one compact line of width w.
func (m *Model) rowView(s *slotModel, selected bool, nameW, w int) string {
	name := m.name(s, selected)
	name += strings.Repeat(" ", max(nameW+1-lipgloss.Width(name), 0))
	lab := m.label(s)
	lab += strings.Repeat(" ", max(14-lipgloss.Width(lab), 1))
	rest := w - lipgloss.Width(name) - lipgloss.Width(lab)
	var tail string
	switch what, remedy := m.reason(s); {
	case what != "":
		tail = orDash(s.SN) + " " + m.st.Bad.Render(what) + " → " + remedy
	case s.running():
		tail = m.activity(s, min(rest-1, 30))
		if s.SN != "" {
			tail += " " + s.SN
		}
	case s.Result != nil:
		tail = s.SN + " " + s.MAC + " " + dur(s.Result.Duration)
	default:
		tail = m.activity(s, rest)
	}
	return truncate(name+lab+tail, w)
}

// dur renders an elapsed time: 850ms, 12.3s, 1m02s.
func dur(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return span(d)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
