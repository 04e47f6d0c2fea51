package audit

import (
	"context"
	"database/sql"
	"strings"
)

// Yield is a batch's yield: of the units that ran, how many passed on their
// first attempt and how many passed in the end (after retests and rework).
type Yield struct {
	Units     int64
	FirstPass int64
	Final     int64
}

// FirstPassRate is FirstPass/Units (0 for no units).
func (y Yield) FirstPassRate() float64 { return ratio(y.FirstPass, y.Units) }

// FinalRate is Final/Units (0 for no units).
func (y Yield) FinalRate() float64 { return ratio(y.Final, y.Units) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Count is one group of a failure breakdown.
type Count struct {
	Key   string
	Count int64
}

// Progress is where a batch stands, for resuming it.
type Progress struct {
	Quantity   int64
	Units      int64 // units with at least one attempt
	Passed     int64 // units whose latest finished attempt passed
	Failed     int64 // units whose latest finished attempt failed or was interrupted
	InProgress int64 // attempts without an end
	Reserved   int64 // SNs reserved, neither confirmed nor voided
	Confirmed  int64
	Voided     int64
	Remaining  int64 // Quantity - Confirmed, not below 0
}

// DuplicateKey is a device public key recorded for more than one board: a
// sign of a bad random number generator or a cloned key.
type DuplicateKey struct {
	PublicKeySHA256 string
	MACs            []string
}

// batchDBID resolves a batch ID to its row id inside a read.
func (s *Store) batchDBID(ctx context.Context, t *sql.Tx, batch string) (int64, error) {
	b, err := loadBatch(func(q string, a ...any) *sql.Row { return s.txQueryRow(ctx, t, q, a...) }, batch)
	return b.id, err
}

// lastFinished is, per unit of a batch, its latest attempt that ended
// (interrupted attempts excluded: they say nothing about the board).
const lastFinished = `SELECT a.unit_id, MAX(a.id) AS id FROM attempts a JOIN attempt_ends e ON e.attempt_id = a.id
	WHERE a.batch_id = ?1 AND e.outcome != 'interrupted' GROUP BY a.unit_id`

// BatchYield computes first-pass and final yield of a batch.
func (s *Store) BatchYield(ctx context.Context, batch string) (Yield, error) {
	var y Yield
	err := s.read(ctx, "yield of batch "+batch, func(t *sql.Tx) error {
		id, err := s.batchDBID(ctx, t, batch)
		if err != nil {
			return err
		}
		return s.txQueryRow(ctx, t, `WITH firsts AS (SELECT unit_id, MIN(id) AS id FROM attempts WHERE batch_id = ?1 GROUP BY unit_id),
			lasts AS (`+lastFinished+`)
			SELECT (SELECT count(*) FROM firsts),
			(SELECT count(*) FROM firsts f JOIN attempt_ends e ON e.attempt_id = f.id WHERE e.outcome = 'pass'),
			(SELECT count(*) FROM lasts l JOIN attempt_ends e ON e.attempt_id = l.id WHERE e.outcome = 'pass')`, id).
			Scan(&y.Units, &y.FirstPass, &y.Final)
	})
	return y, err
}

// FailuresByReason counts a batch's failed and interrupted attempts by reason code.
func (s *Store) FailuresByReason(ctx context.Context, batch string) ([]Count, error) {
	return s.failures(ctx, batch, "e.reason_code")
}

// FailuresBySlot counts a batch's failed and interrupted attempts by slot.
func (s *Store) FailuresBySlot(ctx context.Context, batch string) ([]Count, error) {
	return s.failures(ctx, batch, "a.slot")
}

// FailuresByHour counts a batch's failed and interrupted attempts by the UTC
// hour they ended in ("2026-12-03T09").
func (s *Store) FailuresByHour(ctx context.Context, batch string) ([]Count, error) {
	return s.failures(ctx, batch, "substr(e.ended_at, 1, 13)")
}

func (s *Store) failures(ctx context.Context, batch, key string) ([]Count, error) {
	var out []Count
	err := s.read(ctx, "failures of batch "+batch, func(t *sql.Tx) error {
		id, err := s.batchDBID(ctx, t, batch)
		if err != nil {
			return err
		}
		rows, err := t.QueryContext(ctx, `SELECT `+key+` AS k, count(*) AS n FROM attempts a JOIN attempt_ends e ON e.attempt_id = a.id
			WHERE a.batch_id = ? AND e.outcome != 'pass' GROUP BY k ORDER BY n DESC, k`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c Count
			if err := rows.Scan(&c.Key, &c.Count); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// BatchProgress says how far a batch has come, for resuming it.
func (s *Store) BatchProgress(ctx context.Context, batch string) (Progress, error) {
	var p Progress
	err := s.read(ctx, "progress of batch "+batch, func(t *sql.Tx) error {
		b, err := loadBatch(func(q string, a ...any) *sql.Row { return s.txQueryRow(ctx, t, q, a...) }, batch)
		if err != nil {
			return err
		}
		p.Quantity = int64(b.Quantity)
		err = s.txQueryRow(ctx, t, `WITH lasts AS (`+lastFinished+`)
			SELECT (SELECT count(DISTINCT unit_id) FROM attempts WHERE batch_id = ?1),
			(SELECT count(*) FROM lasts l JOIN attempt_ends e ON e.attempt_id = l.id WHERE e.outcome = 'pass'),
			(SELECT count(*) FROM lasts l JOIN attempt_ends e ON e.attempt_id = l.id WHERE e.outcome = 'fail'),
			(SELECT count(*) FROM attempts a WHERE a.batch_id = ?1 AND NOT EXISTS (SELECT 1 FROM attempt_ends e WHERE e.attempt_id = a.id)),
			(SELECT COALESCE(SUM(state = 'reserved'), 0) FROM sn_state WHERE batch_id = ?1),
			(SELECT COALESCE(SUM(state = 'confirmed'), 0) FROM sn_state WHERE batch_id = ?1),
			(SELECT COALESCE(SUM(state = 'voided'), 0) FROM sn_state WHERE batch_id = ?1)`, b.id).
			Scan(&p.Units, &p.Passed, &p.Failed, &p.InProgress, &p.Reserved, &p.Confirmed, &p.Voided)
		p.Remaining = max(0, p.Quantity-p.Confirmed)
		return err
	})
	return p, err
}

// DuplicatePublicKeys lists device public keys recorded for more than one
// board, across all batches.
func (s *Store) DuplicatePublicKeys(ctx context.Context) ([]DuplicateKey, error) {
	var out []DuplicateKey
	err := s.read(ctx, "duplicate public keys", func(t *sql.Tx) error {
		rows, err := t.QueryContext(ctx, `SELECT p.pubkey_sha256, group_concat(DISTINCT u.mac)
			FROM provisioning p JOIN attempts a ON a.id = p.attempt_id JOIN units u ON u.id = a.unit_id
			WHERE p.pubkey_sha256 != '' GROUP BY p.pubkey_sha256 HAVING count(DISTINCT a.unit_id) > 1 ORDER BY p.pubkey_sha256`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d DuplicateKey
			var macs string
			if err := rows.Scan(&d.PublicKeySHA256, &macs); err != nil {
				return err
			}
			d.MACs = strings.Split(macs, ",")
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// PublicKeyOwners returns the MACs of the boards whose recorded
// provisioning carries this device public key fingerprint, first recorded
// first. One indexed lookup: the check a station runs for every board
// (DuplicatePublicKeys scans the whole log).
func (s *Store) PublicKeyOwners(ctx context.Context, publicKeySHA256 string) ([]string, error) {
	return s.owners(ctx, "owners of public key", "pubkey_sha256", publicKeySHA256)
}

// CertSerialOwners returns the MACs of the boards recorded with a device
// certificate of this serial number, first recorded first.
func (s *Store) CertSerialOwners(ctx context.Context, serial string) ([]string, error) {
	if serial == "" {
		return nil, nil
	}
	return s.owners(ctx, "owners of certificate serial", "device_cert_serial", serial)
}

func (s *Store) owners(ctx context.Context, step, col, val string) ([]string, error) {
	var out []string
	err := s.read(ctx, step, func(t *sql.Tx) error {
		rows, err := s.txQuery(ctx, t, `SELECT u.mac FROM provisioning p JOIN attempts a ON a.id = p.attempt_id
			JOIN units u ON u.id = a.unit_id WHERE p.`+col+` = ? GROUP BY u.id ORDER BY MIN(p.id)`, val)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}
