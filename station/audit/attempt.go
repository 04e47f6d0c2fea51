package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Attempt kinds.
const (
	KindNormal = "normal"
	KindRetest = "retest"
	KindRework = "rework"
)

// Attempt outcomes.
const (
	OutcomePass        = "pass"
	OutcomeFail        = "fail"
	OutcomeInterrupted = "interrupted"
)

// AttemptStart describes one run of a board through the pipeline.
type AttemptStart struct {
	Batch    string
	MAC      string
	Chip     string // as identified in this run
	Revision string
	FlashID  string
	Slot     string
	Operator string
	Kind     string // KindNormal (default), KindRetest, KindRework
}

// Measurement is one measured value with its limits; nil limits are open.
type Measurement struct {
	Name   string   `json:"name"`
	Value  float64  `json:"value"`
	Unit   string   `json:"unit,omitempty"`
	Low    *float64 `json:"low,omitempty"`
	High   *float64 `json:"high,omitempty"`
	Passed bool     `json:"passed"`
}

// Step is one pipeline step of an attempt, with its own timings.
type Step struct {
	Name         string
	Start, End   time.Time
	Result       string // e.g. "pass", "fail", "skip"
	Message      string
	Measurements []Measurement
}

// Provisioning is what the cloud issued to the board: names and
// fingerprints only. Any field holding a private key is refused.
type Provisioning struct {
	ThingName        string
	DeviceCertID     string
	CertSHA256       string // hex SHA-256 of the device certificate DER
	PublicKeySHA256  string // hex SHA-256 of the device public key (SubjectPublicKeyInfo DER)
	ClaimCertSerial  string
	DeviceCertSerial string // hex serial number of the device certificate
}

// Outcome ends an attempt.
type Outcome struct {
	Result     string // OutcomePass or OutcomeFail
	ReasonCode string // stable code for a failure, e.g. "flash.verify"
	ReasonKind string // failure kind (transport, device, verify, ...)
	Message    string
}

// StartAttempt records the start of a run of the board with this MAC and
// returns the attempt's ID. The board is recorded as a unit on first sight.
func (s *Store) StartAttempt(ctx context.Context, a AttemptStart) (int64, error) {
	mac, err := checkStart(&a)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.write(ctx, "start attempt for "+mac, func(t *tx) error {
		id = 0 // nothing of an earlier run
		b, unit, err := t.boardInBatch(a.Batch, mac, a.Chip, a.Revision, a.FlashID)
		if err != nil {
			return err
		}
		id, err = t.startAttempt(b, unit, a)
		return err
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// checkStart normalizes a's MAC and kind, returning the MAC.
func checkStart(a *AttemptStart) (string, error) {
	mac, err := NormalizeMAC(a.MAC)
	if err != nil {
		return "", fmt.Errorf("start attempt: %w", err)
	}
	if a.Kind == "" {
		a.Kind = KindNormal
	}
	if a.Kind != KindNormal && a.Kind != KindRetest && a.Kind != KindRework {
		return "", fmt.Errorf("start attempt for %s: kind %q: %w", mac, a.Kind, ErrInvalid)
	}
	a.MAC = mac
	return mac, nil
}

// startAttempt appends the attempt's start for unit in batch b.
func (t *tx) startAttempt(b batchRow, unit int64, a AttemptStart) (int64, error) {
	station, err := t.stationID()
	if err != nil {
		return 0, err
	}
	return t.appendRow("attempts", unit, b.id, station, a.Slot, a.Operator, a.Kind,
		a.Chip, a.Revision, a.FlashID, stamp(t.now))
}

// openAttempt fails unless attempt id exists and has not ended.
func (t *tx) openAttempt(id int64) error {
	var n, ended int
	err := t.queryRow(`SELECT count(*), (SELECT count(*) FROM attempt_ends WHERE attempt_id = ?) FROM attempts WHERE id = ?`, id, id).Scan(&n, &ended)
	switch {
	case err != nil:
		return err
	case n == 0:
		return fmt.Errorf("attempt %d: %w", id, ErrNotFound)
	case ended > 0:
		return fmt.Errorf("attempt %d: %w", id, ErrFinished)
	}
	return nil
}

// RecordStep appends a step to an open attempt.
func (s *Store) RecordStep(ctx context.Context, attempt int64, st Step) error {
	return s.RecordSteps(ctx, attempt, []Step{st}, nil)
}

// RecordSteps appends finished steps and, when p is not nil, the
// provisioning result to an open attempt in one transaction: a station
// that keeps an attempt's steps until it has something durable to say
// pays for one commit instead of one per step. Nothing is kept when any
// record is refused.
func (s *Store) RecordSteps(ctx context.Context, attempt int64, steps []Step, p *Provisioning) error {
	if len(steps) == 0 && p == nil {
		return nil
	}
	rows, err := stepRows(attempt, steps)
	if err != nil {
		return err
	}
	return s.write(ctx, fmt.Sprintf("record %s of attempt %d", what(steps, p), attempt), func(t *tx) error {
		if err := t.openAttempt(attempt); err != nil {
			return err
		}
		return t.appendAttemptRows(attempt, rows, p)
	})
}

// RecordProvisioning appends the provisioning result of an open attempt.
func (s *Store) RecordProvisioning(ctx context.Context, attempt int64, p Provisioning) error {
	return s.RecordSteps(ctx, attempt, nil, &p)
}

// FinishAttempt ends an open attempt; an attempt ends once (ErrFinished).
func (s *Store) FinishAttempt(ctx context.Context, attempt int64, o Outcome) error {
	return s.CompleteAttempt(ctx, attempt, nil, nil, o)
}

// CompleteAttempt appends an open attempt's remaining steps, its
// provisioning result when p is not nil, and its end, in one transaction
// and in that order. Either all of it is recorded or none: an attempt
// whose completion failed is still open, and the station may close it
// with FinishAttempt (InterruptOpenAttempts does after a crash).
func (s *Store) CompleteAttempt(ctx context.Context, attempt int64, steps []Step, p *Provisioning, o Outcome) error {
	if o.Result != OutcomePass && o.Result != OutcomeFail {
		return fmt.Errorf("finish attempt %d: result %q (want pass or fail): %w", attempt, o.Result, ErrInvalid)
	}
	rows, err := stepRows(attempt, steps)
	if err != nil {
		return err
	}
	return s.write(ctx, fmt.Sprintf("finish attempt %d", attempt), func(t *tx) error {
		if err := t.openAttempt(attempt); err != nil {
			return err
		}
		return t.completeAttempt(attempt, rows, p, o)
	})
}

// completeAttempt appends the steps, provisioning and end of an attempt
// the caller has found open (openAttempt) in this transaction.
func (t *tx) completeAttempt(attempt int64, rows []stepRow, p *Provisioning, o Outcome) error {
	if err := t.appendAttemptRows(attempt, rows, p); err != nil {
		return err
	}
	_, err := t.appendRow("attempt_ends", attempt, o.Result, o.ReasonCode, o.ReasonKind, o.Message, stamp(t.now))
	return err
}

// stepRow is a step ready for the steps table.
type stepRow struct {
	st   Step
	meas string // measurements as JSON
}

// stepRows encodes steps' measurements before the transaction starts.
func stepRows(attempt int64, steps []Step) ([]stepRow, error) {
	rows := make([]stepRow, len(steps))
	for i, st := range steps {
		m := st.Measurements
		if m == nil {
			m = []Measurement{}
		}
		js, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("record step %s of attempt %d: measurements: %w", st.Name, attempt, err)
		}
		rows[i] = stepRow{st: st, meas: string(js)}
	}
	return rows, nil
}

// appendAttemptRows appends steps then the provisioning result, if any.
func (t *tx) appendAttemptRows(attempt int64, rows []stepRow, p *Provisioning) error {
	for _, r := range rows {
		st := r.st
		if _, err := t.appendRow("steps", attempt, st.Name, stamp(st.Start), stamp(st.End), st.Result, st.Message, r.meas); err != nil {
			if len(rows) > 1 {
				err = fmt.Errorf("step %s: %w", st.Name, err)
			}
			return err
		}
	}
	if p == nil {
		return nil
	}
	_, err := t.appendRow("provisioning", attempt, p.ThingName, p.DeviceCertID, p.CertSHA256,
		p.PublicKeySHA256, p.ClaimCertSerial, stamp(t.now), p.DeviceCertSerial)
	return err
}

// what names the records of a RecordSteps call in its errors.
func what(steps []Step, p *Provisioning) string {
	switch {
	case len(steps) == 1 && p == nil:
		return "step " + steps[0].Name
	case len(steps) == 0:
		return "provisioning"
	case p == nil:
		return fmt.Sprintf("%d steps", len(steps))
	}
	return fmt.Sprintf("%d steps and provisioning", len(steps))
}

// InterruptOpenAttempts closes every attempt of station that has no end as
// interrupted (a crash or power cut ended it), by appending its end; history
// is not rewritten. A station calls it on start-up and on resume. It returns
// the IDs of the attempts it closed.
func (s *Store) InterruptOpenAttempts(ctx context.Context, station string) ([]int64, error) {
	var ids []int64
	err := s.write(ctx, "close interrupted attempts of "+station, func(t *tx) error {
		ids = ids[:0]
		rows, err := t.QueryContext(t.ctx, `SELECT a.id FROM attempts a JOIN stations st ON st.id = a.station_id
			WHERE st.name = ? AND NOT EXISTS (SELECT 1 FROM attempt_ends e WHERE e.attempt_id = a.id) ORDER BY a.id`, station)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := t.appendRow("attempt_ends", id, OutcomeInterrupted, "interrupted", "interrupted",
				"attempt had no end when the station started again", stamp(t.now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}
