package audit

import (
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// tableColumns lists, per history table, the columns that are recorded and
// hashed, in canonical order (id excluded: it is hashed as the row id). A
// migration that adds a column must append it here and keep old rows'
// canonical bytes unchanged (e.g. hash the new column only when not NULL).
var tableColumns = map[string][]string{
	"stations":        {"name", "host", "created_at"},
	"batches":         {"batch", "product", "lot", "manifest_sha256", "firmware_sha256", "firmware_files", "claim_cert_sha256", "claim_cert_serial", "template_name", "sn_template", "seq_first", "seq_last", "quantity", "station_id", "created_at"},
	"units":           {"mac", "chip", "revision", "flash_id", "created_at"},
	"sn_reservations": {"batch_id", "unit_id", "seq", "sn", "station_id", "reserved_at"},
	"sn_events":       {"reservation_id", "state", "reason", "station_id", "at"},
	"attempts":        {"unit_id", "batch_id", "station_id", "slot", "operator", "kind", "chip", "revision", "flash_id", "started_at"},
	"attempt_ends":    {"attempt_id", "outcome", "reason_code", "reason_kind", "message", "ended_at"},
	"steps":           {"attempt_id", "name", "started_at", "ended_at", "result", "message", "measurements"},
	"provisioning":    {"attempt_id", "thing_name", "device_cert_id", "cert_sha256", "pubkey_sha256", "claim_cert_serial", "at"},
}

// addedColumns are TEXT columns added by later migrations, after a table's
// tableColumns. They are hashed only when not empty, so rows written before
// the column existed (which read back ”) keep their hashes.
var addedColumns = map[string][]string{
	"provisioning": {"device_cert_serial"}, // migration 0003
}

// allColumns is what appendRow writes and Verify reads for table.
func allColumns(table string) []string {
	return append(tableColumns[table][:len(tableColumns[table]):len(tableColumns[table])], addedColumns[table]...)
}

// chainTables is tableColumns' keys in a fixed order.
var chainTables = []string{"stations", "batches", "units", "sn_reservations", "sn_events", "attempts", "attempt_ends", "steps", "provisioning"}

// chainHead is the last record of the chain.
type chainHead struct {
	seq  int64
	hash []byte
}

var zeroHash = make([]byte, sha256.Size)

// chain appends the record for row id of table, whose values are vals.
func (t *tx) chain(table string, id int64, vals []any) error {
	if t.head == nil {
		h := &chainHead{hash: zeroHash}
		err := t.queryRow(`SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1`).Scan(&h.seq, &h.hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		t.head = h
	}
	seq := t.head.seq + 1
	sum, err := recordHash(t.head.hash, seq, table, id, vals)
	if err != nil {
		return err
	}
	st, err := t.stmt(`INSERT INTO records (seq, tbl, row_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(t.ctx, seq, table, id, t.head.hash, sum); err != nil {
		return err
	}
	t.head = &chainHead{seq: seq, hash: sum}
	return nil
}

// recordHash is SHA-256(prev || canonical(seq, table, id, vals)).
//
// Canonical bytes: seq and id as 8-byte big-endian, then the table name and
// each value as a one-byte type tag with its body: 'n' NULL, 'i' int64 (8
// bytes big-endian), 'f' float64 (IEEE bits), 't' text and 'b' blob (uvarint
// length, then the bytes). The tables are STRICT, so a value reads back with
// the type it was written with.
func recordHash(prev []byte, seq int64, table string, id int64, vals []any) ([]byte, error) {
	b := appendHead(nil, prev, seq, table, id)
	base := len(tableColumns[table])
	for i, v := range vals {
		if i >= base && v == "" {
			continue // an added column left empty: hashed as before it existed
		}
		var err error
		if b, err = appendValue(b, v); err != nil {
			return nil, fmt.Errorf("audit: internal: %s: %w", table, err)
		}
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// appendValue appends one value's canonical bytes.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, 'n'), nil
	case int64:
		return appendInt(b, v), nil
	case int:
		return appendInt(b, int64(v)), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(v)), nil
	case string:
		return appendBytes(b, 't', v), nil
	case []byte:
		return appendBytes(b, 'b', v), nil
	}
	return b, fmt.Errorf("cannot hash %T", v)
}

// appendHead starts a record's hashed bytes: prev, seq, table, id.
func appendHead(b, prev []byte, seq int64, table string, id int64) []byte {
	b = append(b, prev...)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = appendBytes(b, 't', table)
	return binary.BigEndian.AppendUint64(b, uint64(id))
}

func appendInt(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 'i'), uint64(v))
}

func appendBytes[T ~string | ~[]byte](b []byte, tag byte, p T) []byte {
	b = binary.AppendUvarint(append(b, tag), uint64(len(p)))
	return append(b, p...)
}
