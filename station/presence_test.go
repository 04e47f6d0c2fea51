package station

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fleetline/flasher/portio"
)

func TestWatchPort(t *testing.T) {
	type step struct {
		write string
		close bool
	}
	cases := []struct {
		name  string
		steps []step
		want  error // nil: a boot was seen
	}{
		{"banner", []step{{write: "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"}}, nil},
		{"banner split across reads", []step{{write: "I (512) app: idle\r\nrs"}, {write: "t:0"}, {write: "x1 (POWERON),boot:0xc"}}, nil},
		{"brown-out on insertion", []step{{write: "rst:0xf (BROWNOUT_RST),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n"}}, nil},
		{"own restarts are not a new board", []step{
			{write: "rst:0x5 (DEEPSLEEP_RESET),boot:0x13\r\n"}, {write: "rst:0xc (SW_CPU_RESET),boot:0x13\r\nrst:0x1"}, {write: "0 (RTCWDT_RTC_RESET)\r\n"}, {close: true}}, ErrNoBoard},
		{"app chatter then unplugged", []step{{write: "I (99) app: status led on\r\n"}, {close: true}}, ErrNoBoard},
		{"unplugged", []step{{close: true}}, ErrNoBoard},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host, dev := portio.Pipe()
			_ = host.SetReadTimeout(5 * time.Millisecond)
			go func() {
				for _, s := range c.steps {
					if s.close {
						dev.Close()
						return
					}
					_, _ = dev.Write([]byte(s.write))
					time.Sleep(2 * time.Millisecond) // separate reads, not a timing condition
				}
			}()
			err := watchPort(context.Background(), host, "fake://A")
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("watchPort: %v, want %v", err, c.want)
			}
		})
	}
	t.Run("ends with its context", func(t *testing.T) {
		host, dev := portio.Pipe()
		defer dev.Close()
		_ = host.SetReadTimeout(5 * time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		_, _ = dev.Write([]byte("I (1) app: no banner here: rst is not rst:0"))
		go cancel()
		if err := watchPort(ctx, host, "fake://A"); !errors.Is(err, context.Canceled) {
			t.Fatalf("watchPort: %v, want context.Canceled", err)
		}
	})
}

// watchingLine is a fakeLine whose connector can watch its slots: a watch
// ends when the test says a board booted or went away.
type watchingLine struct {
	*fakeLine
	watching atomic.Int64
	mu       sync.Mutex
	ends     map[string]chan error
}

func (w *watchingLine) Watch(ctx context.Context, slot Slot, watching func()) error {
	w.mu.Lock()
	ch := w.ends[slot.Name]
	if ch == nil {
		ch = make(chan error)
		w.ends[slot.Name] = ch
	}
	w.mu.Unlock()
	watching()
	w.watching.Add(1)
	defer w.watching.Add(-1)
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// end ends slot's watch with err, once one is running.
func (w *watchingLine) end(t *testing.T, r *rig, slot string, err error) {
	t.Helper()
	waitFor(t, r, func() bool { return w.watching.Load() > 0 })
	w.mu.Lock()
	ch := w.ends[slot]
	w.mu.Unlock()
	select {
	case ch <- err:
	case <-time.After(10 * time.Second):
		t.Fatalf("slot %s: no watch took the end within 10s", slot)
	}
}

// TestFinishedBoardIsLeftAlone: with a connector that watches ports, a
// finished board is not connected to (reset) again while it stays; the
// next board runs when a chip boots on the port, and a board pulled out
// makes the slot wait for a new one.
func TestFinishedBoardIsLeftAlone(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 3
	wl := &watchingLine{fakeLine: r.line, ends: map[string]chan error{}}
	r.conn = wl
	r.line.sticky = true // a board stays until the test swaps it
	first := r.line.add("A", fwSpec{})[0]
	r.start("A")
	waitFor(t, r, func() bool { return len(r.results()) == 1 && wl.watching.Load() == 1 })

	connects := r.line.connect.Load()
	since := r.clock.Now()
	waitFor(t, r, func() bool { return r.clock.Now().Sub(since) > 20*r.cfg.PollInterval })
	if got := r.line.connect.Load(); got != connects {
		t.Fatalf("the finished board was connected to %d more times while it stayed", got-connects)
	}

	// The same board reset by hand: looked at once, then left alone again.
	wl.end(t, r, "A", nil)
	waitFor(t, r, func() bool { return r.line.connect.Load() == connects+1 && wl.watching.Load() == 1 })

	// The next board is put in: it boots and is run.
	r.line.mu.Lock()
	r.line.slots["A"] = nil
	r.line.mu.Unlock()
	second := r.line.add("A", fwSpec{})[0]
	wl.end(t, r, "A", nil)
	waitFor(t, r, func() bool { return len(r.results()) == 2 && wl.watching.Load() == 1 })

	// Taken out with its bridge: the slot waits for a board, and the
	// same board plugged back in is a new arrival, run again.
	r.line.mu.Lock()
	r.line.slots["A"] = nil
	r.line.mu.Unlock()
	wl.end(t, r, "A", ErrNoBoard)
	waitFor(t, r, func() bool {
		v := r.eng.Slots()
		return len(v) == 1 && v[0].Step == StepWaiting
	})
	r.line.mu.Lock()
	r.line.slots["A"] = []*fakeBoard{second}
	r.line.mu.Unlock()
	sum := r.wait()
	res := r.results()
	if sum.RunPassed != 3 || len(res) != 3 || res[0].MAC != first.info.MAC || res[1].MAC != second.info.MAC || res[2].MAC != second.info.MAC {
		t.Fatalf("summary %+v, results %+v", sum, res)
	}
}

// TestFlasherConnectorWatch drives the real connector's Watch over
// in-memory ports: a port busy just after its last session is retried, not
// taken for an unplugged board; one that stays unopenable is gone; after a
// banner the open port is kept for the next Connect.
func TestFlasherConnectorWatch(t *testing.T) {
	type attempt struct {
		fail  bool   // the open fails
		write string // what the device sends once open ("" sends nothing)
		drop  bool   // the device end closes after writing
	}
	cases := []struct {
		name     string
		attempts []attempt
		want     error // nil: a boot was seen
		opens    int
	}{
		{"busy once, then a banner", []attempt{{fail: true}, {write: "rst:0x1 (POWERON_RESET),boot:0x13"}}, nil, 2},
		{"dropped at once, then a banner", []attempt{{drop: true}, {write: "\r\nrst:0x1 (POWERON),boot:0xc"}}, nil, 2},
		{"gone", []attempt{{fail: true}, {fail: true}}, ErrNoBoard, 2},
		{"dropped twice", []attempt{{drop: true}, {fail: true}}, ErrNoBoard, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opens int
			var last portio.Port
			fc := &FlasherConnector{Open: func(ctx context.Context, address string, baud int) (portio.Port, error) {
				if opens >= len(c.attempts) {
					opens++
					return nil, errors.New("more opens than the case has")
				}
				a := c.attempts[opens]
				opens++
				if a.fail {
					return nil, errors.New("port busy")
				}
				host, dev := portio.Pipe()
				if a.write != "" {
					_, _ = dev.Write([]byte(a.write))
				}
				if a.drop {
					dev.Close()
				}
				last = host
				return host, nil
			}}
			announced := 0
			err := fc.Watch(context.Background(), Slot{Name: "A", Address: "fake://A"}, func() { announced++ })
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Watch: %v, want %v", err, c.want)
			}
			if opens != c.opens {
				t.Errorf("%d opens, want %d", opens, c.opens)
			}
			held := fc.takeHeld("fake://A")
			switch {
			case c.want == nil && (held == nil || held != last):
				t.Errorf("the banner's port was not kept for Connect")
			case c.want != nil && held != nil:
				t.Errorf("a port was kept after %v", err)
			}
			if c.want == nil && announced != 1 {
				t.Errorf("watching announced %d times", announced)
			}
		})
	}
}

// FuzzBootScan: however console bytes are split across reads, the scan
// decides as it does on them whole, and only on a power-on or brown-out
// banner.
func FuzzBootScan(f *testing.F) {
	f.Add([]byte("ets Jul 29 2019\r\nrst:0x1 (POWERON_RESET),boot:0x13"), 9)
	f.Add([]byte("rst:0x10 (RTCWDT_RTC_RESET)"), 7)
	f.Add([]byte("rst:0x5 (DEEPSLEEP_RESET) rst:0xf (BROWNOUT_RST)"), 30)
	f.Add([]byte("rst:0xrst:0x1"), 6)
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		var whole bootScan
		want := whole.feed(append([]byte(nil), data...))
		if want {
			// The whole carries a banner of a code it accepts.
			if !bytes.Contains(data, romBanner) {
				t.Fatalf("banner seen in %q, which has none", data)
			}
		}
		if len(data) == 0 {
			return
		}
		cut = (cut%len(data) + len(data)) % len(data)
		var split bootScan
		got := split.feed(append([]byte(nil), data[:cut]...)) || split.feed(append([]byte(nil), data[cut:]...))
		// A code cut off at the very end is still undecided whole; split,
		// nothing more can be known either.
		if got != want {
			t.Fatalf("%q split at %d: %t, whole: %t", data, cut, got, want)
		}
	})
}

// TestWatchNeverMissesANewBoard: whenever the station may have missed a
// board coming — its first connect failed, or it arrived while the batch
// was paused — the slot is looked at by connecting again, not watched for
// a banner that already went by.
func TestWatchNeverMissesANewBoard(t *testing.T) {
	setup := func(t *testing.T) (*rig, *watchingLine) {
		r := newRig(t)
		r.cfg.Count = 2
		wl := &watchingLine{fakeLine: r.line, ends: map[string]chan error{}}
		r.conn = wl
		r.line.sticky = true
		r.line.add("A", fwSpec{})
		r.start("A")
		waitFor(t, r, func() bool { return len(r.results()) == 1 && wl.watching.Load() == 1 })
		return r, wl
	}
	swapIn := func(r *rig) *fakeBoard {
		r.line.mu.Lock()
		r.line.slots["A"] = nil
		r.line.mu.Unlock()
		return r.line.add("A", fwSpec{})[0]
	}
	check := func(t *testing.T, r *rig, next *fakeBoard) {
		t.Helper()
		sum := r.wait()
		res := r.results()
		if sum.RunPassed != 2 || len(res) != 2 || res[1].MAC != next.info.MAC {
			t.Fatalf("summary %+v, results %+v", sum, res)
		}
	}

	t.Run("first connect fails", func(t *testing.T) {
		r, wl := setup(t)
		next := swapIn(r)
		r.line.mu.Lock()
		r.line.fails["A"] = 1 // a flaky pin: the first SYNC goes unanswered
		r.line.mu.Unlock()
		wl.end(t, r, "A", nil)
		check(t, r, next)
	})
	t.Run("swapped while paused", func(t *testing.T) {
		r, wl := setup(t)
		r.eng.Pause()
		// A paused slot does not watch: the new board's banner goes by.
		waitFor(t, r, func() bool { return wl.watching.Load() == 0 })
		next := swapIn(r)
		r.eng.Resume()
		check(t, r, next)
	})
	t.Run("the tile keeps the result while watched", func(t *testing.T) {
		r, wl := setup(t)
		r.eng.Pause()
		waitFor(t, r, func() bool { return wl.watching.Load() == 0 })
		r.eng.Resume()
		// Looked at once after the pause (the same board), then watched again.
		waitFor(t, r, func() bool { return wl.watching.Load() == 1 })
		waitFor(t, r, func() bool { v := r.eng.Slots()[0]; return v.Step == StepRemove })
		if v := r.eng.Slots()[0]; v.State != StatePass || v.Message != "PASS" {
			t.Errorf("watched slot shows %s/%s %q, want pass/remove \"PASS\"", v.State, v.Step, v.Message)
		}
		next := swapIn(r)
		wl.end(t, r, "A", nil)
		check(t, r, next)
	})
}
