package audit

import (
	"context"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fleetline/serialno"
)

// setClock is a clock the test moves by hand.
type setClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *setClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *setClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func TestBatchRate(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	type run struct {
		at      time.Duration // end time after t0 (the attempt starts 1 min before)
		outcome string
		kind    string
	}
	every := func(n int, step, from time.Duration) []run {
		var out []run
		for i := range n {
			out = append(out, run{at: from + time.Duration(i)*step, outcome: OutcomePass})
		}
		return out
	}
	tests := []struct {
		name   string
		runs   []run
		window time.Duration
		want   float64
	}{
		{"no attempts", nil, time.Hour, 0},
		{"one pass", every(1, time.Minute, time.Minute), time.Hour, 0},
		{"two passes under a minute apart", every(2, 30*time.Second, time.Minute), time.Hour, 0},
		{"one a minute", every(31, time.Minute, time.Minute), time.Hour, 60},
		{"failures and retests do not count", append(every(11, 2*time.Minute, time.Minute),
			run{at: 3 * time.Minute, outcome: OutcomeFail}, run{at: 5 * time.Minute, outcome: OutcomePass, kind: KindRetest}), time.Hour, 30},
		{"only the last window of activity", append(every(61, 6*time.Second, time.Minute), every(13, 5*time.Minute, 3*time.Hour)...), time.Hour, 12},
		{"after a break, the rate of the latest activity", append(every(13, 5*time.Minute, time.Minute), every(2, time.Minute, 20*time.Hour)...), time.Hour, 60},
		{"zero window is an hour", every(31, time.Minute, time.Minute), 0, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &setClock{now: t0}
			s, err := Open(filepath.Join(t.TempDir(), "audit.db"), Options{Station: "st1", Clock: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 1000})
			for i, r := range tt.runs {
				clk.set(t0.Add(r.at - time.Minute))
				id, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(i), Slot: "A", Kind: r.kind})
				if err != nil {
					t.Fatal(err)
				}
				clk.set(t0.Add(r.at))
				if err := s.FinishAttempt(ctx, id, Outcome{Result: r.outcome, ReasonCode: "x"}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.BatchRate(ctx, "B1", tt.window)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("BatchRate = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("unknown batch", func(t *testing.T) {
		s, _ := openTest(t)
		if _, err := s.BatchRate(context.Background(), "nope", time.Hour); err == nil {
			t.Error("BatchRate of an unknown batch: no error")
		}
	})
}
