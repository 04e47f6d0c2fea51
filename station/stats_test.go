package station

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"fleetline/batch"
)

// gatedStore counts Counts calls; each one waits for a value on gate and
// reports that many passes.
type gatedStore struct {
	*fakeStore
	calls   atomic.Int32
	started chan struct{}
	gate    chan int
}

func (g *gatedStore) Counts(context.Context, string) (batch.Counts, error) {
	g.calls.Add(1)
	g.started <- struct{}{}
	return batch.Counts{Passed: <-g.gate}, nil
}

// TestRefreshCountsCoalesces: boards finishing together share a read of
// the counters, and none returns with counts read before it asked.
func TestRefreshCountsCoalesces(t *testing.T) {
	r := newRig(t)
	g := &gatedStore{fakeStore: r.store, started: make(chan struct{}), gate: make(chan int)}
	e, err := New(r.cfg, Deps{Connector: r.line, Store: g, Clock: r.clock})
	must(t, err)
	ctx := context.Background()

	go e.refreshCounts(ctx) // a read in flight, from before the others asked
	<-g.started
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.refreshCounts(ctx)
			if got := e.Stats().Passed; got != 2 {
				t.Errorf("refresh returned with %d passed, want the read that began after it asked (2)", got)
			}
		}()
	}
	for asked := uint64(0); asked < n+1; runtime.Gosched() { // every refresh has asked
		e.refresh.mu.Lock()
		asked = e.refresh.want
		e.refresh.mu.Unlock()
	}
	g.gate <- 1 // the first read ends with what it saw before
	<-g.started // one more read covers all the waiters
	g.gate <- 2
	wg.Wait()
	if c := g.calls.Load(); c != 2 {
		t.Errorf("%d reads for %d concurrent refreshes, want 2", c, n+1)
	}
}

// TestFarFromQuantity: the counters may be read late only while the
// passes on record, the boards finished since the last read, the boards
// in flight and a margin of two per slot cannot reach the quantity.
func TestFarFromQuantity(t *testing.T) {
	tests := []struct {
		name                      string
		quantity                  int
		passed, pending, inFlight int
		want                      bool
	}{
		{"no quantity", 0, 500, 0, 0, true},
		{"far", 100, 50, 10, 10, true},
		{"just far", 100, 95, 0, 0, true},
		{"margin reached", 100, 96, 0, 0, false},
		{"pending counts", 100, 90, 6, 0, false},
		{"in flight counts", 100, 90, 0, 6, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.cfg.Quantity = tc.quantity
			e, err := New(r.cfg, Deps{Connector: r.line, Store: r.store, Clock: r.clock})
			must(t, err)
			e.slots = map[string]*slotState{"A": newSlotState(Slot{Name: "A"})} // margin 2*1+2
			e.counts.Passed, e.lazy.pending, e.inFlight = tc.passed, tc.pending, tc.inFlight
			if got := e.farFromQuantity(); got != tc.want {
				t.Errorf("far from %d with %d passed, %d pending, %d in flight: %t, want %t",
					tc.quantity, tc.passed, tc.pending, tc.inFlight, got, tc.want)
			}
		})
	}
}
