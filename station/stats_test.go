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
