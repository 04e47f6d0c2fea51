package station

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestLineFixtureSwaps runs more boards than fixtures on the virtual line,
// the way a pogo-pin fixture is used: the bridge stays, the operator swaps
// each finished board for the next once the station shows it is watching
// (step "remove"). A finished board is left alone (not reset) however long
// it stays, and each new board is found by its ROM's power-on banner.
func TestLineFixtureSwaps(t *testing.T) {
	v := newVLine(t, vlineOpts{boards: 2, quantity: 5})
	eng, st, _ := v.engine(t, ModeBuild, func(c *Config) { c.Count = 5 })
	boards := v.line.Boards()
	slotBoard := map[string]int{v.slots[0].Name: 0, v.slots[1].Name: 1}

	ch, _ := eng.Subscribe(64)
	var (
		mu        sync.Mutex
		results   []UnitResult
		held      = -1 // S01's first board's resets when it finished
		heldAfter = -1 // and after S02 built two more boards
		swaps     sync.WaitGroup
	)
	swap := func(i int) {
		swaps.Add(1)
		go func() {
			defer swaps.Done()
			if err := boards[i].Swap(); err != nil {
				t.Errorf("swap board %d: %v", i, err)
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s02 := 0
		for ev := range ch {
			mu.Lock()
			switch {
			case ev.Type == EvUnitResult && ev.Result.MAC != "":
				results = append(results, *ev.Result)
			case ev.Type == EvSlotState && ev.Step == StepRemove:
				// The station watches the finished board's port: the
				// operator may swap it now.
				switch i := slotBoard[ev.Slot]; {
				case i == 0 && held < 0:
					held = boards[0].Resets() // keep it in the fixture for now
				case i == 1:
					if s02++; s02 < 3 {
						swap(1)
					} else {
						heldAfter = boards[0].Resets()
						swap(0)
					}
				}
			}
			mu.Unlock()
		}
	}()
	must(t, eng.Start(context.Background(), v.slots))
	go func() {
		// A safety net, not a timing condition: a station that never
		// shows "remove" would leave this test waiting for ever.
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			t.Errorf("no end after 2 minutes; stopping the run")
			eng.Stop()
		}
	}()
	sum := eng.Wait()
	<-done
	swaps.Wait()

	macs := map[string]bool{}
	for _, r := range results {
		if !r.Passed {
			t.Errorf("board failed: %+v", r)
		}
		macs[r.MAC] = true
	}
	if sum.RunPassed != 5 || len(macs) != 5 {
		t.Fatalf("summary %+v, %d distinct boards in %d results", sum, len(macs), len(results))
	}
	if held < 0 || heldAfter != held {
		t.Errorf("the finished board was reset %d times while it waited in its fixture (resets %d then %d)", heldAfter-held, held, heldAfter)
	}
	rep, err := st.Verify(context.Background())
	must(t, err)
	if !rep.OK {
		t.Errorf("audit chain: %+v", rep)
	}
}
