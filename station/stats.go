package station

import (
	"context"
	"sync"

	"fleetline/batch"
)

// slotState is the engine's view of one slot, guarded by Engine.mu except
// kickCh, which wakes the slot's supervisor from a nap.
type slotState struct {
	slot   Slot
	kickCh chan struct{}
	retry  bool
	state  State
	step   Step
	mac    string
	sn     string
	msg    string
	stats  batch.SlotStats
	// done is the state and message the slot's last board finished with,
	// shown again while it waits in the slot.
	doneState State
	doneMsg   string
}

func newSlotState(s Slot) *slotState {
	return &slotState{slot: s, kickCh: make(chan struct{}, 1), state: StateIdle, step: StepWaiting, stats: batch.SlotStats{Slot: s.Name}}
}

func (ss *slotState) kick() {
	select {
	case ss.kickCh <- struct{}{}:
	default:
	}
}

// SlotView is a snapshot of one slot for a screen that starts late.
type SlotView struct {
	Slot    Slot            `json:"slot"`
	State   State           `json:"state"`
	Step    Step            `json:"step"`
	MAC     string          `json:"mac,omitempty"`
	SN      string          `json:"sn,omitempty"`
	Message string          `json:"message,omitempty"`
	Stats   batch.SlotStats `json:"stats"`
}

// Slots returns a snapshot of every slot, in the order they were given.
func (e *Engine) Slots() []SlotView {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]SlotView, 0, len(e.order))
	for _, n := range e.order {
		ss := e.slots[n]
		out = append(out, SlotView{Slot: ss.slot, State: ss.state, Step: ss.step, MAC: ss.mac, SN: ss.sn, Message: ss.msg, Stats: ss.stats})
	}
	return out
}

// Stats returns the batch counters: from the audit log, plus what is in
// flight now.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.statsLocked()
}

func (e *Engine) statsLocked() Stats {
	p := batch.Compute(e.cfg.Quantity, e.counts)
	st := Stats{Quantity: e.cfg.Quantity, Passed: p.Passed, Failed: p.Failed, InProgress: e.inFlight,
		Remaining: p.Remaining, Attempts: p.Attempts, FirstPassYield: p.FirstPassYield,
		FinalYield: p.FinalYield, UnitsPerHour: p.UnitsPerHour}
	if st.UnitsPerHour == 0 && !e.runStart.IsZero() {
		// The store keeps no times for its counters: rate this run.
		st.UnitsPerHour = batch.Rate(e.runPassed, e.runStart, e.clock.Now())
	}
	if st.Attempts == 0 {
		st.Attempts = e.runAttempts
	}
	for _, n := range e.order {
		st.Slots = append(st.Slots, e.slots[n].stats)
	}
	batch.SortSlots(st.Slots)
	return st
}

func (e *Engine) statsPtr() *Stats {
	st := e.Stats()
	return &st
}

// refreshCounts re-reads the batch counters from the store: the audit log
// is the one truth, so a resumed batch continues from its counts. Boards
// on many slots often finish together; their refreshes are coalesced: a
// caller waits for a read that started after it asked (so it sees its own
// board) and one read serves every caller waiting for it.
func (e *Engine) refreshCounts(ctx context.Context) {
	if e.cfg.Mode == ModeRetest {
		return // re-tests do not move a batch's counters
	}
	r := &e.refresh
	r.mu.Lock()
	if r.cond == nil {
		r.cond = sync.NewCond(&r.mu)
	}
	r.want++
	mine := r.want
	for r.done < mine {
		if r.running {
			r.cond.Wait()
			continue
		}
		r.running = true
		target := r.want
		r.mu.Unlock()
		e.readCounts(ctx)
		r.mu.Lock()
		r.running, r.done = false, target
		r.cond.Broadcast()
	}
	r.mu.Unlock()
}

// countsRefresh coalesces refreshCounts calls: want counts requests, done
// the requests covered by the last finished read.
type countsRefresh struct {
	mu         sync.Mutex
	cond       *sync.Cond
	want, done uint64
	running    bool
}

func (e *Engine) readCounts(ctx context.Context) {
	e.lazy.readStarting()
	c, err := e.store.Counts(ctx, e.cfg.Batch)
	if err != nil {
		e.emit(Event{Type: EvLog, Message: "audit log: read batch progress: " + err.Error()})
		return
	}
	e.mu.Lock()
	e.counts = c
	e.mu.Unlock()
}

// setState records and publishes a slot's state change.
func (e *Engine) setState(ss *slotState, st State, step Step, msg string) {
	e.mu.Lock()
	if ss.state == st && ss.step == step && ss.msg == msg {
		e.mu.Unlock()
		return
	}
	ss.state, ss.step, ss.msg = st, step, msg
	ev := Event{Type: EvSlotState, Slot: ss.slot.Name, State: st, Step: step, MAC: ss.mac, SN: ss.sn, Message: msg}
	e.mu.Unlock()
	e.emit(ev)
}

// setIdentity notes the board's MAC and SN on its slot.
func (e *Engine) setIdentity(ss *slotState, mac, sn string) {
	e.mu.Lock()
	ss.mac, ss.sn = mac, sn
	e.mu.Unlock()
}
