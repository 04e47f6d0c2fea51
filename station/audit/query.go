package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Unit is a board as the log knows it now.
type Unit struct {
	ID         int64
	MAC        string
	Chip       string // as first identified
	Revision   string
	FlashID    string
	FirstSeen  time.Time
	SN         string // "" until reserved
	Seq        uint64
	Batch      string // the batch that issued the SN
	State      string // StateReserved, StateConfirmed, StateVoided, or "" with no SN
	VoidReason string
}

// AttemptRecord is one attempt with its steps and provisioning results.
type AttemptRecord struct {
	ID                                   int64
	Batch, Station, Slot, Operator, Kind string
	Chip, Revision, FlashID              string
	Start, End                           time.Time // End is zero while the attempt is open
	Outcome                              string    // "" while open
	ReasonCode, ReasonKind, Message      string
	Steps                                []Step
	Provisioning                         []Provisioning
}

const unitSelect = `SELECT u.id, u.mac, u.chip, u.revision, u.flash_id, u.created_at,
	COALESCE(s.sn, ''), COALESCE(s.seq, 0), COALESCE(b.batch, ''), COALESCE(s.state, ''), COALESCE(s.void_reason, '')
	FROM units u LEFT JOIN sn_state s ON s.unit_id = u.id LEFT JOIN batches b ON b.id = s.batch_id `

// UnitByMAC looks a board up by its MAC; ErrNotFound if never seen.
func (s *Store) UnitByMAC(ctx context.Context, mac string) (Unit, error) {
	m, err := NormalizeMAC(mac)
	if err != nil {
		return Unit{}, err
	}
	return s.unit(ctx, "look up MAC "+m, unitSelect+`WHERE u.mac = ?`, m)
}

// UnitBySN looks a board up by its SN; ErrNotFound if never issued.
func (s *Store) UnitBySN(ctx context.Context, sn string) (Unit, error) {
	return s.unit(ctx, "look up SN "+sn, unitSelect+`WHERE u.id = (SELECT unit_id FROM sn_reservations WHERE sn = ?)`, sn)
}

func (s *Store) unit(ctx context.Context, step, query string, arg any) (Unit, error) {
	var u Unit
	var created string
	var seq int64
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return Unit{}, mapErr(s.path, step, err)
	}
	err = st.QueryRowContext(ctx, arg).Scan(&u.ID, &u.MAC, &u.Chip, &u.Revision, &u.FlashID, &created,
		&u.SN, &seq, &u.Batch, &u.State, &u.VoidReason)
	if errors.Is(err, sql.ErrNoRows) {
		return Unit{}, fmt.Errorf("%s: %w", step, ErrNotFound)
	}
	if err != nil {
		return Unit{}, mapErr(s.path, step, err)
	}
	u.Seq, u.FirstSeen = uint64(seq), parseStamp(created)
	return u, nil
}

// History returns every attempt of unit (a Unit.ID), oldest first.
func (s *Store) History(ctx context.Context, unit int64) ([]AttemptRecord, error) {
	var out []AttemptRecord
	err := s.read(ctx, fmt.Sprintf("history of unit %d", unit), func(t *sql.Tx) error {
		rows, err := s.txQuery(ctx, t, `SELECT a.id, b.batch, st.name, a.slot, a.operator, a.kind, a.chip, a.revision, a.flash_id,
			a.started_at, COALESCE(e.ended_at, ''), COALESCE(e.outcome, ''), COALESCE(e.reason_code, ''),
			COALESCE(e.reason_kind, ''), COALESCE(e.message, '')
			FROM attempts a JOIN batches b ON b.id = a.batch_id JOIN stations st ON st.id = a.station_id
			LEFT JOIN attempt_ends e ON e.attempt_id = a.id WHERE a.unit_id = ? ORDER BY a.id`, unit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a AttemptRecord
			var start, end string
			if err := rows.Scan(&a.ID, &a.Batch, &a.Station, &a.Slot, &a.Operator, &a.Kind, &a.Chip, &a.Revision, &a.FlashID,
				&start, &end, &a.Outcome, &a.ReasonCode, &a.ReasonKind, &a.Message); err != nil {
				return err
			}
			a.Start, a.End = parseStamp(start), parseStamp(end)
			out = append(out, a)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return s.attemptDetails(ctx, t, unit, out)
	})
	return out, err
}

// attemptDetails loads the steps and provisioning results of a unit's
// attempts, two queries for the whole history.
func (s *Store) attemptDetails(ctx context.Context, t *sql.Tx, unit int64, out []AttemptRecord) error {
	byID := make(map[int64]*AttemptRecord, len(out))
	for i := range out {
		byID[out[i].ID] = &out[i]
	}
	rows, err := s.txQuery(ctx, t, `SELECT attempt_id, name, started_at, ended_at, result, message, measurements FROM steps
		WHERE attempt_id IN (SELECT id FROM attempts WHERE unit_id = ?) ORDER BY id`, unit)
	if err != nil {
		return err
	}
	for rows.Next() {
		var st Step
		var id int64
		var start, end, m string
		if err := rows.Scan(&id, &st.Name, &start, &end, &st.Result, &st.Message, &m); err != nil {
			rows.Close()
			return err
		}
		st.Start, st.End = parseStamp(start), parseStamp(end)
		if err := json.Unmarshal([]byte(m), &st.Measurements); err != nil {
			rows.Close()
			return fmt.Errorf("attempt %d step %s: measurements: %w", id, st.Name, err)
		}
		if a := byID[id]; a != nil {
			a.Steps = append(a.Steps, st)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.txQuery(ctx, t, `SELECT attempt_id, thing_name, device_cert_id, cert_sha256, pubkey_sha256, claim_cert_serial, device_cert_serial FROM provisioning
		WHERE attempt_id IN (SELECT id FROM attempts WHERE unit_id = ?) ORDER BY id`, unit)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var p Provisioning
		var id int64
		if err := rows.Scan(&id, &p.ThingName, &p.DeviceCertID, &p.CertSHA256, &p.PublicKeySHA256, &p.ClaimCertSerial, &p.DeviceCertSerial); err != nil {
			return err
		}
		if a := byID[id]; a != nil {
			a.Provisioning = append(a.Provisioning, p)
		}
	}
	return rows.Err()
}

// txQuery runs a reader-pool prepared statement inside read transaction t.
func (s *Store) txQuery(ctx context.Context, t *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return t.StmtContext(ctx, st).QueryContext(ctx, args...)
}

// txQueryRow is txQuery for one row; a prepare error shows through Scan.
func (s *Store) txQueryRow(ctx context.Context, t *sql.Tx, query string, args ...any) *sql.Row {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return t.QueryRowContext(ctx, query, args...)
	}
	return t.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}
