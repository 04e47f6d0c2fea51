package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
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
		if p != nil {
			if err := t.refuseSharedKey(attempt, p); err != nil {
				return err
			}
		}
		if err := t.snEvent(sn, StateConfirmed, ""); err != nil {
			return err
		}
		return t.completeAttempt(attempt, rows, p, o)
	})
}

// refuseSharedKey fails with a *DuplicateKeyError when another unit than
// the attempt's has a device certificate recorded with p's public key or
// serial. Checked in the write that confirms the SN, one writer at a
// time, it lets exactly the first of two boards with one key pass.
func (t *tx) refuseSharedKey(attempt int64, p *Provisioning) error {
	checks := []struct{ col, val string }{{"pubkey_sha256", p.PublicKeySHA256}, {"device_cert_serial", p.DeviceCertSerial}}
	for _, c := range checks {
		if c.val == "" {
			continue
		}
		var sn, mac string
		err := t.queryRow(`SELECT COALESCE(s.sn, ''), u.mac FROM provisioning p JOIN attempts a ON a.id = p.attempt_id
			JOIN units u ON u.id = a.unit_id LEFT JOIN sn_state s ON s.unit_id = u.id
			WHERE p.`+c.col+` = ? AND a.unit_id <> (SELECT unit_id FROM attempts WHERE id = ?) ORDER BY p.id LIMIT 1`, c.val, attempt).Scan(&sn, &mac)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		return &DuplicateKeyError{Owner: strings.TrimSpace(sn + " (" + mac + ")")}
	}
	return nil
}
