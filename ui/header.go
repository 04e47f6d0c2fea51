package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
)

// Claim certificate validity thresholds: the header turns amber when less
// than ClaimAmber is left (time to order fresh claim credentials) and red
// under ClaimRed or once expired (boards will fail provisioning).
const (
	ClaimAmber = 4 * time.Hour
	ClaimRed   = time.Hour
)

// claimLevel is how urgent the claim's remaining validity is.
type claimLevel int

const (
	claimOK claimLevel = iota
	claimSoon
	claimUrgent
	claimExpired
)

func claimUrgency(left time.Duration) claimLevel {
	switch {
	case left <= 0:
		return claimExpired
	case left < ClaimRed:
		return claimUrgent
	case left < ClaimAmber:
		return claimSoon
	}
	return claimOK
}

// claimText is the header's claim segment, in words that carry the
// urgency without colour.
func (m *Model) claimText() string {
	if m.opts.ClaimNotAfter.IsZero() {
		return ""
	}
	left := m.opts.ClaimNotAfter.Sub(m.now)
	switch claimUrgency(left) {
	case claimExpired:
		return m.st.Bad.Render("CLAIM CERT EXPIRED " + span(-left) + " ago: refresh the claim credentials")
	case claimUrgent:
		return m.st.Bad.Render("CLAIM CERT EXPIRES IN " + span(left))
	case claimSoon:
		return m.st.Warn.Render("claim cert " + span(left) + " left (renew soon)")
	}
	return "claim cert " + span(left) + " left"
}

// span renders a duration as 2d3h, 5h07m, 12m or 40s.
func span(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// runState is the batch's state in one word.
func (m *Model) runState() string {
	switch {
	case m.quitting && !m.closed:
		return m.st.Warn.Render("STOPPING: boards in flight finish")
	case m.finished:
		return m.st.Bold.Render("FINISHED")
	case m.paused:
		return m.st.Warn.Render("PAUSED")
	case m.running:
		return m.st.Good.Render("RUNNING")
	case m.started:
		return "STARTING"
	}
	return m.st.Warn.Render("NOT STARTED: press s to start")
}

// headerView is the batch line and the counters, flowed into width.
func (m *Model) headerView(width int) string {
	o := m.opts
	id := []string{m.st.Title.Render("fleetline")}
	add := func(k, v string) {
		if v != "" {
			id = append(id, k+" "+m.st.Bold.Render(v))
		}
	}
	add("batch", o.Batch)
	add("product", o.Product)
	add("fw", o.Firmware)
	add("station", o.Station)
	add("operator", o.Operator)
	if c := m.claimText(); c != "" {
		id = append(id, c)
	}
	st := m.stats
	q := st.Quantity
	if q == 0 {
		q = o.Quantity
	}
	if !m.haveStat {
		st.Remaining = q
	}
	remaining := fmt.Sprintf("remaining %d", st.Remaining)
	if q > 0 {
		remaining += fmt.Sprintf(" of %d", q)
	} else if !m.haveStat {
		remaining = ""
	}
	counters := []string{
		m.st.Good.Render(fmt.Sprintf("passed %d", st.Passed)),
		m.failedText(st.Failed),
		fmt.Sprintf("in progress %d", st.InProgress),
	}
	if remaining != "" {
		counters = append(counters, remaining)
	}
	counters = append(counters, fmt.Sprintf("FPY %.1f%%", 100*st.FirstPassYield), fmt.Sprintf("%.1f units/h", m.unitsPerHour()))
	// One flow: two lines on a 100-column terminal, one on a wall display.
	return flow(append(append(id, m.runState()), counters...), width)
}

func (m *Model) failedText(n int) string {
	s := fmt.Sprintf("failed %d", n)
	if n > 0 {
		return m.st.Bad.Render(s)
	}
	return s
}

// flow joins segments with two spaces, breaking lines to fit width.
func flow(segs []string, width int) string {
	var lines []string
	cur := ""
	for _, s := range segs {
		if s == "" {
			continue
		}
		switch {
		case cur == "":
			cur = s
		case lipgloss.Width(cur)+2+lipgloss.Width(s) <= width:
			cur += "  " + s
		default:
			lines = append(lines, cur)
			cur = s
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	for i, l := range lines {
		lines[i] = truncate(l, width)
	}
	return strings.Join(lines, "\n")
}

// unitsPerHour is the engine's rate, or, until it has one, the rate of
// this session: boards passed since the batch started.
func (m *Model) unitsPerHour() float64 {
	if m.stats.UnitsPerHour > 0 || m.batchStart.IsZero() {
		return m.stats.UnitsPerHour
	}
	el := m.now.Sub(m.batchStart)
	if el < time.Second {
		return 0
	}
	passed := 0
	for _, r := range m.results {
		if r.Passed {
			passed++
		}
	}
	return float64(passed) * float64(time.Hour) / float64(el)
}
