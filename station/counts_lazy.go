package station

import (
	"context"
	"sync"
	"time"
)

// lazyCountsInterval bounds how often the batch counters are re-read from
// the audit log while the batch is far from its quantity. The read scans
// the batch, and with 32 slots a read per finished board was the largest
// single cost of the station's CPU.
const lazyCountsInterval = time.Second

// lazyCounts runs deferred reads of the batch counters, at most one per
// lazyCountsInterval, each followed by a stats event.
type lazyCounts struct {
	mu      sync.Mutex
	dirty   bool
	running bool
	last    time.Time
	// pending counts boards finished since the last read began: the
	// counters may not hold them yet, so the quantity check adds them.
	pending int
	wg      sync.WaitGroup
	stop    chan struct{}
}

// farFromQuantity reports whether boards finishing now cannot bring the
// batch to its quantity before the next read: the counters may then lag a
// moment without the quantity check taking on one board too many.
func (e *Engine) farFromQuantity() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg.Quantity == 0 {
		return true
	}
	e.lazy.mu.Lock()
	pending := e.lazy.pending
	e.lazy.mu.Unlock()
	margin := 2*len(e.slots) + 2
	return e.counts.Passed+pending+e.inFlight+margin < e.cfg.Quantity
}

// readStarting notes that a read of the counters begins: every board
// finished before it is in what it returns.
func (l *lazyCounts) readStarting() {
	l.mu.Lock()
	l.pending = 0
	l.mu.Unlock()
}

// refreshCountsSoon asks for a read of the counters within
// lazyCountsInterval, without waiting for it.
func (e *Engine) refreshCountsSoon(ctx context.Context) {
	l := &e.lazy
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dirty = true
	l.pending++
	if l.running {
		return
	}
	l.running = true
	if l.stop == nil {
		l.stop = make(chan struct{})
	}
	l.wg.Add(1)
	go e.lazyRefresher(ctx)
}

func (e *Engine) lazyRefresher(ctx context.Context) {
	l := &e.lazy
	defer l.wg.Done()
	for {
		l.mu.Lock()
		if !l.dirty {
			l.running = false
			l.mu.Unlock()
			return
		}
		wait := l.last.Add(lazyCountsInterval).Sub(e.clock.Now())
		stop := l.stop
		l.mu.Unlock()
		if wait > 0 && e.sleepUntilStop(wait, stop) != nil {
			l.mu.Lock()
			l.running = false
			l.mu.Unlock()
			return
		}
		l.mu.Lock()
		l.dirty, l.last = false, e.clock.Now()
		l.mu.Unlock()
		e.refreshCounts(ctx)
		st := e.Stats()
		e.emit(Event{Type: EvStats, Stats: &st})
	}
}

// sleepUntilStop waits d on the engine's clock; it returns an error at
// once when stop closes.
func (e *Engine) sleepUntilStop(d time.Duration, stop <-chan struct{}) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return e.clock.Sleep(ctx, d)
}

// stopLazyCounts ends a pending deferred read and waits for one in
// progress; the engine's final read follows it.
func (e *Engine) stopLazyCounts() {
	l := &e.lazy
	l.mu.Lock()
	if l.stop != nil {
		select {
		case <-l.stop:
		default:
			close(l.stop)
		}
	}
	l.mu.Unlock()
	l.wg.Wait()
}
