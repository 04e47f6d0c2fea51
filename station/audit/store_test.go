package audit

import (
	"context"
	"errors"
	"testing"

	"fleetline/serialno"
)

func TestReserveConfirmVoid(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustBatch(t, s, "B1", serialno.Range{First: 42, Last: 44})

	r1, err := s.Reserve(ctx, "B1", "24:0A:C4:00:00:01")
	if err != nil || r1.SN != "SL000000042" || !r1.New || r1.Seq != 42 {
		t.Fatalf("first reserve = %+v, %v", r1, err)
	}
	again, err := s.Reserve(ctx, "B1", "240ac4000001")
	if err != nil || again.SN != r1.SN || again.New {
		t.Fatalf("same MAC again = %+v, %v; want %s, New=false", again, err, r1.SN)
	}
	r2, _ := s.Reserve(ctx, "B1", mac(2))
	if err := s.Void(ctx, r2.SN, "cracked PCB"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reserve(ctx, "B1", mac(2)); !errors.Is(err, ErrVoided) {
		t.Errorf("reserve for a scrapped board = %v, want ErrVoided", err)
	}
	r3, _ := s.Reserve(ctx, "B1", mac(3))
	if r3.SN != "SL000000044" {
		t.Errorf("after a void the next SN is %s, want SL000000044 (voided 43 never reissued)", r3.SN)
	}
	_, err = s.Reserve(ctx, "B1", mac(4))
	var ex *RangeExhaustedError
	if !errors.As(err, &ex) || !errors.Is(err, ErrRangeExhausted) || ex.Reserved != 2 || ex.Voided != 1 {
		t.Fatalf("exhausted = %v (%+v)", err, ex)
	}
	if err := s.Confirm(ctx, r1.SN); err != nil {
		t.Fatal(err)
	}
	if err := s.Confirm(ctx, r1.SN); err != nil {
		t.Errorf("second confirm = %v, want no-op", err)
	}
	if err := s.Confirm(ctx, r2.SN); !errors.Is(err, ErrVoided) {
		t.Errorf("confirm voided = %v", err)
	}
	if err := s.Confirm(ctx, "SL999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("confirm unknown = %v", err)
	}
	if err := s.Void(ctx, r3.SN, " "); !errors.Is(err, ErrInvalid) {
		t.Errorf("void without reason = %v", err)
	}
	if _, err := s.Reserve(ctx, "B1", "zz"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad MAC = %v", err)
	}
	if _, err := s.Reserve(ctx, "nope", mac(9)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown batch = %v", err)
	}
}

func TestAttemptLifecycle(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 100})
	_, id := runUnit(t, s, "B1", 1, false)
	if err := s.FinishAttempt(ctx, id, Outcome{Result: OutcomePass}); !errors.Is(err, ErrFinished) {
		t.Errorf("finish twice = %v, want ErrFinished", err)
	}
	if err := s.RecordStep(ctx, id, Step{Name: "late"}); !errors.Is(err, ErrFinished) {
		t.Errorf("step after finish = %v", err)
	}
	if err := s.RecordStep(ctx, 999, Step{Name: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("step of unknown attempt = %v", err)
	}
	if err := s.FinishAttempt(ctx, id, Outcome{Result: "maybe"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad result = %v", err)
	}
	open, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(1), Kind: KindRetest})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := s.InterruptOpenAttempts(ctx, "st1")
	if err != nil || len(ids) != 1 || ids[0] != open {
		t.Fatalf("InterruptOpenAttempts = %v, %v; want [%d]", ids, err, open)
	}
	if ids, _ := s.InterruptOpenAttempts(ctx, "st1"); len(ids) != 0 {
		t.Errorf("second InterruptOpenAttempts closed %v", ids)
	}
	if _, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(1), Kind: "again"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad kind = %v", err)
	}
}

func TestCreateBatch(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	b := testBatch("B1", serialno.Range{First: 1, Last: 100})
	if err := s.CreateBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBatch(ctx, b); err != nil {
		t.Errorf("re-creating the same batch = %v, want nil (resume)", err)
	}
	b2 := b
	b2.ManifestSHA256 = "other"
	if err := s.CreateBatch(ctx, b2); !errors.Is(err, ErrBatchExists) {
		t.Errorf("different batch, same ID = %v", err)
	}
	b3 := testBatch("B2", serialno.Range{First: 100, Last: 200})
	if err := s.CreateBatch(ctx, b3); !errors.Is(err, ErrRangeOverlap) {
		t.Errorf("overlapping range = %v", err)
	}
	b3.Range, b3.Quantity = serialno.Range{First: 101, Last: 200}, 100
	if err := s.CreateBatch(ctx, b3); err != nil {
		t.Errorf("adjacent range = %v", err)
	}
	got, err := s.Batch(ctx, "B1")
	if err != nil || !sameBatch(got, b) || got.Created.IsZero() {
		t.Errorf("Batch(B1) = %+v, %v", got, err)
	}
	bad := []func(*Batch){
		func(b *Batch) { b.SNTemplate = "SL{seq}" },
		func(b *Batch) { b.ID = "" },
		func(b *Batch) { b.Product = "" },
		func(b *Batch) { b.Quantity = 1000 },
		func(b *Batch) { b.SNTemplate = "SL{seq:02}" },
		func(b *Batch) { b.SNTemplate = "{lot}{seq:04}" },
	}
	for i, f := range bad {
		b := testBatch("X", serialno.Range{First: 5000, Last: 5099})
		f(&b)
		if err := s.CreateBatch(ctx, b); err == nil {
			t.Errorf("bad batch %d accepted", i)
		}
	}
}

func FuzzNormalizeMAC(f *testing.F) {
	for _, s := range []string{"24:0A:C4:00:00:01", "240ac4000001", "24-0a-c4-00-00-01", "", "zz", "24:0a:c4:00:00:0g", " 240ac4000001 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := NormalizeMAC(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("NormalizeMAC(%q) error %v is not ErrInvalid", s, err)
			}
			return
		}
		if len(m) != 17 {
			t.Fatalf("NormalizeMAC(%q) = %q", s, m)
		}
		if again, err := NormalizeMAC(m); err != nil || again != m {
			t.Fatalf("NormalizeMAC not idempotent on %q: %q, %v", m, again, err)
		}
	})
}

func TestReserveAcrossBatches(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 10})
	mustBatch(t, s, "B2", serialno.Range{First: 11, Last: 20})
	other := testBatch("X1", serialno.Range{First: 1, Last: 10})
	other.Product, other.SNTemplate = "gateway", "GW{seq:06}"
	if err := s.CreateBatch(ctx, other); err != nil {
		t.Fatal(err)
	}
	r1, _ := s.Reserve(ctx, "B1", mac(1))
	r2, err := s.Reserve(ctx, "B2", mac(1))
	if err != nil || r2.SN != r1.SN || r2.Batch != "B1" || r2.New {
		t.Errorf("board from B1 in B2 = %+v, %v; want its own %s from B1", r2, err, r1.SN)
	}
	if _, err := s.Reserve(ctx, "X1", mac(1)); !errors.Is(err, ErrOtherProduct) {
		t.Errorf("board of another product = %v, want ErrOtherProduct", err)
	}
	if r, _ := s.Reserve(ctx, "B2", mac(2)); r.SN != "SL000000011" {
		t.Errorf("first SN of B2 = %s", r.SN)
	}
}
