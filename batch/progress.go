package batch

import (
	"sort"
	"time"
)

// Counts are what the audit log knows about a batch: how many boards were
// tried, how many passed (at all, and on their first attempt), how many
// attempts were made, and when the first and latest attempts ended.
type Counts struct {
	Tried       int // distinct boards with at least one finished attempt
	Passed      int // boards whose latest attempt passed
	Failed      int // boards whose latest attempt failed
	FirstPassed int // boards that passed on their first attempt
	Attempts    int
	Interrupted int // attempts left open by a crash and closed on resume
	First, Last time.Time
	// UnitsPerHour is the recent rate the audit log measured (passed
	// units per hour over its last hour of activity); 0 falls back to
	// Passed over First..Last.
	UnitsPerHour float64
}

// Progress is the batch's state as the operator sees it.
type Progress struct {
	Quantity       int
	Passed         int
	Failed         int
	Remaining      int
	Attempts       int
	FirstPassYield float64 // boards passing first time / boards tried
	FinalYield     float64 // boards passed / boards tried
	UnitsPerHour   float64 // passed units per hour of batch time
	ETA            time.Duration
}

// Compute derives the progress of a batch of quantity units from counts.
func Compute(quantity int, c Counts) Progress {
	p := Progress{Quantity: quantity, Passed: c.Passed, Failed: c.Failed, Attempts: c.Attempts}
	p.Remaining = max(quantity-c.Passed, 0)
	if c.Tried > 0 {
		p.FirstPassYield = float64(c.FirstPassed) / float64(c.Tried)
		p.FinalYield = float64(c.Passed) / float64(c.Tried)
	}
	p.UnitsPerHour = c.UnitsPerHour
	if p.UnitsPerHour <= 0 {
		p.UnitsPerHour = Rate(c.Passed, c.First, c.Last)
	}
	if p.UnitsPerHour > 0 {
		p.ETA = time.Duration(float64(p.Remaining) / p.UnitsPerHour * float64(time.Hour))
	}
	return p
}

// Rate is units per hour over [first, last]; 0 when the span is too short
// to say (under a minute, or fewer than two units).
func Rate(units int, first, last time.Time) float64 {
	span := last.Sub(first)
	if units < 2 || span < time.Minute {
		return 0
	}
	return float64(units) / span.Hours()
}

// SlotStats are one slot's counters, for slot-health analytics: a slot
// whose yield is far below the others' is a cable, hub port or pogo pin.
type SlotStats struct {
	Slot             string        `json:"slot"`
	Passed           int           `json:"passed"`
	Failed           int           `json:"failed"`
	Attempts         int           `json:"attempts"`
	ConsecutiveFails int           `json:"consecutive_fails"`
	Quarantined      bool          `json:"quarantined,omitempty"`
	BusyTime         time.Duration `json:"busy_ns"` // sum of attempt durations
}

// Yield is the slot's passed boards over its finished boards.
func (s SlotStats) Yield() float64 {
	if n := s.Passed + s.Failed; n > 0 {
		return float64(s.Passed) / float64(n)
	}
	return 0
}

// MeanCycle is the mean attempt duration on the slot.
func (s SlotStats) MeanCycle() time.Duration {
	if s.Attempts == 0 {
		return 0
	}
	return s.BusyTime / time.Duration(s.Attempts)
}

// SortSlots orders slot statistics by slot name.
func SortSlots(s []SlotStats) {
	sort.Slice(s, func(i, j int) bool { return s[i].Slot < s[j].Slot })
}
