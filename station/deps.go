package station

import (
	"context"
	"errors"
	"time"

	"fleetline/batch"
)

// The station defines the small interfaces it needs of the flasher, the
// board console, the audit log and time. Adapters to the real packages live
// in the *_adapter.go files; tests use in-package fakes.

// Slot is one physical position on the line: a port a board is plugged
// into. Name is what the operator reads on the fixture ("A3", a by-path
// name); Address is what the connector opens (a device path, rfc2217://…).
type Slot struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// DuplicateKeyError is FinishAndConfirm refusing a board whose device key
// or certificate serial another unit already has (a bad RNG on a board).
type DuplicateKeyError struct {
	Owner string // the other unit: "SN (MAC)"
	Err   error  // the store's own error
}

func (e *DuplicateKeyError) Error() string {
	return "device key or certificate serial already recorded for unit " + e.Owner
}

// Unwrap returns the store's error.
func (e *DuplicateKeyError) Unwrap() error { return e.Err }

// ErrNoBoard is returned (wrapped) by Connector.Connect when the slot's
// port cannot be opened at all: nothing is plugged in. The supervisor
// polls quietly on it instead of reporting a failure.
var ErrNoBoard = errors.New("no board on the slot")

// Connector resets the board on a slot into its ROM loader, synchronizes
// and identifies it.
type Connector interface {
	Connect(ctx context.Context, slot Slot, baud int) (Board, error)
}

// ChipInfo is what the ROM loader told about a board.
type ChipInfo struct {
	Chip           string `json:"chip"` // "esp32", "esp32s3", ...
	Revision       int    `json:"revision"`
	MAC            string `json:"mac"` // lower-case, colon-separated
	FlashSize      uint32 `json:"flash_size"`
	SecureDownload bool   `json:"secure_download,omitempty"`
}

// Region is one image to write at a flash offset.
type Region struct {
	Name   string
	Offset uint32
	Data   []byte
	// Shared marks bytes that are the same for every board of the batch
	// (the bundle, not the factory data): a connector may prepare them
	// (compress, digest) once for all boards.
	Shared bool
}

// Progress reports bytes done of a region being written or verified.
type Progress func(region string, done, total int64)

// WriteReport says what a write did.
type WriteReport struct {
	Written []string // regions written
	Skipped []string // regions whose MD5 already matched
	Bytes   int64    // bytes sent
}

// Board is a connected board in its ROM loader.
type Board interface {
	Info() ChipInfo
	// Write writes the regions (compressed, skipping those already
	// correct) and verifies each one's MD5.
	Write(ctx context.Context, regions []Region, progress Progress) (WriteReport, error)
	// ReadFlash reads size bytes at offset.
	ReadFlash(ctx context.Context, offset, size uint32) ([]byte, error)
	// BootApp hard-resets the board into its app and returns its console
	// at the app's baud. The Board must not be used afterwards except to
	// Close it.
	BootApp(ctx context.Context, baud int) (Console, error)
	Close() error
}

// Console is the running app's UART: lines in, lines out.
type Console interface {
	// ReadLine returns the next line without its line ending. It returns
	// ctx.Err() when ctx ends first and a wrapped portio.ErrClosed when the
	// board went away.
	ReadLine(ctx context.Context) (string, error)
	// WriteLine writes one line (the ending is part of line).
	WriteLine(ctx context.Context, line []byte) error
	Close() error
}

// AttemptInfo opens an attempt record.
type AttemptInfo struct {
	Batch    string
	SN       string
	MAC      string
	Slot     string
	Station  string
	Operator string
	Chip     string
	Revision int
	Retest   bool
	Rework   bool
	Number   int // attempt number for this board in this run, from 1
	Started  time.Time
}

// StepEntry is one finished step of an attempt.
type StepEntry struct {
	Step         Step
	Started      time.Time
	Duration     time.Duration
	OK           bool
	Reason       string
	Detail       string
	Measurements []Measurement
}

// Provisioning is what the board reported and the station checked, by
// fingerprint: never a private key.
type Provisioning struct {
	ThingName       string
	CertificateID   string
	CertSHA256      string // SHA-256 of the device certificate DER, hex
	PublicKeySHA256 string // SHA-256 of its SubjectPublicKeyInfo, hex
	CertSerial      string // hex
	NotBefore       time.Time
	NotAfter        time.Time
	ClaimErased     bool
	Firmware        string
	// Rejected carries the cloud's rejected triple, verbatim, when it refused.
	StatusCode   int
	ErrorCode    string
	ErrorMessage string
}

// Outcome closes an attempt record.
type Outcome struct {
	Passed   bool
	Step     Step
	Kind     Kind
	Reason   string
	Message  string
	Finished time.Time
}

// Unit is what the audit log holds about a board the station built.
type Unit struct {
	SN         string
	MAC        string
	Batch      string
	Confirmed  bool
	ThingName  string
	CertSHA256 string
	Firmware   string
}

// ErrUnknownUnit is returned by Store.UnitByMAC for a MAC never built here.
var ErrUnknownUnit = errors.New("unit not in the audit log")

// Store is the audit log as the engine uses it.
type Store interface {
	// ReserveAndStart reserves the SN for the board with a.MAC in a.Batch
	// (the one already reserved for it, or the next free one) and opens
	// the attempt record in one write: either both are recorded or
	// neither, so no SN is handed out without a record.
	ReserveAndStart(ctx context.Context, a AttemptInfo) (sn string, id int64, err error)
	// StartAttempt opens an attempt record for a board whose SN is known
	// (retest, rework). It is written at once: an attempt a crash cut
	// short is found open and closed as interrupted.
	StartAttempt(ctx context.Context, a AttemptInfo) (id int64, err error)
	// FinishAttempt appends the remaining steps, the provisioning result
	// when p is not nil, and the outcome, all in one write: on an error
	// none of it is recorded and the attempt is still open.
	FinishAttempt(ctx context.Context, attempt int64, steps []StepEntry, p *Provisioning, o Outcome) error
	// FinishAndConfirm records a passed attempt's remaining steps,
	// provisioning result (when p is not nil) and outcome and confirms
	// the SN as built, in one write: the SN is confirmed exactly when the
	// pass is recorded. On an error none of it is kept, the SN stays
	// reserved and the attempt open. When another unit's recorded device
	// certificate has p's public key or serial the error is a
	// *DuplicateKeyError: checked in the write that confirms, one writer
	// at a time, so of two boards with one key exactly the first passes.
	FinishAndConfirm(ctx context.Context, attempt int64, steps []StepEntry, p *Provisioning, o Outcome, batch, sn string) error
	// UnitByMAC returns the unit built for a MAC, or ErrUnknownUnit.
	UnitByMAC(ctx context.Context, mac string) (*Unit, error)
	// Counts returns the batch's counters, for progress and resume.
	Counts(ctx context.Context, batch string) (batch.Counts, error)
}

// Clock is the engine's time source: claim-certificate and device
// certificate windows, time sync, backoff and timeouts are all read from it.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends (returning ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep implements Clock.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
