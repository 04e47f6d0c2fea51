package station

import (
	"fmt"
	"os"
	"testing"
)

func TestBusCoalescesProgressForASlowObserver(t *testing.T) {
	b := newBus()
	ch, cancel := b.subscribe(0)
	defer cancel()
	// Nobody reads: the publisher must not block, progress coalesces.
	b.publish(Event{Type: EvStepStarted, Slot: "A", Step: StepFlash})
	for i := 0; i <= 1000; i++ {
		b.publish(Event{Type: EvProgress, Slot: "A", Step: StepFlash, Label: "app", Done: int64(i), Total: 1000})
	}
	b.publish(Event{Type: EvStepFinished, Slot: "A", Step: StepFlash})
	b.closeAll()
	var got []string
	for ev := range ch {
		got = append(got, fmt.Sprintf("%s:%d", ev.Type, ev.Done))
	}
	// The pump may have taken the first progress event before the rest
	// coalesced; the last one always survives, in order.
	if len(got) < 3 || len(got) > 4 || got[0] != "step_started:0" || got[len(got)-1] != "step_finished:0" || got[len(got)-2] != "progress:1000" {
		t.Errorf("events %v", got)
	}
}

func TestBusDropsOnlyDroppableWhenFull(t *testing.T) {
	b := newBus()
	ch, cancel := b.subscribe(0)
	defer cancel()
	for i := 0; i < maxQueue+100; i++ {
		b.publish(Event{Type: EvConsole, Slot: "A", Message: "x"})
	}
	b.publish(Event{Type: EvUnitResult, Slot: "A", Result: &UnitResult{Slot: "A", Passed: true}})
	b.closeAll()
	var results, console int
	for ev := range ch {
		switch ev.Type {
		case EvUnitResult:
			results++
		case EvConsole:
			console++
		}
	}
	if results != 1 || console > 2*maxQueue+1 { // one batch in the pump's hands, one queued
		t.Errorf("%d results, %d console lines", results, console)
	}
}

func TestBusCancelEndsDelivery(t *testing.T) {
	b := newBus()
	ch, cancel := b.subscribe(1)
	b.publish(Event{Type: EvLog})
	cancel()
	cancel() // idempotent
	for range ch {
	}
	b.publish(Event{Type: EvLog}) // no subscriber: must not panic or block
}

func TestParseSlots(t *testing.T) {
	tests := []struct {
		spec string
		want string
		err  bool
	}{
		{"rfc2217://127.0.0.1:4001,/dev/ttyUSB0", "127.0.0.1:4001=rfc2217://127.0.0.1:4001 ttyUSB0=/dev/ttyUSB0", false},
		{"A1=socket://h:1, A2=/dev/ttyACM0", "A1=socket://h:1 A2=/dev/ttyACM0", false},
		{"/dev/ttyUSB0,/dev/ttyUSB0", "", true},
		{"", "", true},
		{"endpoints:/nonexistent.json", "", true},
	}
	for _, tt := range tests {
		ss, err := ParseSlots(tt.spec)
		if (err != nil) != tt.err {
			t.Errorf("%q: err %v", tt.spec, err)
			continue
		}
		var got string
		for i, s := range ss {
			if i > 0 {
				got += " "
			}
			got += s.Name + "=" + s.Address
		}
		if got != tt.want {
			t.Errorf("%q: %q, want %q", tt.spec, got, tt.want)
		}
	}
}

func FuzzEndpoints(f *testing.F) {
	f.Add([]byte(`[{"slot":0,"url":"rfc2217://127.0.0.1:4000","mac":"24:0a:c4:00:00:01","chip":"esp32"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"slot":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := t.TempDir() + "/eps.json"
		if err := writeFile(p, data); err != nil {
			t.Skip()
		}
		ss, err := ParseSlots("endpoints:" + p)
		if err == nil && len(ss) == 0 {
			t.Fatal("no error and no slots")
		}
	})
}

func writeFile(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }
