package main

import (
	"context"
	"sync"
	"time"

	"fleetline/sim/board"
	"fleetline/station"
)

// demoOperator stands in for the person at the line when the demo builds
// more units than it has fixtures: it takes each finished board (passed or
// failed) out of its fixture and puts the next one from the reel in after
// a handling delay, until the run has all its boards. The station sees
// what it would see on a pogo-pin fixture: the new board's ROM banner.
type demoOperator struct {
	boards map[string]*board.Board // by slot name
	delay  time.Duration
	logf   func(format string, args ...any)

	mu    sync.Mutex
	left  int             // boards still to put in
	armed map[string]bool // slots whose board finished and is not swapped yet
	wg    sync.WaitGroup
}

// newDemoOperator maps slots to the line's boards by address; units is
// how many boards the run builds in all, boards the fixtures' count.
func newDemoOperator(slots []station.Slot, eps []string, boards []*board.Board, units int, delay time.Duration, logf func(string, ...any)) *demoOperator {
	byAddr := map[string]*board.Board{}
	for i, url := range eps {
		byAddr[url] = boards[i]
	}
	o := &demoOperator{boards: map[string]*board.Board{}, delay: delay, logf: logf, left: units - len(boards), armed: map[string]bool{}}
	for _, s := range slots {
		if b := byAddr[s.Address]; b != nil {
			o.boards[s.Name] = b
		}
	}
	return o
}

// watch subscribes to eng and swaps boards as they finish, until
// ctx ends or the engine closes the subscription.
func (o *demoOperator) watch(ctx context.Context, eng *station.Engine) {
	ch, unsubscribe := eng.Subscribe(256)
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		defer unsubscribe()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-ch:
				if !ok {
					return
				}
				// A result arms the slot; "remove" (the station watches the
				// finished board's port, so the next board's banner will be
				// seen) fires it, once per finished board.
				switch {
				case ev.Type == station.EvUnitResult && ev.Result != nil && ev.Result.MAC != "":
					o.mu.Lock()
					o.armed[ev.Slot] = true
					o.mu.Unlock()
				case ev.Type == station.EvSlotState && ev.Step == station.StepRemove:
					o.finished(ctx, ev.Slot)
				}
			}
		}
	}()
}

// finished schedules the swap of slot's board if the run needs more.
func (o *demoOperator) finished(ctx context.Context, slot string) {
	b := o.boards[slot]
	o.mu.Lock()
	if b == nil || o.left <= 0 || !o.armed[slot] {
		o.mu.Unlock()
		return
	}
	o.left--
	o.armed[slot] = false
	o.mu.Unlock()
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		t := time.NewTimer(o.delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := b.Swap(); err != nil && ctx.Err() == nil {
			o.logf("demo operator: %s: %v", slot, err)
		}
	}()
}

// Wait waits for the swaps in progress.
func (o *demoOperator) Wait() { o.wg.Wait() }

// firstBoardApp runs the faulty app on the first board a fixture sees and
// the clean one on every board put in after it: --faults are the first
// boards' defects, not the fixture's.
type firstBoardApp struct {
	faulty, clean board.App

	mu    sync.Mutex
	first [6]byte
	seen  bool
}

// Run implements board.App.
func (a *firstBoardApp) Run(ctx context.Context, dev board.Device) error {
	mac := dev.Identity().MAC
	a.mu.Lock()
	if !a.seen {
		a.first, a.seen = mac, true
	}
	first := a.first == mac
	a.mu.Unlock()
	if first {
		return a.faulty.Run(ctx, dev)
	}
	return a.clean.Run(ctx, dev)
}
