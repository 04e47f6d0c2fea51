package station

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// supervise is one slot's loop: wait for a board, run it (with retries),
// report it, and wait for the next. A board that stays in the slot after it
// finished is not run again until it is pulled out and plugged back in, a
// different board appears, or the operator asks for a retry. With a
// connector that can watch a port, a finished board is left alone until
// the port goes away or a chip on it powers up; otherwise, and whenever
// the station may have missed a board coming (while paused or quarantined,
// after a failed connect or a board it did not take), the slot is looked
// at (reset, SYNC, MAC) once per poll interval.
func (e *Engine) supervise(ctx context.Context, ss *slotState) {
	defer e.wg.Done()
	var lastMAC string
	connectFails := 0
	watcher, _ := e.conn.(Watcher)
	// watchable: the board last seen on the slot is the finished one
	// (lastMAC), seen just now, so a watch cannot miss the next one coming.
	watchable := false
	for {
		if ctx.Err() != nil || e.isStopping() || e.exhausted() {
			e.setState(ss, StateIdle, StepDone, "")
			return
		}
		if !e.runnable(ctx, ss) {
			watchable = false
			continue
		}
		if watchable && watcher != nil && !e.retryPending(ss) {
			switch err := e.watchSlot(ctx, ss, watcher); {
			case err == nil: // a chip powered up: look at it
			case errors.Is(err, errWatchEnded), ctx.Err() != nil:
				continue // the engine's doing: look at the run again
			case errors.Is(err, ErrNoBoard):
				// Probably taken out; Connect tells for sure (and clears
				// lastMAC if so), so a port that was only slow to reopen
				// cannot make the finished board run again.
			default:
				// The port cannot be watched: look at the board once per
				// poll interval instead.
				_ = e.nap(ctx, ss, e.cfg.PollInterval)
			}
			watchable = false
		}
		cctx, cancel := context.WithTimeout(ctx, e.cfg.Timeouts.Connect)
		board, err := e.conn.Connect(cctx, ss.slot, e.cfg.Baud)
		cancel()
		if err != nil {
			watchable = false
			if ctx.Err() != nil {
				continue
			}
			if errors.Is(err, ErrNoBoard) {
				lastMAC, connectFails = "", 0 // pulled out: the next board is new
				e.setState(ss, StateIdle, StepWaiting, "waiting for a board")
				_ = e.nap(ctx, ss, e.cfg.PollInterval)
				continue
			}
			connectFails++
			f := classify(StepConnect, err, ReasonConnectFailed)
			e.setState(ss, StateIdle, StepWaiting, fmt.Sprintf("%s: %s", f.Reason, f.Message))
			if connectFails == e.cfg.Retry.MaxAttempts {
				// A board is there but never answers: report it once, count
				// it against the slot, and keep polling quietly.
				e.reportUnanswered(ss, f)
			}
			_ = e.nap(ctx, ss, e.backoff(connectFails))
			continue
		}
		connectFails = 0
		mac := board.Info().MAC
		e.mu.Lock()
		retry := ss.retry
		ss.retry = false
		e.mu.Unlock()
		if mac == lastMAC && !retry {
			// The same board, reset or rebooted: left in its loader, it
			// waits to be taken out.
			board.Close()
			e.showFinished(ss, StepDone)
			watchable = true
			if watcher == nil {
				_ = e.nap(ctx, ss, e.cfg.PollInterval)
			}
			continue
		}
		if !e.takeBoard() {
			board.Close()
			watchable = false // not run: whatever is there must be looked at again
			_ = e.nap(ctx, ss, e.cfg.PollInterval)
			continue
		}
		res := e.runBoard(ctx, ss, board)
		lastMAC = mac
		e.finishBoard(ctx, ss, res)
		watchable = true
	}
}

// runnable waits while the batch is paused or the slot quarantined; it
// returns false after a nap so the loop re-checks for stop.
func (e *Engine) runnable(ctx context.Context, ss *slotState) bool {
	e.mu.Lock()
	paused, quarantined := e.paused, ss.stats.Quarantined
	e.mu.Unlock()
	switch {
	case quarantined:
		e.setState(ss, StateQuarantined, StepWaiting, "quarantined: check the cable, hub port and pogo pins, then clear the quarantine")
	case paused:
		e.setState(ss, StatePaused, StepWaiting, "paused")
	default:
		return true
	}
	_ = e.nap(ctx, ss, time.Hour)
	return false
}

// exhausted reports whether this run will take on no more boards.
func (e *Engine) exhausted() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg.Count > 0 && e.started >= e.cfg.Count {
		return true
	}
	return e.cfg.Mode == ModeBuild && e.cfg.Quantity > 0 && e.counts.Passed >= e.cfg.Quantity
}

// takeBoard books a new board for this run if the count and quantity allow.
func (e *Engine) takeBoard() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping || e.paused {
		return false
	}
	if e.cfg.Count > 0 && e.started >= e.cfg.Count {
		return false
	}
	if e.cfg.Mode == ModeBuild && e.cfg.Quantity > 0 && e.counts.Passed+e.inFlight >= e.cfg.Quantity {
		return false
	}
	e.started++
	e.inFlight++
	return true
}

// backoff is the wait before retry n (n >= 1): Retry.Backoff doubled per
// retry, capped at a minute.
func (e *Engine) backoff(n int) time.Duration {
	d := e.cfg.Retry.Backoff
	for i := 1; i < n && d < time.Minute; i++ {
		d *= 2
	}
	return min(max(d, e.cfg.PollInterval/4), time.Minute)
}

// finishBoard accounts a board's final result: counters, slot health and
// quarantine, and the stats event.
func (e *Engine) finishBoard(ctx context.Context, ss *slotState, res UnitResult) {
	if e.cfg.Mode == ModeBuild && e.farFromQuantity() {
		e.refreshCountsSoon(context.WithoutCancel(ctx))
	} else {
		e.refreshCounts(context.WithoutCancel(ctx))
	}
	e.mu.Lock()
	e.inFlight--
	untouched := res.Kind == KindCanceled && res.SN == "" // stopped before an SN: nothing happened to it
	quarantine := false
	switch {
	case untouched:
	case res.Passed:
		e.runPassed++
	default:
		e.runFailed++
	}
	if !untouched {
		quarantine = e.countSlotResult(ss, res)
	}
	st := e.statsLocked()
	e.mu.Unlock()
	state := StatePass
	if !res.Passed {
		state = StateFail
	}
	msg := "PASS"
	if !res.Passed {
		msg = fmt.Sprintf("FAIL %s: %s", res.Reason, res.Remedy)
	}
	if untouched {
		state, msg = StateIdle, "stopped before the board was started"
	}
	e.mu.Lock()
	ss.doneState, ss.doneMsg = state, msg
	e.mu.Unlock()
	e.setState(ss, state, StepDone, msg)
	if quarantine {
		e.emit(Event{Type: EvQuarantine, Slot: ss.slot.Name, State: StateQuarantined,
			Message: fmt.Sprintf("slot quarantined after %d failed boards in a row: check the cable, hub port and pogo pins, then clear it", e.cfg.Quarantine)})
	}
	e.emit(Event{Type: EvStats, Stats: &st})
}

// countSlotResult updates slot health with e.mu held; it reports whether
// the slot just went into quarantine. Failures that are not the slot's
// doing (the cloud, the batch's configuration, the operator) do not count.
func (e *Engine) countSlotResult(ss *slotState, res UnitResult) bool {
	s := &ss.stats
	if res.Passed {
		s.Passed++
		s.ConsecutiveFails = 0
		return false
	}
	s.Failed++
	switch res.Kind {
	case KindCanceled, KindConfig, KindProvisioning, KindStore:
		return false
	}
	s.ConsecutiveFails++
	if e.cfg.Quarantine > 0 && s.ConsecutiveFails >= e.cfg.Quarantine && !s.Quarantined {
		s.Quarantined = true
		return true
	}
	return false
}

// reportUnanswered publishes a result for a board that never got past the
// ROM loader handshake; it has no MAC, so nothing goes to the audit log.
func (e *Engine) reportUnanswered(ss *slotState, f *Failure) {
	res := UnitResult{Slot: ss.slot.Name, Step: f.Step, Kind: f.Kind, Reason: f.Reason, Message: f.Message, Remedy: f.Remedy}
	e.emit(Event{Type: EvUnitResult, Slot: ss.slot.Name, Result: &res, Message: f.Error()})
	e.mu.Lock()
	quarantine := e.countSlotResult(ss, res)
	e.mu.Unlock()
	if quarantine {
		e.emit(Event{Type: EvQuarantine, Slot: ss.slot.Name, State: StateQuarantined,
			Message: "slot quarantined: boards on it do not answer; check the cable, hub port and pogo pins, then clear it"})
	}
}
