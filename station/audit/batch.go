package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"fleetline/serialno"
)

// Batch is a work order as the audit log records it: what was built, with
// which firmware and claim certificate, and which SNs it may issue.
type Batch struct {
	ID              string            // the work order's ID, unique in the log
	Product         string            // product name; an SN belongs to one product
	Lot             string            // lot code for {lot} fields; may be empty
	ManifestSHA256  string            // hex SHA-256 of the batch manifest
	FirmwareSHA256  string            // hex SHA-256 of the firmware bundle
	FirmwareFiles   map[string]string // file name -> hex SHA-256
	ClaimCertSHA256 string            // fingerprint of the claim certificate (never the key)
	ClaimCertSerial string            // its serial number
	TemplateName    string            // fleet-provisioning template
	SNTemplate      string            // serialno template, e.g. "SL{seq:09}"
	Range           serialno.Range    // sequence numbers the batch may issue
	Quantity        int               // boards to build
	Created         time.Time         // set by the store
}

// CreateBatch records a batch. Creating a batch that is already recorded
// with the same contents is a no-op, so a resumed batch calls it again; a
// different batch under the same ID is ErrBatchExists. A range overlapping
// another batch with the same SN template is ErrRangeOverlap.
func (s *Store) CreateBatch(ctx context.Context, b Batch) error {
	tmpl, err := serialno.Parse(b.SNTemplate)
	if err != nil {
		return fmt.Errorf("audit: create batch %s: %w", b.ID, err)
	}
	if err := validateBatch(b, tmpl); err != nil {
		return fmt.Errorf("audit: create batch %s: %w", b.ID, err)
	}
	files, err := json.Marshal(b.FirmwareFiles) // map keys are sorted: stable bytes
	if err != nil {
		return err
	}
	if b.FirmwareFiles == nil {
		files = []byte("{}")
	}
	return s.write(ctx, "create batch "+b.ID, func(t *tx) error {
		old, err := loadBatch(t.queryRow, b.ID)
		if err == nil {
			if sameBatch(old.Batch, b) {
				return nil
			}
			return fmt.Errorf("%w: %s (product %s, range %s, manifest %s)", ErrBatchExists, b.ID, old.Product, old.Range, old.ManifestSHA256)
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := t.checkOverlap(b); err != nil {
			return err
		}
		station, err := t.stationID()
		if err != nil {
			return err
		}
		_, err = t.appendRow("batches", b.ID, b.Product, b.Lot, b.ManifestSHA256, b.FirmwareSHA256, string(files),
			b.ClaimCertSHA256, b.ClaimCertSerial, b.TemplateName, b.SNTemplate,
			int64(b.Range.First), int64(b.Range.Last), int64(b.Quantity), station, stamp(t.now))
		return err
	})
}

func validateBatch(b Batch, tmpl *serialno.Template) error {
	switch {
	case b.ID == "":
		return fmt.Errorf("empty batch ID: %w", ErrInvalid)
	case b.Product == "":
		return fmt.Errorf("empty product: %w", ErrInvalid)
	case b.Range.Last > math.MaxInt64:
		return fmt.Errorf("range %s: last above %d: %w", b.Range, int64(math.MaxInt64), ErrInvalid)
	case b.Quantity < 0 || uint64(b.Quantity) > b.Range.Len():
		return fmt.Errorf("quantity %d does not fit range %s (%d numbers): %w", b.Quantity, b.Range, b.Range.Len(), ErrInvalid)
	case tmpl.NeedsLot() && b.Lot == "":
		return fmt.Errorf("template %s has a {lot} field but the batch has no lot: %w", tmpl, ErrInvalid)
	}
	if err := tmpl.CheckRange(b.Range); err != nil {
		return err
	}
	if tmpl.NeedsLot() {
		if _, err := tmpl.Format(b.Range.First, serialno.Fields{Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Lot: b.Lot}); err != nil {
			return err
		}
	}
	return nil
}

// sameBatch compares what a re-created batch must repeat.
func sameBatch(a, b Batch) bool {
	if len(a.FirmwareFiles) != len(b.FirmwareFiles) {
		return false
	}
	for k, v := range a.FirmwareFiles {
		if b.FirmwareFiles[k] != v {
			return false
		}
	}
	return a.ID == b.ID && a.Product == b.Product && a.Lot == b.Lot && a.ManifestSHA256 == b.ManifestSHA256 &&
		a.FirmwareSHA256 == b.FirmwareSHA256 && a.ClaimCertSHA256 == b.ClaimCertSHA256 &&
		a.ClaimCertSerial == b.ClaimCertSerial && a.TemplateName == b.TemplateName &&
		a.SNTemplate == b.SNTemplate && a.Range == b.Range && a.Quantity == b.Quantity
}

// checkOverlap refuses two batches that could render the same SNs.
func (t *tx) checkOverlap(b Batch) error {
	var other string
	var first, last int64
	err := t.queryRow(`SELECT batch, seq_first, seq_last FROM batches
		WHERE sn_template = ? AND lot = ? AND seq_first <= ? AND seq_last >= ? LIMIT 1`,
		b.SNTemplate, b.Lot, int64(b.Range.Last), int64(b.Range.First)).Scan(&other, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s %s overlaps batch %s %d-%d (template %s)", ErrRangeOverlap, b.ID, b.Range, other, first, last, b.SNTemplate)
}

// batchRow is a recorded batch with its row id.
type batchRow struct {
	Batch
	id int64
}

type rowQuerier func(query string, args ...any) *sql.Row

const batchSelect = `SELECT id, batch, product, lot, manifest_sha256, firmware_sha256, firmware_files,
	claim_cert_sha256, claim_cert_serial, template_name, sn_template, seq_first, seq_last, quantity, created_at
	FROM batches WHERE batch = ?`

// loadBatch reads a batch by its ID; ErrNotFound if absent.
func loadBatch(q rowQuerier, id string) (batchRow, error) {
	var b batchRow
	var files, created string
	var first, last, qty int64
	err := q(batchSelect, id).Scan(&b.id, &b.ID, &b.Product, &b.Lot, &b.ManifestSHA256, &b.FirmwareSHA256, &files,
		&b.ClaimCertSHA256, &b.ClaimCertSerial, &b.TemplateName, &b.SNTemplate, &first, &last, &qty, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("batch %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal([]byte(files), &b.FirmwareFiles); err != nil {
		return b, fmt.Errorf("batch %s: firmware_files: %w", id, err)
	}
	if len(b.FirmwareFiles) == 0 {
		b.FirmwareFiles = nil
	}
	b.Range = serialno.Range{First: uint64(first), Last: uint64(last)}
	b.Quantity = int(qty)
	b.Created = parseStamp(created)
	return b, nil
}

// Batch returns a recorded batch; ErrNotFound if there is none.
func (s *Store) Batch(ctx context.Context, id string) (Batch, error) {
	var b batchRow
	err := s.read(ctx, "read batch "+id, func(t *sql.Tx) error {
		var err error
		b, err = loadBatch(func(q string, a ...any) *sql.Row { return t.QueryRowContext(ctx, q, a...) }, id)
		return err
	})
	return b.Batch, err
}
