package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fleetline/serialno"
	"fleetline/station/audit"
)

// auditFixture records a two-board batch and returns the log's path.
func auditFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fleetline.db")
	s, err := audit.Open(path, audit.Options{Station: "line1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBatch(ctx, audit.Batch{ID: "B1", Product: "sensor", SNTemplate: "SL{seq:06}",
		Range: serialno.Range{First: 1, Last: 99}, Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	for i, pass := range []bool{true, false} {
		mac := []string{"24:0a:c4:00:00:01", "24:0a:c4:00:00:02"}[i]
		id, err := s.StartAttempt(ctx, audit.AttemptStart{Batch: "B1", MAC: mac, Slot: "1", Operator: "ana"})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Reserve(ctx, "B1", mac)
		if err != nil {
			t.Fatal(err)
		}
		o := audit.Outcome{Result: audit.OutcomeFail, ReasonCode: "flash.verify"}
		if pass {
			s.Confirm(ctx, r.SN)
			o = audit.Outcome{Result: audit.OutcomePass}
		}
		if err := s.FinishAttempt(ctx, id, o); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func runAuditCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestAuditCommands(t *testing.T) {
	db := auditFixture(t)
	if code, out, errs := runAuditCmd("audit", "verify", "--db", db); code != 0 || !strings.HasPrefix(out, "ok ") {
		t.Errorf("verify: %d %q %q", code, out, errs)
	}
	if code, out, _ := runAuditCmd("audit", "show", "--db", db, "--sn", "SL000001"); code != 0 || !strings.Contains(out, "24:0a:c4:00:00:01") || !strings.Contains(out, "pass") {
		t.Errorf("show --sn: %d %q", code, out)
	}
	if code, out, _ := runAuditCmd("audit", "show", "--db", db, "--mac", "240AC4000002", "--json"); code != 0 || !strings.Contains(out, `"ReasonCode": "flash.verify"`) {
		t.Errorf("show --mac --json: %d %q", code, out)
	}
	if code, out, _ := runAuditCmd("audit", "report", "--db", db, "--batch", "B1"); code != 0 || !strings.Contains(out, "first pass 1 (50.0%)") {
		t.Errorf("report: %d %q", code, out)
	}
	outFile := filepath.Join(t.TempDir(), "b1.csv")
	if code, _, errs := runAuditCmd("audit", "export", "--db", db, "--batch", "B1", "--out", outFile); code != 0 {
		t.Errorf("export: %d %q", code, errs)
	}
	if b, _ := os.ReadFile(outFile); strings.Count(string(b), "\r\n") != 3 {
		t.Errorf("export file: %q", b)
	}
	if code, out, _ := runAuditCmd("audit", "export", "--db", db, "--batch", "B1", "--format", "json"); code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("export json: %d %q", code, out)
	}
	for _, args := range [][]string{
		{"audit"}, {"audit", "show", "--db", db}, {"audit", "export", "--db", db}, {"audit", "frob"},
		{"audit", "export", "--db", db, "--batch", "B1", "--format", "xml"},
	} {
		if code, _, _ := runAuditCmd(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, _, errs := runAuditCmd("audit", "verify", "--db", filepath.Join(t.TempDir(), "none.db")); code != 1 || !strings.Contains(errs, "none.db") {
		t.Errorf("verify missing file: %d %q", code, errs)
	}

	// Tampering makes verify fail with exit 1 and name the record.
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER attempt_ends_no_update", "UPDATE attempt_ends SET outcome = 'pass'"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	if code, out, _ := runAuditCmd("audit", "verify", "--db", db); code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "attempt_ends") {
		t.Errorf("verify after tampering: %d %q", code, out)
	}
}
