package audit

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"fleetline/serialno"
)

// tamper opens the file behind the Store's back, drops the append-only
// triggers and runs stmts, as someone editing the file would.
func tamper(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'trigger'`)
	if err != nil {
		t.Fatal(err)
	}
	var triggers []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		triggers = append(triggers, n)
	}
	rows.Close()
	for _, tr := range triggers {
		stmts = append([]string{"DROP TRIGGER " + tr}, stmts...)
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name    string
		stmts   []string
		problem string
	}{
		{"edit a row", []string{`UPDATE attempt_ends SET outcome = 'pass' WHERE outcome = 'fail'`}, "edited"},
		{"edit a hash", []string{`UPDATE records SET hash = zeroblob(32) WHERE seq = 5`}, "edited"},
		{"delete a row", []string{`DELETE FROM steps WHERE id = 2`}, "missing"},
		{"delete a record", []string{`DELETE FROM records WHERE seq = 7`}, "missing"},
		{"delete row and record", []string{`DELETE FROM sn_events WHERE id = 1`, `DELETE FROM records WHERE tbl = 'sn_events' AND row_id = 1`}, "missing"},
		{"reorder records", []string{`UPDATE records SET seq = -1 WHERE seq = 8`, `UPDATE records SET seq = 8 WHERE seq = 9`, `UPDATE records SET seq = 9 WHERE seq = -1`}, "prev_hash"},
		{"insert a row", []string{`INSERT INTO sn_events (reservation_id, state, reason, station_id, at) VALUES (1, 'voided', 'x', 1, '2026')`}, "no record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, path := openTest(t)
			ctx := context.Background()
			mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 100})
			for i := range 3 {
				runUnit(t, s, "B1", i, i != 1)
			}
			rep, err := s.Verify(ctx)
			if err != nil || !rep.OK || rep.Records < 20 {
				t.Fatalf("clean log: %+v, %v", rep, err)
			}
			s.Close()
			tamper(t, path, tc.stmts...)
			s2, err := Open(path, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			rep, err = s2.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.Bad == nil || !strings.Contains(rep.Bad.Problem, tc.problem) {
				t.Fatalf("after %s: %+v (bad %v), want a problem mentioning %q", tc.name, rep, rep.Bad, tc.problem)
			}
			t.Logf("%s: %s", tc.name, rep.Bad)
		})
	}
}

func TestAppendOnlyTriggers(t *testing.T) {
	s, _ := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 100})
	runUnit(t, s, "B1", 1, true)
	for _, q := range []string{
		`UPDATE attempts SET slot = 'x'`, `DELETE FROM attempts`, `UPDATE records SET tbl = 'x'`,
		`DELETE FROM sn_reservations`, `UPDATE units SET mac = 'x'`, `DELETE FROM provisioning`, `UPDATE steps SET result = 'x'`,
	} {
		if _, err := s.w.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
}
