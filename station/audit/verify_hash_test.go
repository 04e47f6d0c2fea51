package audit

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fleetline/serialno"
)

// TestVerifyReportsFirstBadRecord: with the hashes checked by a pool in
// small batches, the problem reported is still the first one in the chain,
// whatever comes after it, with the records and head before it.
func TestVerifyReportsFirstBadRecord(t *testing.T) {
	oldBatch, oldBlock := hashBatchRecords, recordBlock
	hashBatchRecords, recordBlock = 3, 5 // many batches and blocks in flight and queued
	t.Cleanup(func() { hashBatchRecords, recordBlock = oldBatch, oldBlock })

	s, path := openTest(t)
	ctx := context.Background()
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 100})
	for i := range 12 {
		runUnit(t, s, "B1", i, i%3 != 1)
	}
	clean, err := s.Verify(ctx)
	if err != nil || !clean.OK || clean.Records < 60 {
		t.Fatalf("clean log: %+v, %v", clean, err)
	}
	hashOf := map[int64]string{}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, hash FROM records`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var seq int64
		var h []byte
		if err := rows.Scan(&seq, &h); err != nil {
			t.Fatal(err)
		}
		hashOf[seq] = hex.EncodeToString(h)
	}
	rows.Close()
	s.Close()
	last := clean.Records
	editHash := func(seq int64) string {
		return fmt.Sprintf(`UPDATE records SET hash = zeroblob(32) WHERE seq = %d`, seq)
	}
	editRow := func(seq int64) string {
		return fmt.Sprintf(`UPDATE steps SET message = 'x' || message WHERE id = (SELECT row_id FROM records WHERE seq = %d AND tbl = 'steps')`, seq)
	}
	stepSeq := func(after int64) int64 {
		t.Helper()
		st, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var seq int64
		if err := st.r.QueryRowContext(ctx, `SELECT MIN(seq) FROM records WHERE tbl = 'steps' AND seq > ?`, after).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		return seq
	}
	early, mid := stepSeq(10), stepSeq(last/2)
	tests := []struct {
		name  string
		stmts []string
		seq   int64 // the record reported
		good  int64 // the records before it that are good
		word  string
	}{
		{"one edited row", []string{editRow(mid)}, mid, mid - 1, "hash"},
		{"an edited hash in the last batch", []string{editHash(last)}, last, last - 1, "edited"},
		{"two edited rows", []string{editRow(mid), editRow(early)}, early, early - 1, "hash"},
		{"edited row before a deleted record", []string{editRow(early), `DELETE FROM records WHERE seq = ` + fmt.Sprint(mid)}, early, early - 1, "hash"},
		{"deleted block of records", []string{`DELETE FROM records WHERE seq > 10 AND seq <= 15`}, 16, 10, "missing"},
		{"deleted last records", []string{fmt.Sprintf(`DELETE FROM records WHERE seq > %d`, last-7)}, 0, last - 7, "no record"},
		{"deleted record before an edited row", []string{`DELETE FROM records WHERE seq = ` + fmt.Sprint(early), editRow(mid)}, early + 1, early - 1, "missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := copyLog(t, path)
			tamper(t, p, tc.stmts...)
			s2, err := Open(p, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			rep, err := s2.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.Bad == nil || rep.Bad.Seq != tc.seq || rep.Records != tc.good || rep.Head != hashOf[tc.good] {
				t.Fatalf("%+v (bad %v), want record %d reported after %d good ones (head %s)", rep, rep.Bad, tc.seq, tc.good, hashOf[tc.good])
			}
			if !strings.Contains(rep.Bad.Problem, tc.word) {
				t.Errorf("problem %q, want it to mention %q", rep.Bad.Problem, tc.word)
			}
		})
	}
}

// copyLog copies a closed log (and its WAL, if any) for one tampering.
func copyLog(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "audit.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
