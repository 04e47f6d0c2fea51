package ui

import (
	"fmt"
	"strings"

	"fleetline/station"
)

// logLine turns an event into a log pane entry; progress, console lines
// and step starts stay out (they are in the tiles and the detail view).
func logLine(ev station.Event) (logEntry, bool) {
	e := logEntry{Time: ev.Time, Slot: ev.Slot}
	switch ev.Type {
	case station.EvUnitResult:
		r := ev.Result
		if r == nil {
			return e, false
		}
		if r.Passed {
			e.Text = fmt.Sprintf("PASS %s %s thing %s in %s", r.SN, r.MAC, orDash(r.ThingName), dur(r.Duration))
		} else {
			e.Text = fmt.Sprintf("FAIL %s %s: %s at %s: %s → %s", orDash(r.SN), orDash(r.MAC), humanReason(r.Reason), r.Step, r.Message, r.Remedy)
			e.Bad = true
		}
	case station.EvBatchStarted, station.EvBatchFinished, station.EvBatchPaused, station.EvBatchResumed, station.EvLog, station.EvQuarantine:
		e.Text = ev.Message
		if e.Text == "" {
			e.Text = strings.ReplaceAll(string(ev.Type), "_", " ")
		}
		e.Bad = ev.Type == station.EvQuarantine && ev.State == station.StateQuarantined
	case station.EvSlotState:
		// Retries and boards that do not answer are worth a line.
		if ev.Step != station.StepWaiting || ev.Message == "" || ev.Message == "waiting for a board" || ev.Message == "paused" {
			return e, false
		}
		e.Text = ev.Message
	default:
		return e, false
	}
	return e, true
}

// logHeight is the pane's height for a screen of height h.
func (m *Model) logHeight(h int) int {
	switch {
	case m.logBig:
		return max(h/2, 4)
	case h >= 50:
		return 10
	case h >= 36:
		return 7
	case h >= 28:
		return 5
	}
	return 4
}

// logView renders the newest entries that fit height (a rule first).
func (m *Model) logView(width, height int) string {
	if height < 1 {
		return ""
	}
	title := "─ log "
	lines := []string{m.st.Dim.Render(title + strings.Repeat("─", max(width-len([]rune(title)), 0)))}
	for _, e := range m.log.last(height - 1) {
		slot := e.Slot
		if slot == "" {
			slot = "-"
		}
		text := e.Text
		if e.Bad {
			text = m.st.Bad.Render(text)
		}
		lines = append(lines, truncate(fmt.Sprintf("%s %-4s %s", e.Time.UTC().Format("15:04:05"), slot, text), width))
	}
	return strings.Join(lines, "\n")
}
