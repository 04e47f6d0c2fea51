package audit

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Export formats.
const (
	FormatCSV  = "csv"  // RFC 4180, header row, one row per attempt
	FormatJSON = "json" // JSON lines: one object per attempt
)

// exportColumns are the CSV header and the JSON keys, in order.
var exportColumns = []string{
	"batch", "sn", "mac", "seq", "sn_state", "attempt_id", "attempt_kind", "station", "slot", "operator",
	"chip", "revision", "flash_id", "started_at", "ended_at", "outcome", "reason_code", "reason_kind", "message",
	"thing_name", "device_cert_id", "cert_sha256", "pubkey_sha256", "claim_cert_serial", "device_cert_serial",
}

const exportQuery = `SELECT b.batch, COALESCE(s.sn, ''), u.mac, COALESCE(s.seq, 0), COALESCE(s.state, ''), a.id, a.kind,
	st.name, a.slot, a.operator, a.chip, a.revision, a.flash_id, a.started_at,
	COALESCE(e.ended_at, ''), COALESCE(e.outcome, ''), COALESCE(e.reason_code, ''), COALESCE(e.reason_kind, ''), COALESCE(e.message, ''),
	COALESCE(p.thing_name, ''), COALESCE(p.device_cert_id, ''), COALESCE(p.cert_sha256, ''), COALESCE(p.pubkey_sha256, ''),
	COALESCE(p.claim_cert_serial, ''), COALESCE(p.device_cert_serial, '')
	FROM attempts a
	JOIN batches b ON b.id = a.batch_id
	JOIN units u ON u.id = a.unit_id
	JOIN stations st ON st.id = a.station_id
	LEFT JOIN sn_state s ON s.unit_id = u.id
	LEFT JOIN attempt_ends e ON e.attempt_id = a.id
	LEFT JOIN provisioning p ON p.id = (SELECT MAX(id) FROM provisioning WHERE attempt_id = a.id)
	WHERE a.batch_id = ? ORDER BY a.id`

// Export writes one row per attempt of batch to w, in format FormatCSV or
// FormatJSON, streaming from one read snapshot in constant memory. Times are
// ISO 8601 UTC. An open attempt has empty ended_at and outcome.
func (s *Store) Export(ctx context.Context, w io.Writer, batch, format string) error {
	var enc rowEncoder
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case FormatCSV:
		enc = newCSVEncoder(bw)
	case FormatJSON:
		enc = newJSONEncoder(bw)
	default:
		return fmt.Errorf("export batch %s: format %q (want csv or json): %w", batch, format, ErrInvalid)
	}
	return s.read(ctx, "export batch "+batch, func(t *sql.Tx) error {
		id, err := s.batchDBID(ctx, t, batch)
		if err != nil {
			return err
		}
		rows, err := t.QueryContext(ctx, exportQuery, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		vals := make([]string, len(exportColumns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := enc.header(); err != nil {
			return err
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			if err := enc.row(vals); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := enc.flush(); err != nil {
			return err
		}
		return bw.Flush()
	})
}

type rowEncoder interface {
	header() error
	row(vals []string) error
	flush() error
}

type csvEncoder struct {
	w   *csv.Writer
	out []string
}

func newCSVEncoder(w io.Writer) *csvEncoder {
	c := csv.NewWriter(w)
	c.UseCRLF = true // RFC 4180 line ends
	return &csvEncoder{w: c, out: make([]string, len(exportColumns))}
}

func (e *csvEncoder) header() error { return e.w.Write(exportColumns) }

// row writes vals; a text cell starting with '=', '+', '@' or a tab gets a
// leading apostrophe so a spreadsheet shows it instead of running it as a
// formula.
func (e *csvEncoder) row(vals []string) error {
	for i, v := range vals {
		if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '@' || v[0] == '\t') {
			v = "'" + v
		}
		e.out[i] = v
	}
	return e.w.Write(e.out)
}

func (e *csvEncoder) flush() error { e.w.Flush(); return e.w.Error() }

type jsonEncoder struct {
	w   *bufio.Writer
	buf []byte
}

func newJSONEncoder(w *bufio.Writer) *jsonEncoder { return &jsonEncoder{w: w} }

func (e *jsonEncoder) header() error { return nil }

// row writes one JSON object; seq and attempt_id are numbers, the rest strings.
func (e *jsonEncoder) row(vals []string) error {
	b := append(e.buf[:0], '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, exportColumns[i]) // keys are plain ASCII
		b = append(b, ':')
		if exportColumns[i] == "seq" || exportColumns[i] == "attempt_id" {
			b = append(b, v...)
			continue
		}
		q, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b = append(b, q...)
	}
	b = append(b, '}', '\n')
	e.buf = b
	_, err := e.w.Write(b)
	return err
}

func (e *jsonEncoder) flush() error { return nil }
