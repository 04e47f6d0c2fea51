package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

func TestExport(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	buildLine(t, s)
	// A message a spreadsheet would run as a formula, with a comma and quotes.
	id, _ := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(6), Slot: "2"})
	s.FinishAttempt(ctx, id, Outcome{Result: OutcomeFail, ReasonCode: "selftest", Message: `=HYPERLINK("x"), "quoted"`})

	var c bytes.Buffer
	if err := s.Export(ctx, &c, "B1", FormatCSV); err != nil {
		t.Fatal(err)
	}
	golden(t, "export.csv", c.Bytes())
	recs, err := csv.NewReader(iotest.OneByteReader(bytes.NewReader(c.Bytes()))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 9 || strings.Join(recs[0], ",") != strings.Join(exportColumns, ",") {
		t.Errorf("CSV: %d records, header %v", len(recs), recs[0])
	}
	if got := recs[8][18]; got != `'=HYPERLINK("x"), "quoted"` {
		t.Errorf("formula cell = %q", got)
	}

	var j bytes.Buffer
	if err := s.Export(ctx, &j, "B1", FormatJSON); err != nil {
		t.Fatal(err)
	}
	golden(t, "export.jsonl", j.Bytes())
	lines := strings.Split(strings.TrimSuffix(j.String(), "\n"), "\n")
	if len(lines) != 8 {
		t.Fatalf("JSON lines: %d", len(lines))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || len(m) != len(exportColumns) {
			t.Fatalf("line %q: %v", l, err)
		}
		if _, ok := m["attempt_id"].(float64); !ok {
			t.Fatalf("attempt_id not a number in %q", l)
		}
	}
	if err := s.Export(ctx, &j, "B1", "xml"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad format = %v", err)
	}
	if err := s.Export(ctx, &j, "B9", FormatCSV); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown batch = %v", err)
	}
}
