package audit

import (
	"context"
	"errors"
	"testing"

	"fleetline/serialno"
)

// TestCompleteAttempt: an attempt's buffered steps, provisioning and end go
// in as one unit of work, in order, and the chain verifies; a refused
// record keeps none of it and leaves the attempt open to be closed.
func TestCompleteAttempt(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 100})
	start := func(m string) int64 {
		t.Helper()
		id, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: m, Slot: "A"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	steps := func(names ...string) []Step {
		var out []Step
		for _, n := range names {
			out = append(out, Step{Name: n, Result: "pass", Message: n + " done",
				Measurements: []Measurement{{Name: "vdd", Value: 3.3, Passed: true}}})
		}
		return out
	}
	history := func(m string) AttemptRecord {
		t.Helper()
		u, err := s.UnitByMAC(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		h, err := s.History(ctx, u.ID)
		if err != nil || len(h) != 1 {
			t.Fatalf("history %+v, %v", h, err)
		}
		return h[0]
	}

	t.Run("steps, provisioning and end", func(t *testing.T) {
		id := start(mac(1))
		if err := s.RecordSteps(ctx, id, steps("identify", "reserve", "flash"), &Provisioning{ThingName: "t1", PublicKeySHA256: "aa", DeviceCertSerial: "5f"}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordSteps(ctx, id, nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteAttempt(ctx, id, steps("check", "record"), nil, Outcome{Result: OutcomePass}); err != nil {
			t.Fatal(err)
		}
		h := history(mac(1))
		var names []string
		for _, st := range h.Steps {
			names = append(names, st.Name)
		}
		if got := len(names); got != 5 || names[0] != "identify" || names[4] != "record" || h.Outcome != OutcomePass ||
			len(h.Provisioning) != 1 || h.Provisioning[0].DeviceCertSerial != "5f" || len(h.Steps[2].Measurements) != 1 {
			t.Errorf("history %+v (steps %v)", h, names)
		}
		if err := s.CompleteAttempt(ctx, id, nil, nil, Outcome{Result: OutcomePass}); !errors.Is(err, ErrFinished) {
			t.Errorf("second completion: %v, want ErrFinished", err)
		}
	})

	t.Run("a refused record keeps nothing", func(t *testing.T) {
		id := start(mac(2))
		bad := steps("identify", "boot", "check")
		bad[1].Message = "console: -----BEGIN " + "PRIVATE KEY-----"
		err := s.CompleteAttempt(ctx, id, bad, &Provisioning{ThingName: "t2"}, Outcome{Result: OutcomeFail, ReasonCode: "x"})
		if !errors.Is(err, ErrSecret) {
			t.Fatalf("completion with a key in a step: %v, want ErrSecret", err)
		}
		if h := history(mac(2)); len(h.Steps) != 0 || len(h.Provisioning) != 0 || h.Outcome != "" {
			t.Fatalf("a refused completion left %+v", h)
		}
		if err := s.FinishAttempt(ctx, id, Outcome{Result: OutcomeFail, ReasonCode: "store.failed"}); err != nil {
			t.Fatalf("closing the attempt after a refused completion: %v", err)
		}
		if err := s.RecordSteps(ctx, id, steps("late"), nil); !errors.Is(err, ErrFinished) {
			t.Errorf("steps after the end: %v, want ErrFinished", err)
		}
	})

	t.Run("invalid outcome", func(t *testing.T) {
		id := start(mac(3))
		if err := s.CompleteAttempt(ctx, id, steps("identify"), nil, Outcome{Result: OutcomeInterrupted}); !errors.Is(err, ErrInvalid) {
			t.Errorf("completion as interrupted: %v, want ErrInvalid", err)
		}
	})

	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify %+v, %v", rep, err)
	}
}
