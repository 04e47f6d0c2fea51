package station

import (
	"context"
	"errors"
)

// Watcher is implemented by connectors that can tell, without resetting
// the board, when the board on a slot may have changed. A finished board
// then stays untouched (running its app, its status LED readable) until it
// is taken out or the next one is put in, instead of being reset into its
// ROM loader once per poll interval to read its MAC again.
type Watcher interface {
	// Watch blocks until a chip on the slot's port boots (the next board
	// of a fixture powering up, or the board being reset by hand) and
	// returns nil, or until the port goes away (the board with its bridge
	// was unplugged) and returns an error wrapping ErrNoBoard. It returns
	// ctx.Err() when ctx ends first. Any other error means the slot could
	// not be watched; the supervisor then looks at the board directly.
	// watching is called once the port is open and being read: from then
	// on a board put in is seen.
	Watch(ctx context.Context, slot Slot, watching func()) error
}

// errWatchEnded says a watch was ended by the engine (a kick, a stop, the
// batch's end), not by the slot.
var errWatchEnded = errors.New("watch ended by the engine")

// watchSlot watches ss until its board may have changed, waking every
// poll interval to see whether the run still wants a board, and at once
// on a kick (retry, resume, clear) or a stop.
func (e *Engine) watchSlot(ctx context.Context, ss *slotState, w Watcher) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := make(chan error, 1)
	go func() {
		res <- w.Watch(wctx, ss.slot, func() { e.showFinished(ss, StepRemove) })
	}()
	ended := func() error {
		cancel()
		if err := <-res; err == nil {
			// A chip powered up just as the watch was ended: its port is
			// held for Connect, and the board must be looked at.
			return nil
		}
		return errWatchEnded
	}
	for {
		tick := make(chan struct{})
		go func() {
			_ = e.clock.Sleep(wctx, e.cfg.PollInterval)
			close(tick)
		}()
		select {
		case err := <-res:
			return err
		case <-ss.kickCh:
			return ended()
		case <-e.stopCh:
			return ended()
		case <-tick:
			if ctx.Err() != nil || e.exhausted() || e.isStopping() || e.isPaused() {
				return ended()
			}
		}
	}
}

// showFinished shows the slot's last result again, at step (StepDone, or
// StepRemove once its port is watched).
func (e *Engine) showFinished(ss *slotState, step Step) {
	e.mu.Lock()
	st, msg := ss.doneState, ss.doneMsg
	e.mu.Unlock()
	if st == "" {
		st = StateIdle
	}
	e.setState(ss, st, step, msg)
}

// isPaused reports whether the batch is paused.
func (e *Engine) isPaused() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.paused
}

// retryPending reports whether the operator asked for the slot's board to
// be run again, without taking the request.
func (e *Engine) retryPending(ss *slotState) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return ss.retry
}
