package station

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"fleetline/batch"
	"fleetline/firmware/selftest"
)

// Deps are the engine's outside world.
type Deps struct {
	Connector Connector
	Store     Store
	Clock     Clock // nil: SystemClock
}

// Engine runs a batch across slots: one supervisor goroutine per slot, all
// publishing Events. Its controls (Pause, Resume, Stop, RetrySlot,
// ClearQuarantine, SetOperator) are safe from any goroutine.
type Engine struct {
	cfg   Config
	conn  Connector
	store Store
	clock Clock
	bus   *bus

	mu          sync.Mutex
	operator    string
	paused      bool
	stopping    bool
	stopCh      chan struct{}
	slots       map[string]*slotState
	order       []string
	started     int // boards taken on in this run
	inFlight    int
	counts      batch.Counts
	runPassed   int // boards of this run whose final attempt passed
	runFailed   int
	runAttempts int
	runStart    time.Time
	interrupted bool
	running     bool
	wg          sync.WaitGroup
	finished    chan struct{}
	summary     Summary
	refresh     countsRefresh
	lazy        lazyCounts
}

// Summary is how a run ended.
type Summary struct {
	Stats       Stats `json:"stats"`
	RunPassed   int   `json:"run_passed"` // boards passed in this run
	RunFailed   int   `json:"run_failed"` // boards failed in this run
	Interrupted bool  `json:"interrupted"`
}

// New checks the configuration and returns an engine ready to Start.
func New(cfg Config, deps Deps) (*Engine, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Connector == nil || deps.Store == nil {
		return nil, errors.New("station: a connector and a store are required")
	}
	if deps.Clock == nil {
		deps.Clock = SystemClock{}
	}
	if cfg.LooksLikeSecret == nil {
		cfg.LooksLikeSecret = selftest.LooksLikePrivateKey
	}
	return &Engine{cfg: cfg, conn: deps.Connector, store: deps.Store, clock: deps.Clock, bus: newBus(),
		operator: cfg.Operator, stopCh: make(chan struct{}), slots: map[string]*slotState{}, finished: make(chan struct{})}, nil
}

// Config returns the engine's configuration, defaults applied.
func (e *Engine) Config() Config { return e.cfg }

// Subscribe returns a channel of every event from now on, buffered by buf,
// and a cancel func. A slow reader never slows the line: its progress
// events are coalesced or dropped, others queue. The channel closes after
// the run ends (once everything queued is delivered) or on cancel.
func (e *Engine) Subscribe(buf int) (<-chan Event, func()) { return e.bus.subscribe(buf) }

func (e *Engine) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.clock.Now()
	}
	e.bus.publish(ev)
}

// Start loads the batch's counters from the store and starts one
// supervisor per slot. It returns once they run; Wait for the end.
func (e *Engine) Start(ctx context.Context, slots []Slot) error {
	if len(slots) == 0 {
		return errors.New("station: no slots")
	}
	counts, err := e.store.Counts(ctx, e.cfg.Batch)
	if err != nil && e.cfg.Mode == ModeBuild {
		return fmt.Errorf("station: read batch progress from the audit log: %w", err)
	}
	// A re-test may run on a log that holds other batches only.
	e.mu.Lock()
	if e.running {
		e.mu.Unlock()
		return errors.New("station: already started")
	}
	e.running = true
	e.counts = counts
	e.runStart = e.clock.Now()
	for _, s := range slots {
		if _, dup := e.slots[s.Name]; dup {
			e.mu.Unlock()
			return fmt.Errorf("station: slot %q listed twice", s.Name)
		}
		e.slots[s.Name] = newSlotState(s)
		e.order = append(e.order, s.Name)
	}
	e.mu.Unlock()
	e.emit(Event{Type: EvBatchStarted, Message: fmt.Sprintf("batch %s: %d slots, %s mode", e.cfg.Batch, len(slots), e.cfg.Mode), Stats: e.statsPtr()})
	for _, name := range e.order {
		ss := e.slots[name]
		e.wg.Add(1)
		go e.supervise(ctx, ss)
	}
	go func() {
		e.wg.Wait()
		e.mu.Lock()
		e.interrupted = e.interrupted || ctx.Err() != nil
		e.mu.Unlock()
		e.stopLazyCounts()
		e.refreshCounts(context.WithoutCancel(ctx))
		st := e.Stats()
		e.mu.Lock()
		e.summary = Summary{Stats: st, RunPassed: e.runPassed, RunFailed: e.runFailed, Interrupted: e.interrupted}
		sum := e.summary
		e.mu.Unlock()
		msg := fmt.Sprintf("batch %s: %d passed, %d failed in this run", e.cfg.Batch, sum.RunPassed, sum.RunFailed)
		if sum.Interrupted {
			msg += " (interrupted)"
		}
		e.emit(Event{Type: EvBatchFinished, Stats: &st, Message: msg})
		e.bus.closeAll()
		close(e.finished)
	}()
	return nil
}

// Wait blocks until every supervisor has ended and returns the summary.
func (e *Engine) Wait() Summary {
	<-e.finished
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.summary
}

// Run is Start then Wait.
func (e *Engine) Run(ctx context.Context, slots []Slot) (Summary, error) {
	if err := e.Start(ctx, slots); err != nil {
		return Summary{}, err
	}
	return e.Wait(), nil
}

// Pause stops slots from taking on new boards; boards in flight finish.
func (e *Engine) Pause() {
	e.mu.Lock()
	was := e.paused
	e.paused = true
	e.mu.Unlock()
	if !was {
		e.emit(Event{Type: EvBatchPaused, Message: "paused: boards in flight finish, no new board starts"})
	}
}

// Resume lets slots take on boards again.
func (e *Engine) Resume() {
	e.mu.Lock()
	was := e.paused
	e.paused = false
	e.mu.Unlock()
	if was {
		e.emit(Event{Type: EvBatchResumed})
		e.kickAll()
	}
}

// Stop ends the run gracefully: no new board starts, boards in flight run
// to the end of their attempt (or stop before reserving an SN) and are
// recorded. Cancel the context given to Start to abort steps as well; an
// aborted attempt is still recorded.
func (e *Engine) Stop() {
	e.mu.Lock()
	if !e.stopping {
		e.stopping = true
		e.interrupted = true
		close(e.stopCh)
	}
	e.mu.Unlock()
	e.emit(Event{Type: EvLog, Message: "stopping: boards in flight finish, then the run ends"})
}

// RetrySlot runs the board now on the slot again, though it already
// finished (after a failure the operator wants to retry).
func (e *Engine) RetrySlot(slot string) error {
	ss, err := e.slot(slot)
	if err != nil {
		return err
	}
	e.mu.Lock()
	ss.retry = true
	e.mu.Unlock()
	ss.kick()
	return nil
}

// ClearQuarantine returns a quarantined slot to service.
func (e *Engine) ClearQuarantine(slot string) error {
	ss, err := e.slot(slot)
	if err != nil {
		return err
	}
	e.mu.Lock()
	was := ss.stats.Quarantined
	ss.stats.Quarantined = false
	ss.stats.ConsecutiveFails = 0
	e.mu.Unlock()
	if was {
		e.emit(Event{Type: EvQuarantine, Slot: slot, State: StateIdle, Message: "quarantine cleared by the operator"})
	}
	ss.kick()
	return nil
}

// SetOperator sets the operator id recorded with every attempt from now on.
func (e *Engine) SetOperator(id string) {
	e.mu.Lock()
	e.operator = id
	e.mu.Unlock()
	e.emit(Event{Type: EvLog, Message: "operator " + id})
}

func (e *Engine) slot(name string) (*slotState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ss, ok := e.slots[name]
	if !ok {
		return nil, fmt.Errorf("station: no slot %q", name)
	}
	return ss, nil
}

func (e *Engine) kickAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ss := range e.slots {
		ss.kick()
	}
}

func (e *Engine) isStopping() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopping
}

func (e *Engine) currentOperator() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.operator
}

// nap waits d, or until the slot is kicked, the run stops or ctx ends. It
// returns ctx's error only.
func (e *Engine) nap(ctx context.Context, ss *slotState, d time.Duration) error {
	nctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-ss.kickCh:
			cancel()
		case <-e.stopCh:
			cancel()
		case <-nctx.Done():
		}
	}()
	_ = e.clock.Sleep(nctx, d)
	return ctx.Err()
}
