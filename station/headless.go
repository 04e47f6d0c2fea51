package station

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Headless exit codes.
const (
	ExitAllPassed   = 0 // every board of the run passed
	ExitSomeFailed  = 1 // at least one board failed
	ExitConfig      = 2 // configuration or pre-flight error: no board was touched
	ExitInterrupted = 3 // the run was stopped (SIGINT) before it finished
)

// HeadlessOptions choose the headless output.
type HeadlessOptions struct {
	JSON    bool // one JSON object per line; else readable lines
	Verbose bool // also progress and console lines
}

// SummaryLine is the last JSON line of a headless run.
type SummaryLine struct {
	Type string `json:"type"` // "summary"
	Summary
	ExitCode int `json:"exit_code"`
}

// ExitCode maps a run's summary to the headless exit code.
func (s Summary) ExitCode() int {
	switch {
	case s.Interrupted:
		return ExitInterrupted
	case s.RunFailed > 0:
		return ExitSomeFailed
	}
	return ExitAllPassed
}

// WriteHeadless prints events from ch until it closes, then the summary;
// it returns the exit code. Call it with a channel from Engine.Subscribe
// taken before Start, and the summary from Engine.Wait.
func WriteHeadless(w io.Writer, ch <-chan Event, wait func() Summary, opt HeadlessOptions) int {
	enc := json.NewEncoder(w)
	for ev := range ch {
		if !opt.Verbose && (ev.Type == EvProgress || ev.Type == EvConsole || ev.Type == EvMeasurement) {
			continue
		}
		if opt.JSON {
			_ = enc.Encode(ev)
			continue
		}
		if line := textLine(ev, opt.Verbose); line != "" {
			fmt.Fprintln(w, line)
		}
	}
	sum := wait()
	code := sum.ExitCode()
	if opt.JSON {
		_ = enc.Encode(SummaryLine{Type: "summary", Summary: sum, ExitCode: code})
		return code
	}
	st := sum.Stats
	fmt.Fprintf(w, "summary: %d passed, %d failed in this run; batch %d/%d passed, %d remaining; first-pass yield %.1f%%, final %.1f%%, %.0f units/h%s\n",
		sum.RunPassed, sum.RunFailed, st.Passed, st.Quantity, st.Remaining, 100*st.FirstPassYield, 100*st.FinalYield, st.UnitsPerHour,
		map[bool]string{true: " (interrupted)", false: ""}[sum.Interrupted])
	for _, s := range st.Slots {
		fmt.Fprintf(w, "  slot %-10s passed %3d failed %3d yield %5.1f%% mean cycle %s%s\n", s.Slot, s.Passed, s.Failed, 100*s.Yield(),
			s.MeanCycle().Round(time.Millisecond), map[bool]string{true: " QUARANTINED", false: ""}[s.Quarantined])
	}
	return code
}

// textLine renders an event as one readable line, or "" to skip it.
func textLine(ev Event, verbose bool) string {
	ts := ev.Time.UTC().Format("15:04:05")
	slot := ev.Slot
	if slot == "" {
		slot = "-"
	}
	switch ev.Type {
	case EvUnitResult:
		r := ev.Result
		if r.Passed {
			return fmt.Sprintf("%s %s PASS sn=%s mac=%s thing=%s %s", ts, slot, r.SN, r.MAC, r.ThingName, r.Duration.Round(time.Millisecond))
		}
		return fmt.Sprintf("%s %s FAIL sn=%s mac=%s %s (%s, %s): %s — %s", ts, slot, orDash(r.SN), orDash(r.MAC), r.Reason, r.Kind, r.Step, r.Message, r.Remedy)
	case EvStepFinished:
		if !verbose {
			return ""
		}
		return fmt.Sprintf("%s %s %s done in %s %s", ts, slot, ev.Step, ev.Duration.Round(time.Millisecond), ev.Message)
	case EvStepStarted, EvStats, EvSlotState:
		if verbose && ev.Type == EvSlotState && ev.Message != "" {
			return fmt.Sprintf("%s %s %s/%s %s", ts, slot, ev.State, ev.Step, ev.Message)
		}
		return ""
	case EvProgress:
		return fmt.Sprintf("%s %s %s %s %d/%d", ts, slot, ev.Step, ev.Label, ev.Done, ev.Total)
	case EvConsole:
		return fmt.Sprintf("%s %s | %s", ts, slot, ev.Message)
	case EvMeasurement:
		m := ev.Measurement
		return fmt.Sprintf("%s %s test %s = %g%s pass=%t", ts, slot, m.Name, m.Value, m.Unit, m.Passed)
	}
	msg := strings.TrimSpace(ev.Message)
	if msg == "" || (!verbose && ev.Type == EvLog && ev.Step != "") {
		return "" // step-level notes (provisioning steps) are for -v
	}
	return fmt.Sprintf("%s %s %s: %s", ts, slot, ev.Type, msg)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
