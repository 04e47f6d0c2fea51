package audit

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"fleetline/serialno"
)

// buildLine records a small batch: unit 0 passes, unit 1 fails then passes
// on retest, unit 2 fails, unit 3 is interrupted, units 4 and 5 share a key.
func buildLine(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 100})
	runUnit(t, s, "B1", 0, true)
	runUnit(t, s, "B1", 1, false)
	runUnit(t, s, "B1", 1, true)
	runUnit(t, s, "B1", 2, false)
	if _, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(3), Slot: "3", Operator: "ana"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InterruptOpenAttempts(ctx, "st1"); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{4, 5} {
		id, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(i), Slot: "0"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RecordProvisioning(ctx, id, Provisioning{ThingName: "t", PublicKeySHA256: "dup"}); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishAttempt(ctx, id, Outcome{Result: OutcomeFail, ReasonCode: "provision.duplicate_key"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnitAndHistory(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	buildLine(t, s)
	u, err := s.UnitByMAC(ctx, "24-0A-C4-00-00-01")
	if err != nil {
		t.Fatal(err)
	}
	if u.SN != "SL000000002" || u.State != StateConfirmed || u.Chip != "ESP32-D0WD-V3" || u.Batch != "B1" {
		t.Errorf("UnitByMAC = %+v", u)
	}
	bySN, err := s.UnitBySN(ctx, u.SN)
	if err != nil || bySN != u {
		t.Errorf("UnitBySN = %+v, %v; want %+v", bySN, err, u)
	}
	h, err := s.History(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Outcome != OutcomeFail || h[0].ReasonCode != "flash.verify" || h[1].Outcome != OutcomePass ||
		len(h[1].Steps) != 1 || len(h[1].Provisioning) != 1 || h[1].Steps[0].Measurements[0].Name != "vdd" || *h[1].Steps[0].Measurements[0].High != 3.4 {
		t.Errorf("History = %+v", h)
	}
	if h[0].End.IsZero() || h[0].Station != "st1" || h[0].Slot != "1" {
		t.Errorf("History[0] = %+v", h[0])
	}
	if _, err := s.UnitByMAC(ctx, mac(99)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown MAC = %v", err)
	}
	if _, err := s.UnitBySN(ctx, "SL0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown SN = %v", err)
	}
	u3, _ := s.UnitByMAC(ctx, mac(3))
	h3, _ := s.History(ctx, u3.ID)
	if len(h3) != 1 || h3[0].Outcome != OutcomeInterrupted || u3.SN != "" {
		t.Errorf("interrupted unit: %+v, %+v", u3, h3)
	}
}

func TestReports(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	buildLine(t, s)
	y, err := s.BatchYield(ctx, "B1")
	if err != nil {
		t.Fatal(err)
	}
	// 6 units; first pass: unit 0; final: units 0 and 1.
	if y != (Yield{Units: 6, FirstPass: 1, Final: 2}) || y.FinalRate() != 2.0/6 {
		t.Errorf("BatchYield = %+v", y)
	}
	byReason, err := s.FailuresByReason(ctx, "B1")
	want := []Count{{"flash.verify", 2}, {"provision.duplicate_key", 2}, {"interrupted", 1}}
	if err != nil || !reflect.DeepEqual(byReason, want) {
		t.Errorf("FailuresByReason = %v, %v; want %v", byReason, err, want)
	}
	bySlot, _ := s.FailuresBySlot(ctx, "B1")
	if want := []Count{{"0", 2}, {"1", 1}, {"2", 1}, {"3", 1}}; !reflect.DeepEqual(bySlot, want) {
		t.Errorf("FailuresBySlot = %v, want %v", bySlot, want)
	}
	byHour, _ := s.FailuresByHour(ctx, "B1")
	if want := []Count{{"2026-12-03T08", 5}}; !reflect.DeepEqual(byHour, want) {
		t.Errorf("FailuresByHour = %v, want %v", byHour, want)
	}
	dups, err := s.DuplicatePublicKeys(ctx)
	if err != nil || len(dups) != 1 || dups[0].PublicKeySHA256 != "dup" || len(dups[0].MACs) != 2 {
		t.Errorf("DuplicatePublicKeys = %+v, %v", dups, err)
	}
	owners, err := s.PublicKeyOwners(ctx, "dup")
	if err != nil || !reflect.DeepEqual(owners, []string{mac(4), mac(5)}) {
		t.Errorf("PublicKeyOwners(dup) = %v, %v", owners, err)
	}
	if owners, err := s.CertSerialOwners(ctx, "5e000001"); err != nil || !reflect.DeepEqual(owners, []string{mac(1)}) {
		t.Errorf("CertSerialOwners = %v, %v", owners, err)
	}
	if owners, _ := s.CertSerialOwners(ctx, ""); len(owners) != 0 {
		t.Errorf("CertSerialOwners(\"\") = %v", owners)
	}
	if owners, _ := s.PublicKeyOwners(ctx, "none"); len(owners) != 0 {
		t.Errorf("PublicKeyOwners(none) = %v", owners)
	}
	p, err := s.BatchProgress(ctx, "B1")
	wantP := Progress{Quantity: 100, Units: 6, Passed: 2, Failed: 3, InProgress: 0, Reserved: 1, Confirmed: 2, Remaining: 98}
	if err != nil || p != wantP {
		t.Errorf("BatchProgress = %+v, %v; want %+v", p, err, wantP)
	}
	if _, err := s.BatchYield(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("yield of unknown batch = %v", err)
	}
}
