package audit

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
)

// Sentinel errors; match them with errors.Is.
var (
	ErrNotDatabase    = errors.New("not an SQLite database (corrupted, or a different kind of file)")
	ErrForeign        = errors.New("an SQLite database that is not a fleetline audit log")
	ErrTooNew         = errors.New("audit log written by a newer fleetline")
	ErrStoreFull      = errors.New("disk full: nothing of this unit of work was recorded; free space on the disk holding the audit log, then resume the batch")
	ErrReadOnly       = errors.New("audit log is read-only: the station cannot record; fix the permissions of the file and its directory (the -wal and -shm files live beside it)")
	ErrBusy           = errors.New("audit log is locked by another process for too long")
	ErrCorrupt        = errors.New("audit log file is damaged; keep it for analysis and restore from a backup")
	ErrNotFound       = errors.New("not found")
	ErrRangeExhausted = errors.New("SN range exhausted")
	ErrRangeOverlap   = errors.New("SN range overlaps another batch of the same template")
	ErrBatchExists    = errors.New("a different batch with this ID is already recorded")
	ErrVoided         = errors.New("SN was voided")
	ErrOtherProduct   = errors.New("board already has an SN for another product")
	ErrFinished       = errors.New("attempt already finished")
	ErrSecret         = errors.New("refusing to record a private key")
	ErrInvalid        = errors.New("invalid record")
	ErrClosed         = errors.New("audit log was closed")
	ErrDuplicateKey   = errors.New("device key or certificate serial already recorded for another unit")
)

// DuplicateKeyError refuses to confirm a unit whose device certificate has
// the public key or serial of another unit's (a sign of a bad RNG); it
// matches ErrDuplicateKey. Owner names the other unit: "SN (MAC)".
type DuplicateKeyError struct{ Owner string }

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("%v: unit %s", ErrDuplicateKey, e.Owner)
}

// Unwrap lets errors.Is match ErrDuplicateKey.
func (e *DuplicateKeyError) Unwrap() error { return ErrDuplicateKey }

// RangeExhaustedError reports a batch whose sequence range has no number
// left; it matches ErrRangeExhausted.
type RangeExhaustedError struct {
	Batch     string
	Range     string
	Reserved  int64 // still reserved (in progress or failed, not voided)
	Confirmed int64
	Voided    int64
}

func (e *RangeExhaustedError) Error() string {
	return fmt.Sprintf("batch %s: SN range %s exhausted (%d confirmed, %d reserved, %d voided): extend the range with a new batch",
		e.Batch, e.Range, e.Confirmed, e.Reserved, e.Voided)
}

// Is makes errors.Is(err, ErrRangeExhausted) true.
func (e *RangeExhaustedError) Is(target error) bool { return target == ErrRangeExhausted }

// SQLite primary result codes we branch on.
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteCorrupt  = 11
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteNotADB   = 26
)

// sqliteCode returns the primary SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// mapErr names the path and step and turns SQLite codes into our sentinels.
func mapErr(path, step string, err error) error {
	if err == nil {
		return nil
	}
	var sentinel error
	switch sqliteCode(err) {
	case sqliteFull:
		sentinel = ErrStoreFull
	case sqliteReadOnly:
		sentinel = ErrReadOnly
	case sqliteNotADB:
		sentinel = ErrNotDatabase
	case sqliteCorrupt:
		sentinel = ErrCorrupt
	case sqliteBusy, sqliteLocked:
		sentinel = ErrBusy
	case sqliteIOErr:
		if isNoSpace(err) {
			sentinel = ErrStoreFull
		}
	case sqliteCantOpen:
		return fmt.Errorf("audit %s: %s: cannot open the database file (check that the directory exists and is writable): %w", path, step, err)
	}
	if sentinel != nil {
		return fmt.Errorf("audit %s: %s: %w (%v)", path, step, sentinel, err)
	}
	return fmt.Errorf("audit %s: %s: %w", path, step, err)
}

// isBusy reports a lock conflict worth retrying.
func isBusy(err error) bool {
	c := sqliteCode(err)
	return c == sqliteBusy || c == sqliteLocked
}
