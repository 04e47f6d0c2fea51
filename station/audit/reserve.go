package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"fleetline/serialno"
)

// SN states, derived from the reservation and its events.
const (
	StateReserved  = "reserved"
	StateConfirmed = "confirmed"
	StateVoided    = "voided"
)

// Reservation is an SN checked out for a board.
type Reservation struct {
	SN    string
	Seq   uint64
	Batch string // the batch the SN was issued in (an earlier one for a board seen before)
	New   bool   // false: the board already had this SN
}

// NormalizeMAC returns mac as lower-case colon-separated hex ("aa:bb:...").
func NormalizeMAC(mac string) (string, error) {
	m := strings.ToLower(strings.NewReplacer("-", "", ":", "", ".", "").Replace(strings.TrimSpace(mac)))
	if len(m) != 12 || strings.Trim(m, "0123456789abcdef") != "" {
		return "", fmt.Errorf("MAC %q: want 6 hex bytes: %w", mac, ErrInvalid)
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(m[i : i+2])
	}
	return b.String(), nil
}

// Reserve checks out an SN for the board with this MAC in batch batchID. A
// board that already has an SN in this log gets the same one back (New
// false), whatever batch of the same product issued it. Otherwise the next
// sequence number of the batch's range is taken; numbers are never reused,
// so a voided SN is never issued again. A full range is a
// *RangeExhaustedError. On an error the Reservation is zero.
func (s *Store) Reserve(ctx context.Context, batchID, mac string) (Reservation, error) {
	mac, err := NormalizeMAC(mac)
	if err != nil {
		return Reservation{}, fmt.Errorf("reserve SN in batch %s: %w", batchID, err)
	}
	var r Reservation
	err = s.write(ctx, "reserve SN for "+mac+" in batch "+batchID, func(t *tx) error {
		r = Reservation{} // nothing of an earlier run
		b, unit, err := t.boardInBatch(batchID, mac, "", "", "")
		if err != nil {
			return err
		}
		r, err = t.reserve(b, unit)
		return err
	})
	if err != nil {
		return Reservation{}, err
	}
	return r, nil
}

// reserve returns unit's SN in batch b, taking the next one if it has none.
func (t *tx) reserve(b batchRow, unit int64) (Reservation, error) {
	var r Reservation
	found, err := t.existingReservation(b, unit, &r)
	if found || err != nil {
		return r, err
	}
	err = t.newReservation(b, unit, &r)
	return r, err
}

// existingReservation fills r with the unit's SN if it has one.
func (t *tx) existingReservation(b batchRow, unit int64, r *Reservation) (bool, error) {
	var seq int64
	var product, state, reason string
	err := t.queryRow(`SELECT s.sn, s.seq, b.batch, b.product, s.state, s.void_reason
		FROM sn_state s JOIN batches b ON b.id = s.batch_id WHERE s.unit_id = ?`, unit).
		Scan(&r.SN, &seq, &r.Batch, &product, &state, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	r.Seq = uint64(seq)
	switch {
	case product != b.Product:
		return true, fmt.Errorf("%w: SN %s of product %s (batch %s); this batch builds %s", ErrOtherProduct, r.SN, product, r.Batch, b.Product)
	case state == StateVoided:
		return true, fmt.Errorf("%w: SN %s (%s): the board was scrapped; take it off the line", ErrVoided, r.SN, reason)
	}
	return true, nil
}

// newReservation takes the batch's next sequence number.
func (t *tx) newReservation(b batchRow, unit int64, r *Reservation) error {
	tmpl, err := serialno.Parse(b.SNTemplate)
	if err != nil {
		return fmt.Errorf("batch %s: %w", b.ID, err)
	}
	var maxSeq sql.NullInt64
	if err := t.queryRow(`SELECT MAX(seq) FROM sn_reservations WHERE batch_id = ?`, b.id).Scan(&maxSeq); err != nil {
		return err
	}
	next := b.Range.First
	if maxSeq.Valid {
		next = uint64(maxSeq.Int64) + 1
	}
	if !b.Range.Contains(next) {
		return t.exhausted(b)
	}
	sn, err := tmpl.Format(next, serialno.Fields{Date: t.now, Lot: b.Lot})
	if err != nil {
		return fmt.Errorf("batch %s: %w", b.ID, err)
	}
	var other string
	err = t.queryRow(`SELECT b.batch FROM sn_reservations r JOIN batches b ON b.id = r.batch_id WHERE r.sn = ?`, sn).Scan(&other)
	if err == nil {
		return fmt.Errorf("batch %s: SN %s was already issued in batch %s: the SN template and range of the two batches collide: %w", b.ID, sn, other, ErrRangeOverlap)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	station, err := t.stationID()
	if err != nil {
		return err
	}
	if _, err := t.appendRow("sn_reservations", b.id, unit, int64(next), sn, station, stamp(t.now)); err != nil {
		return err
	}
	*r = Reservation{SN: sn, Seq: next, Batch: b.ID, New: true}
	return nil
}

// exhausted builds the error for a batch with no number left.
func (t *tx) exhausted(b batchRow) error {
	e := &RangeExhaustedError{Batch: b.ID, Range: b.Range.String()}
	err := t.queryRow(`SELECT
		COALESCE(SUM(state = 'reserved'), 0), COALESCE(SUM(state = 'confirmed'), 0), COALESCE(SUM(state = 'voided'), 0)
		FROM sn_state WHERE batch_id = ?`, b.id).Scan(&e.Reserved, &e.Confirmed, &e.Voided)
	if err != nil {
		return err
	}
	return e
}

// boardInBatch loads batch batchID and the unit with this MAC, recording
// the unit first if it is new: the opening of every unit of work that
// reserves an SN or starts an attempt.
func (t *tx) boardInBatch(batchID, mac, chip, rev, flash string) (batchRow, int64, error) {
	b, err := loadBatch(t.queryRow, batchID)
	if err != nil {
		return batchRow{}, 0, err
	}
	unit, err := t.unitID(mac, chip, rev, flash)
	return b, unit, err
}

// unitID returns the unit with this MAC, recording it first if it is new.
func (t *tx) unitID(mac, chip, rev, flash string) (int64, error) {
	var id int64
	err := t.queryRow(`SELECT id FROM units WHERE mac = ?`, mac).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return t.appendRow("units", mac, chip, rev, flash, stamp(t.now))
	}
	return id, err
}

// Confirm marks sn as issued for good: the board passed and carries it.
// Confirming twice is a no-op; confirming a voided SN is ErrVoided.
func (s *Store) Confirm(ctx context.Context, sn string) error {
	return s.snEvent(ctx, sn, StateConfirmed, "")
}

// Void retires sn with a reason (the board was scrapped). A voided SN is
// never issued again and its board cannot be reserved again. Voiding twice
// is a no-op.
func (s *Store) Void(ctx context.Context, sn, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("void SN %s: a reason is required: %w", sn, ErrInvalid)
	}
	return s.snEvent(ctx, sn, StateVoided, reason)
}

func (s *Store) snEvent(ctx context.Context, sn, state, reason string) error {
	verb := map[string]string{StateConfirmed: "confirm", StateVoided: "void"}[state]
	return s.write(ctx, verb+" SN "+sn, func(t *tx) error { return t.snEvent(sn, state, reason) })
}

// snEvent appends an SN's change of state unless it is in that state.
func (t *tx) snEvent(sn, state, reason string) error {
	var id int64
	var cur string
	err := t.queryRow(`SELECT reservation_id, state FROM sn_state WHERE sn = ?`, sn).Scan(&id, &cur)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("SN %s was never reserved: %w", sn, ErrNotFound)
	}
	if err != nil {
		return err
	}
	switch {
	case cur == state:
		return nil
	case cur == StateVoided:
		return fmt.Errorf("%w: SN %s cannot be confirmed", ErrVoided, sn)
	}
	station, err := t.stationID()
	if err != nil {
		return err
	}
	_, err = t.appendRow("sn_events", id, state, reason, station, stamp(t.now))
	return err
}
