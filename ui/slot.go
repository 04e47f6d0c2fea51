package ui

import (
	"strings"
	"time"
	"unicode"

	"fleetline/station"
)

// stepRecord is one step of the current attempt, for the detail timeline.
type stepRecord struct {
	Step     station.Step
	Started  time.Time
	Duration time.Duration
	Done     bool
	Message  string
	Failed   bool
}

// slotModel is what the screen knows of one slot, built from events only.
type slotModel struct {
	Name    string
	State   station.State
	Step    station.Step
	MAC, SN string
	Message string

	// The current (or last) attempt.
	Started      time.Time
	Ended        time.Time
	Steps        []stepRecord
	Measurements []station.Measurement
	Label        string // region being written
	Done, Total  int64
	Result       *station.UnitResult
	Passed       int
	Failed       int

	Tries int // retries of the current board so far

	Quarantined bool
	Console     *ring[string]
}

func newSlot(name string, consoleLines int) *slotModel {
	return &slotModel{Name: name, State: station.StateIdle, Step: station.StepWaiting, Console: newRing[string](consoleLines)}
}

// running reports whether a board is being worked on.
func (s *slotModel) running() bool { return s.State == station.StateRunning }

// newAttempt clears what belonged to the previous board.
func (s *slotModel) newAttempt(t time.Time) {
	s.Started, s.Ended = t, time.Time{}
	s.Steps, s.Measurements = nil, nil
	s.Label, s.Done, s.Total = "", 0, 0
	s.Result = nil
	s.MAC, s.SN = "", ""
	s.Tries = 0
}

// elapsed is how long the current attempt has run, or the last one took.
func (s *slotModel) elapsed(now time.Time) time.Duration {
	switch {
	case s.Started.IsZero():
		return 0
	case !s.Ended.IsZero():
		return s.Ended.Sub(s.Started)
	case now.Before(s.Started):
		return 0
	}
	return now.Sub(s.Started)
}

// apply folds one slot event into the slot.
func (s *slotModel) apply(ev station.Event) {
	switch ev.Type {
	case station.EvSlotState:
		if ev.State == station.StateRunning && !s.running() {
			s.newAttempt(ev.Time)
		} else if ev.State == station.StateRunning && ev.Step == station.StepWaiting && len(s.Steps) > 0 {
			// A retry of the same board: the timeline shows this try only.
			s.Steps, s.Measurements = nil, nil
			s.Tries++
		}
		s.State, s.Step, s.Message = ev.State, ev.Step, ev.Message
		if ev.State == station.StateRunning && ev.Step != station.StepWaiting && ev.Step != station.StepDone && ev.Step != "" {
			s.beginStep(ev.Step, ev.Time) // identify is announced by state alone
		}
		if ev.State == station.StateQuarantined {
			s.Quarantined = true
		} else if s.Quarantined && ev.State != station.StatePass && ev.State != station.StateFail {
			s.Quarantined = false
		}
		if ev.State == station.StatePass || ev.State == station.StateFail {
			if s.Ended.IsZero() {
				s.Ended = ev.Time
			}
		}
	case station.EvStepStarted:
		if !s.running() {
			s.newAttempt(ev.Time)
			s.State = station.StateRunning
		}
		s.Step = ev.Step
		s.beginStep(ev.Step, ev.Time)
		if ev.Step != station.StepFlash {
			s.Label, s.Done, s.Total = "", 0, 0
		}
	case station.EvStepFinished:
		for i := len(s.Steps) - 1; i >= 0; i-- {
			if s.Steps[i].Step == ev.Step && !s.Steps[i].Done {
				s.Steps[i].Done, s.Steps[i].Duration, s.Steps[i].Message = true, ev.Duration, ev.Message
				break
			}
		}
	case station.EvProgress:
		s.Label, s.Done, s.Total = ev.Label, ev.Done, ev.Total
	case station.EvMeasurement:
		if ev.Measurement != nil {
			s.Measurements = append(s.Measurements, *ev.Measurement)
		}
	case station.EvConsole:
		s.Console.push(printable(ev.Message))
	case station.EvUnitResult:
		if r := ev.Result; r != nil {
			rc := *r
			s.Result = &rc
			s.Ended = ev.Time
			if r.Passed {
				s.Passed++
			} else {
				s.Failed++
				s.markFailedStep(r.Step)
			}
			if r.MAC != "" {
				s.MAC = r.MAC
			}
			if r.SN != "" {
				s.SN = r.SN
			}
		}
	case station.EvQuarantine:
		s.Quarantined = ev.State == station.StateQuarantined
		if s.Quarantined {
			s.Message = ev.Message
		}
	}
	if ev.MAC != "" {
		s.MAC = ev.MAC
	}
	if ev.SN != "" {
		s.SN = ev.SN
	}
}

// beginStep opens step on the timeline unless it is already the open one;
// a step that reported no end of its own ended when the next began.
func (s *slotModel) beginStep(step station.Step, t time.Time) {
	if n := len(s.Steps); n > 0 && s.Steps[n-1].Step == step && !s.Steps[n-1].Done {
		return
	}
	for i := range s.Steps {
		if !s.Steps[i].Done {
			s.Steps[i].Done = true
			if !t.IsZero() {
				s.Steps[i].Duration = t.Sub(s.Steps[i].Started)
			}
		}
	}
	s.Steps = append(s.Steps, stepRecord{Step: step, Started: t})
}

func (s *slotModel) markFailedStep(step station.Step) {
	for i := len(s.Steps) - 1; i >= 0; i-- {
		if s.Steps[i].Step == step {
			s.Steps[i].Failed = true
			return
		}
	}
}

// ring is a bounded buffer keeping the newest n items.
type ring[T any] struct {
	buf   []T
	start int
	n     int
}

func newRing[T any](n int) *ring[T] {
	if n < 1 {
		n = 1
	}
	return &ring[T]{buf: make([]T, 0, n), n: n}
}

func (r *ring[T]) push(v T) {
	if len(r.buf) < r.n {
		r.buf = append(r.buf, v)
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % r.n
}

// last returns up to k newest items, oldest first.
func (r *ring[T]) last(k int) []T {
	all := make([]T, 0, len(r.buf))
	all = append(all, r.buf[r.start:]...)
	all = append(all, r.buf[:r.start]...)
	if k >= 0 && k < len(all) {
		all = all[len(all)-k:]
	}
	return all
}

func (r *ring[T]) len() int { return len(r.buf) }

// printable drops control characters (a board's console may carry escape
// sequences that would move the operator's cursor).
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}
