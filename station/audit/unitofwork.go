package audit

import (
	"context"
	"fmt"
)

// ReserveAndStart reserves the SN of the board with this MAC in batch
// a.Batch, exactly as Reserve does, and opens its attempt, in one
// transaction: either the board has its SN and an open attempt that a crash
// leaves reading as interrupted, or neither was recorded. A station pays
// one durable commit for both instead of two.
func (s *Store) ReserveAndStart(ctx context.Context, a AttemptStart) (Reservation, int64, error) {
	mac, err := checkStart(&a)
	if err != nil {
		return Reservation{}, 0, fmt.Errorf("reserve SN in batch %s: %w", a.Batch, err)
	}
	var r Reservation
	var id int64
	err = s.write(ctx, "reserve SN and start attempt for "+mac+" in batch "+a.Batch, func(t *tx) error {
		r, id = Reservation{}, 0 // nothing of an earlier run
		b, unit, err := t.boardInBatch(a.Batch, mac, a.Chip, a.Revision, a.FlashID)
		if err != nil {
			return err
		}
		if r, err = t.reserve(b, unit); err != nil {
			return err
		}
		id, err = t.startAttempt(b, unit, a)
		return err
	})
	if err != nil {
		return Reservation{}, 0, err
	}
	return r, id, nil
}

// CompleteAndConfirm ends an open attempt as passed, as CompleteAttempt
// does, and confirms sn, in one transaction: the SN is confirmed exactly
// when the passing outcome is recorded. On an error nothing of it is kept:
// the SN is still reserved and the attempt still open, so the station may
// close it as failed with FinishAttempt. sn must be the SN reserved for the
// attempt's board (ErrInvalid otherwise).
func (s *Store) CompleteAndConfirm(ctx context.Context, attempt int64, steps []Step, p *Provisioning, o Outcome, sn string) error {
	if o.Result != OutcomePass {
		return fmt.Errorf("finish attempt %d and confirm SN %s: result %q (want pass): %w", attempt, sn, o.Result, ErrInvalid)
	}
	rows, err := stepRows(attempt, steps)
	if err != nil {
		return err
	}
	return s.write(ctx, fmt.Sprintf("finish attempt %d and confirm SN %s", attempt, sn), func(t *tx) error {
		if err := t.openAttempt(attempt); err != nil {
			return err
		}
		var owner string
		err := t.queryRow(`SELECT COALESCE((SELECT s.sn FROM attempts a JOIN sn_state s ON s.unit_id = a.unit_id WHERE a.id = ?), '')`, attempt).Scan(&owner)
		if err != nil {
			return err
		}
		if owner != sn {
			return fmt.Errorf("attempt %d: SN %s is not the SN of its board (%q): %w", attempt, sn, owner, ErrInvalid)
		}
		if err := t.snEvent(sn, StateConfirmed, ""); err != nil {
			return err
		}
		return t.completeAttempt(attempt, rows, p, o)
	})
}
