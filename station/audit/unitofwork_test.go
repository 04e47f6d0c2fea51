package audit

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fleetline/serialno"
)

// TestReserveAndStart: the SN and the open attempt go in together; the same
// board gets its SN back; a refused attempt keeps no reservation either;
// an attempt cut short reads as interrupted.
func TestReserveAndStart(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 2})
	progress := func() Progress {
		t.Helper()
		p, err := s.BatchProgress(ctx, "B1")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	r, id, err := s.ReserveAndStart(ctx, AttemptStart{Batch: "B1", MAC: mac(1), Chip: "ESP32", Slot: "A"})
	if err != nil || r.SN != "SL000000001" || !r.New || id == 0 {
		t.Fatalf("first board: %+v, %d, %v", r, id, err)
	}
	if p := progress(); p.Reserved != 1 || p.InProgress != 1 {
		t.Errorf("after one board: %+v", p)
	}
	again, id2, err := s.ReserveAndStart(ctx, AttemptStart{Batch: "B1", MAC: mac(1), Slot: "B"})
	if err != nil || again.SN != r.SN || again.New || id2 == id {
		t.Errorf("same board again: %+v, %d, %v", again, id2, err)
	}

	tests := []struct {
		name string
		a    AttemptStart
		want error
	}{
		{"key in a field", AttemptStart{Batch: "B1", MAC: mac(2), Slot: "-----BEGIN " + "PRIVATE KEY-----"}, ErrSecret},
		{"bad kind", AttemptStart{Batch: "B1", MAC: mac(2), Kind: "x"}, ErrInvalid},
		{"bad MAC", AttemptStart{Batch: "B1", MAC: "zz"}, ErrInvalid},
		{"no batch", AttemptStart{Batch: "B9", MAC: mac(2)}, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.ReserveAndStart(ctx, tt.a); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if _, err := s.UnitByMAC(ctx, mac(2)); !errors.Is(err, ErrNotFound) {
				t.Errorf("a refused call recorded the board: %v", err)
			}
			if p := progress(); p.Reserved != 1 || p.InProgress != 2 {
				t.Errorf("a refused call left %+v", p)
			}
		})
	}

	// The next board still gets the next number: nothing was taken.
	r2, _, err := s.ReserveAndStart(ctx, AttemptStart{Batch: "B1", MAC: mac(3)})
	if err != nil || r2.SN != "SL000000002" {
		t.Fatalf("next board: %+v, %v", r2, err)
	}
	var full *RangeExhaustedError
	if _, _, err := s.ReserveAndStart(ctx, AttemptStart{Batch: "B1", MAC: mac(4)}); !errors.As(err, &full) {
		t.Fatalf("full range: %v", err)
	}
	if _, err := s.UnitByMAC(ctx, mac(4)); !errors.Is(err, ErrNotFound) {
		t.Errorf("a full range recorded the board: %v", err)
	}

	ids, err := s.InterruptOpenAttempts(ctx, "st1")
	if err != nil || len(ids) != 3 {
		t.Fatalf("interrupted %v, %v", ids, err)
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify %+v, %v", rep, err)
	}
}

// reserveAndStart reserves m's SN in batch and opens its attempt, or fails
// the test.
func reserveAndStart(t *testing.T, s *Store, batch, m string) (string, int64) {
	t.Helper()
	r, id, err := s.ReserveAndStart(context.Background(), AttemptStart{Batch: batch, MAC: m, Slot: "A"})
	if err != nil {
		t.Fatal(err)
	}
	return r.SN, id
}

// TestCompleteAndConfirm: a passing outcome and the SN's confirmation go in
// together; a refusal keeps neither, leaving the SN reserved and the
// attempt open to be closed as failed.
func TestCompleteAndConfirm(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 100})
	start := func(m string) (string, int64) { t.Helper(); return reserveAndStart(t, s, "B1", m) }
	state := func(m string) (string, string) {
		t.Helper()
		u, err := s.UnitByMAC(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		h, err := s.History(ctx, u.ID)
		if err != nil || len(h) == 0 {
			t.Fatalf("history %+v, %v", h, err)
		}
		return u.State, h[len(h)-1].Outcome
	}
	pass := Outcome{Result: OutcomePass}
	steps := []Step{{Name: "check", Result: "pass"}, {Name: "record", Result: "pass"}}

	sn, id := start(mac(1))
	if err := s.CompleteAndConfirm(ctx, id, steps, &Provisioning{ThingName: "t1"}, pass, sn); err != nil {
		t.Fatal(err)
	}
	if st, out := state(mac(1)); st != StateConfirmed || out != OutcomePass {
		t.Errorf("passed board: SN %s, attempt %s", st, out)
	}
	if err := s.CompleteAndConfirm(ctx, id, nil, nil, pass, sn); !errors.Is(err, ErrFinished) {
		t.Errorf("second completion: %v, want ErrFinished", err)
	}

	snOther, _ := start(mac(9))
	tests := []struct {
		name  string
		steps []Step
		o     Outcome
		sn    string
		want  error
	}{
		{"key in a step", []Step{{Name: "boot", Message: "-----BEGIN " + "PRIVATE KEY-----"}}, pass, "", ErrSecret},
		{"failed outcome", steps, Outcome{Result: OutcomeFail}, "", ErrInvalid},
		{"another board's SN", steps, pass, snOther, ErrInvalid},
		{"voided SN", steps, pass, "", ErrVoided},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mac(10 + i)
			sn, id := start(m)
			if tt.sn == "" {
				tt.sn = sn
			}
			if tt.want == ErrVoided {
				if err := s.Void(ctx, sn, "scrapped"); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.CompleteAndConfirm(ctx, id, tt.steps, nil, tt.o, tt.sn); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			wantState := StateReserved
			if tt.want == ErrVoided {
				wantState = StateVoided
			}
			if st, out := state(m); st != wantState || out != "" {
				t.Errorf("a refused completion left SN %s, attempt %q", st, out)
			}
			if err := s.FinishAttempt(ctx, id, Outcome{Result: OutcomeFail, ReasonCode: "store.failed"}); err != nil {
				t.Fatalf("closing the attempt after a refused completion: %v", err)
			}
		})
	}
	if st, _ := state(mac(9)); st != StateReserved {
		t.Errorf("the other board's SN is %s", st)
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify %+v, %v", rep, err)
	}
}

// TestCompleteAndConfirmRefusesASharedKey: a unit is never confirmed with
// the device key or certificate serial of another unit; the refusal names
// that unit and keeps nothing, and the same unit's own earlier record of
// its key does not count.
func TestCompleteAndConfirmRefusesASharedKey(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 100})
	pass := Outcome{Result: OutcomePass}
	start := func(m string) (string, int64) { t.Helper(); return reserveAndStart(t, s, "B1", m) }
	firstSN, id := start(mac(1))
	if err := s.CompleteAndConfirm(ctx, id, nil, &Provisioning{PublicKeySHA256: "k1", DeviceCertSerial: "51"}, pass, firstSN); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Provisioning{{PublicKeySHA256: "k1", DeviceCertSerial: "52"}, {PublicKeySHA256: "k2", DeviceCertSerial: "51"}} {
		sn, id := start(mac(2))
		err := s.CompleteAndConfirm(ctx, id, []Step{{Name: "record", Result: "pass"}}, &p, pass, sn)
		var dup *DuplicateKeyError
		if !errors.As(err, &dup) || !errors.Is(err, ErrDuplicateKey) || !strings.Contains(dup.Owner, firstSN) || !strings.Contains(dup.Owner, mac(1)) {
			t.Fatalf("%+v: %v, want a DuplicateKeyError naming %s", p, err, firstSN)
		}
		u, err := s.UnitByMAC(ctx, mac(2))
		if err != nil || u.State != StateReserved {
			t.Fatalf("refused unit: %+v, %v; want its SN still reserved", u, err)
		}
		if err := s.CompleteAttempt(ctx, id, nil, &p, Outcome{Result: OutcomeFail, ReasonCode: "duplicate_key"}); err != nil {
			t.Fatal(err)
		}
	}
	// A unit built again (a rework) with its own key: the key is its own.
	for range 2 {
		sn, id := start(mac(3))
		if err := s.CompleteAndConfirm(ctx, id, nil, &Provisioning{PublicKeySHA256: "k3", DeviceCertSerial: "53"}, pass, sn); err != nil {
			t.Fatalf("the key's own unit: %v", err)
		}
	}
	mustVerify(t, s)
}
