package audit

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fleetline/serialno"
)

func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("this is not sqlite\n", 300)), 0o644)
	foreign := filepath.Join(dir, "crm.db")
	db, _ := sql.Open("sqlite", foreign)
	if _, err := db.Exec(`CREATE TABLE customers (id INTEGER); CREATE TABLE orders (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	tests := []struct {
		path string
		opts Options
		want error
	}{
		{junk, Options{}, ErrNotDatabase},
		{junk, Options{ReadOnly: true}, ErrNotDatabase},
		{foreign, Options{}, ErrForeign},
		{filepath.Join(dir, "missing.db"), Options{ReadOnly: true}, ErrNotFound},
		{dir, Options{}, ErrInvalid},
	}
	for _, tc := range tests {
		before, _ := os.ReadFile(tc.path)
		s, err := Open(tc.path, tc.opts)
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Open(%s) = %v, want %v naming the path", tc.path, err, tc.want)
		}
		if after, _ := os.ReadFile(tc.path); !bytesEqual(before, after) {
			t.Errorf("Open(%s) changed the file", tc.path)
		}
	}
	if _, err := Open(filepath.Join(dir, "no", "such", "dir.db"), Options{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory = %v", err)
	}
	if err := Check(junk); !errors.Is(err, ErrNotDatabase) {
		t.Errorf("Check(junk) = %v", err)
	}
	if err := Check(filepath.Join(dir, "fresh.db")); err != nil {
		t.Errorf("Check(fresh) = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "crm.db-wal")); err == nil {
		t.Log("note: foreign db left a -wal file") // harmless, but say so
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func TestOpenRefusesNewerSchema(t *testing.T) {
	s, path := openTest(t)
	s.Close()
	db, _ := sql.Open("sqlite", path)
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', '')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{ReadOnly: ro})
		if !errors.Is(err, ErrTooNew) || !strings.Contains(err.Error(), "99") {
			t.Errorf("Open(ReadOnly=%v) = %v, want ErrTooNew naming version 99", ro, err)
		}
	}
}

func TestMigrateFromV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	ctx := context.Background()
	old, err := openPools(path, Options{Station: "st1", Clock: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.migrateTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// What a version-1 station wrote: a batch and an open attempt.
	mustBatch(t, old, "B1", serialno.Range{First: 1, Last: 10})
	if _, err := old.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(1)}); err != nil {
		t.Fatal(err)
	}
	if v, _ := version(ctx, old.r); v != 1 {
		t.Fatalf("version %d, want 1", v)
	}
	old.Close()
	if _, err := Open(path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "needs migrating") {
		t.Errorf("read-only open of v1 = %v, want a 'needs migrating' error", err)
	}

	s, err := Open(path, Options{Station: "st1", Clock: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := version(ctx, s.r); v != SchemaVersion() {
		t.Errorf("after Open version %d, want %d", v, SchemaVersion())
	}
	r, err := s.Reserve(ctx, "B1", mac(1))
	if err != nil || r.SN != "SL000000001" {
		t.Fatalf("Reserve after migration = %+v, %v", r, err)
	}
	if ids, err := s.InterruptOpenAttempts(ctx, "st1"); err != nil || len(ids) != 1 {
		t.Errorf("v1 open attempt: %v, %v", ids, err)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK {
		t.Errorf("Verify after migration = %+v, %v", rep, err)
	}
}

// Rows written before migration 3 added device_cert_serial keep verifying,
// next to rows written after it; an edit of the new column is caught.
func TestMigrationKeepsChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	ctx := context.Background()
	old, err := openPools(path, Options{Station: "st1", Clock: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.migrateTo(ctx, 2); err != nil {
		t.Fatal(err)
	}
	mustBatch(t, old, "B1", serialno.Range{First: 1, Last: 10})
	id, err := old.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(1)})
	if err != nil {
		t.Fatal(err)
	}
	// What a version-2 station wrote for provisioning: the v1 columns only.
	err = old.write(ctx, "v2 provisioning", func(t *tx) error {
		vals := []any{id, "thing", "cert", "c0ffee", "beef", "7a01", stamp(t.now)}
		res, err := t.ExecContext(t.ctx, `INSERT INTO provisioning (`+strings.Join(tableColumns["provisioning"], ", ")+`) VALUES (?, ?, ?, ?, ?, ?, ?)`, vals...)
		if err != nil {
			return err
		}
		row, _ := res.LastInsertId()
		return t.chain("provisioning", row, vals)
	})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := Open(path, Options{Station: "st1", Clock: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.FinishAttempt(ctx, id, Outcome{Result: OutcomePass}); err != nil {
		t.Fatal(err)
	}
	runUnit(t, s, "B1", 2, true) // writes a device_cert_serial
	if rep, err := s.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("after migrating to %d: %+v (%v), %v", SchemaVersion(), rep, rep.Bad, err)
	}
	s.Close()
	tamper(t, path, `UPDATE provisioning SET device_cert_serial = 'ff' WHERE device_cert_serial = ''`)
	ro, _ := Open(path, Options{ReadOnly: true})
	defer ro.Close()
	if rep, err := ro.Verify(ctx); err != nil || rep.OK || rep.Bad.Table != "provisioning" {
		t.Errorf("edited serial of an old row: %+v, %v", rep, err)
	}
}

// openNearlyFull opens a log with batch B1 that may grow by only free
// pages more: a disk about to fill.
func openNearlyFull(t *testing.T, free int) *Store {
	t.Helper()
	s, path := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 1_000_000})
	var pages int
	scanRow(t, s.r.QueryRow(`PRAGMA page_count`), &pages)
	s.Close()
	s, err := Open(path, Options{Station: "st1", Clock: newClock().Now, maxPages: pages + free})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A full disk fails the unit of work whole and says what to do.
func TestStoreFull(t *testing.T) {
	ctx := context.Background()
	s := openNearlyFull(t, 8)
	path := s.Path()
	big := strings.Repeat("x", 3000)
	var full error
	for i := 0; i < 1000 && full == nil; i++ {
		var before int64
		scanRow(t, s.r.QueryRow(`SELECT count(*) FROM records`), &before)
		id, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(i), Operator: big})
		if err == nil {
			_, err = s.Reserve(ctx, "B1", mac(i))
		}
		if err == nil {
			err = s.FinishAttempt(ctx, id, Outcome{Result: OutcomeFail, Message: big})
		}
		if err != nil {
			full = err
			var after int64
			scanRow(t, s.r.QueryRow(`SELECT count(*) FROM records`), &after)
			if after < before {
				t.Fatalf("records went from %d to %d", before, after)
			}
		}
	}
	if !errors.Is(full, ErrStoreFull) || !strings.Contains(full.Error(), path) || !strings.Contains(full.Error(), "free space") {
		t.Fatalf("writing into a full database = %v, want ErrStoreFull naming %s", full, path)
	}
	t.Log(full)
	if rep, err := s.Verify(ctx); err != nil || !rep.OK {
		t.Errorf("after a full disk: %+v, %v", rep, err)
	}
}

func TestReadOnlyRefusedAtOpen(t *testing.T) {
	s, path := openTest(t)
	s.Close()
	_, err := Open(path, Options{forceRO: true})
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), path) {
		t.Errorf("read-only file = %v, want ErrReadOnly naming the path", err)
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.CreateBatch(context.Background(), testBatch("B1", serialno.Range{First: 1, Last: 2})); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write through a read-only Store = %v", err)
	}
}

// With real permissions (skipped as root, who may write anyway).
func TestReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions")
	}
	s, path := openTest(t)
	s.Close()
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	dir := filepath.Dir(path)
	os.Chmod(path, 0o444)
	os.Chmod(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("read-only directory = %v, want an error naming the path", err)
	}
	if _, err := Open(filepath.Join(dir, "new.db"), Options{}); err == nil {
		t.Error("creating a log in a read-only directory succeeded")
	}
}

// A log whose pages were damaged (a bad disk, a copy cut short) is reported
// as damaged, naming the file, rather than as some SQL error.
func TestCorruptedLog(t *testing.T) {
	s, path := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 100})
	for i := range 40 {
		runUnit(t, s, "B1", i, true)
	}
	s.Close()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 8*4096 {
		t.Fatalf("log is %d bytes, %v", len(b), err)
	}
	for i := 2 * 4096; i < len(b); i++ { // keep page 1 (header and schema root)
		b[i] = byte(i*7 + 3)
	}
	os.WriteFile(path, b, 0o644)
	s2, err := Open(path, Options{ReadOnly: true})
	if err == nil {
		defer s2.Close()
		_, err = s2.Verify(context.Background())
	}
	if !(errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotDatabase)) || !strings.Contains(err.Error(), path) {
		t.Fatalf("damaged log: %v, want ErrCorrupt naming %s", err, path)
	}
	t.Log(err)
}
