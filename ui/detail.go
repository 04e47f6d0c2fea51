package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"fleetline/station"
)

// detailKey handles the detail view's keys.
func (m *Model) detailKey(ks string) tea.Cmd {
	if cmd, ok := m.commonKey(ks); ok {
		return cmd
	}
	switch ks {
	case keyBack, keyDetail, "backspace":
		m.screen = m.back
	case keyLeft, keyUp:
		m.move(-1)
	case keyRight, keyDown:
		m.move(1)
	default:
		m.digit(ks)
	}
	return nil
}

// detailView is one slot in full: identity, result, step timeline,
// measurements against limits and the console's last lines.
func (m *Model) detailView(width, height int) string {
	s := m.selectedSlot()
	if s == nil {
		return "no slot selected"
	}
	var out []string
	add := func(l string) { out = append(out, truncate(l, width)) }
	add(fmt.Sprintf("Slot %s  %s  SN %s  MAC %s  elapsed %s  (passed %d, failed %d on this slot)",
		m.st.Bold.Render(s.Name), m.label(s), orDash(s.SN), orDash(s.MAC), dur(s.elapsed(m.now)), s.Passed, s.Failed))
	if r := s.Result; r != nil && !s.running() {
		if r.Passed {
			add(m.st.Good.Render("PASS") + fmt.Sprintf(" thing %s, certificate %s, %s", orDash(r.ThingName), orDash(r.CertID), dur(r.Duration)))
		} else {
			add(m.st.Bad.Render("FAIL "+humanReason(r.Reason)) + fmt.Sprintf(" (%s, at %s): %s", r.Kind, r.Step, r.Message))
			add("what to do: " + r.Remedy)
		}
	} else if s.Message != "" {
		add(s.Message)
	}
	if s.Quarantined {
		add(m.st.Warn.Render("QUARANTINED: check the cable, hub port and pogo pins, then press c to clear"))
	}
	add("")
	steps := "Steps"
	if s.Tries > 0 {
		steps += fmt.Sprintf(" (retry %d of this board)", s.Tries)
	}
	add(m.st.Title.Render(steps))
	for _, st := range s.Steps {
		mark, took := "…", "running"
		switch {
		case st.Failed && !st.Done:
			mark, took = "✘", "-"
		case st.Failed:
			mark, took = "✘", dur(st.Duration)
		case st.Done:
			mark, took = "✔", dur(st.Duration)
		}
		add(fmt.Sprintf("  %s %-11s %8s  %s", mark, st.Step, took, st.Message))
	}
	if s.running() && s.Step == station.StepFlash && s.Total > 0 {
		add("    " + m.activity(s, min(width-4, 60)))
	}
	if len(s.Measurements) > 0 {
		add("")
		add(m.st.Title.Render("Self test"))
		for _, ms := range s.Measurements {
			verdict := m.st.Good.Render("pass")
			if !ms.Passed {
				verdict = m.st.Bad.Render("FAIL")
			}
			add(fmt.Sprintf("  %-16s %10g %-4s  limits %s  %s", ms.Name, ms.Value, ms.Unit, limits(ms), verdict))
		}
	}
	add("")
	add(m.st.Title.Render("Console") + m.st.Dim.Render(fmt.Sprintf(" (last of %d lines kept)", s.Console.len())))
	room := height - len(out)
	for _, l := range s.Console.last(max(room, 0)) {
		add("  " + l)
	}
	if len(out) > height {
		out = out[:height]
	}
	return strings.Join(out, "\n")
}

// limits renders a measurement's limits: [3.0, 3.6], ≥ 10, ≤ 2.
func limits(ms station.Measurement) string {
	switch {
	case ms.Low != nil && ms.High != nil:
		return fmt.Sprintf("[%g, %g]", *ms.Low, *ms.High)
	case ms.Low != nil:
		return fmt.Sprintf("≥ %g", *ms.Low)
	case ms.High != nil:
		return fmt.Sprintf("≤ %g", *ms.High)
	}
	return "none"
}
