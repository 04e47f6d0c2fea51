package audit

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fleetline/serialno"
)

// testClock is a deterministic clock advancing 1 s per reading.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *testClock {
	return &testClock{now: time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// scanRow scans a single-row query the test inspects the log with; a
// failed query fails the test instead of leaving zeros that pass checks.
func scanRow(t testing.TB, row *sql.Row, dest ...any) {
	t.Helper()
	if err := row.Scan(dest...); err != nil {
		t.Fatalf("inspecting the log: %v", err)
	}
}

// openTest opens a fresh log in a temporary directory.
func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := Open(path, Options{Station: "st1", Clock: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func testBatch(id string, r serialno.Range) Batch {
	return Batch{
		ID: id, Product: "sensor-v2", ManifestSHA256: "ab12", FirmwareSHA256: "cd34",
		FirmwareFiles:   map[string]string{"app.bin": "ef56", "bootloader.bin": "0789"},
		ClaimCertSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ClaimCertSerial: "7a:01",
		TemplateName: "SensorTemplate", SNTemplate: "SL{seq:09}", Range: r, Quantity: int(r.Len()),
	}
}

func mustBatch(t testing.TB, s *Store, id string, r serialno.Range) {
	t.Helper()
	if err := s.CreateBatch(context.Background(), testBatch(id, r)); err != nil {
		t.Fatal(err)
	}
}

func mac(i int) string {
	return fmt.Sprintf("24:0a:c4:%02x:%02x:%02x", (i>>16)&0xff, (i>>8)&0xff, i&0xff)
}

// runUnit records a whole passing or failing attempt for a board.
func runUnit(t testing.TB, s *Store, batch string, i int, pass bool) (Reservation, int64) {
	t.Helper()
	ctx := context.Background()
	id, err := s.StartAttempt(ctx, AttemptStart{Batch: batch, MAC: mac(i), Chip: "ESP32-D0WD-V3", Revision: "v3.1", FlashID: "c84016", Slot: fmt.Sprint(i % 4), Operator: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Reserve(ctx, batch, mac(i))
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := 3.2, 3.4
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	if err := s.RecordStep(ctx, id, Step{Name: "selftest", Start: now, End: now.Add(time.Second), Result: "pass",
		Measurements: []Measurement{{Name: "vdd", Value: 3.3, Unit: "V", Low: &lo, High: &hi, Passed: true}}}); err != nil {
		t.Fatal(err)
	}
	o := Outcome{Result: OutcomePass}
	if pass {
		if err := s.RecordProvisioning(ctx, id, Provisioning{ThingName: r.SN, DeviceCertID: fmt.Sprintf("cert%d", i),
			CertSHA256: fmt.Sprintf("c%063d", i), PublicKeySHA256: fmt.Sprintf("%064d", i), ClaimCertSerial: "7a:01",
			DeviceCertSerial: fmt.Sprintf("5e%06x", i)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Confirm(ctx, r.SN); err != nil {
			t.Fatal(err)
		}
	} else {
		o = Outcome{Result: OutcomeFail, ReasonCode: "flash.verify", ReasonKind: "verify", Message: "MD5 mismatch"}
	}
	if err := s.FinishAttempt(ctx, id, o); err != nil {
		t.Fatal(err)
	}
	return r, id
}
