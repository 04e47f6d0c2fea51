package station

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fleetline/batch"
	"fleetline/serialno"
	"fleetline/station/audit"
)

// newAdapterStore opens a fresh audit log with batch B1 recorded.
func newAdapterStore(t *testing.T, opts audit.Options) AuditStore {
	t.Helper()
	if opts.Station == "" {
		opts.Station = "st1"
	}
	st, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"), opts)
	must(t, err)
	t.Cleanup(func() { st.Close() })
	must(t, st.CreateBatch(context.Background(), audit.Batch{ID: "B1", Product: "p", SNTemplate: "FL{seq:06}",
		TemplateName: "tmpl", Range: serialno.Range{First: 1, Last: 1000}, Quantity: 100}))
	return AuditStore{S: st}
}

// startRecord opens an attempt through the adapter the way the engine
// does.
func startRecord(t *testing.T, a AuditStore, mac string) (string, int64) {
	t.Helper()
	sn, id, err := a.ReserveAndStart(context.Background(), AttemptInfo{Batch: "B1", MAC: mac, Slot: "A", Chip: "esp32"})
	must(t, err)
	return sn, id
}

// TestAuditStoreDuplicateKey: the write that records a pass refuses a
// device key or certificate serial another unit has (hex in either case),
// naming that unit, and keeps nothing; a board's own key is its own.
func TestAuditStoreDuplicateKey(t *testing.T) {
	a := newAdapterStore(t, audit.Options{})
	ctx := context.Background()
	const macA = "24:0a:c4:00:00:01"
	pass := Outcome{Passed: true}
	sn, id := startRecord(t, a, macA)
	must(t, a.FinishAndConfirm(ctx, id, nil, &Provisioning{ThingName: "t1", PublicKeySHA256: "aa11", CertSerial: "5F01"}, pass, "B1", sn))
	tests := []struct {
		name, mac, pub, serial string
		want                   bool
	}{
		{"same public key", "24:0a:c4:00:00:02", "aa11", "9999", true},
		{"same public key, other case", "24:0a:c4:00:00:03", "AA11", "", true},
		{"same certificate serial", "24:0a:c4:00:00:04", "bb22", "5f01", true},
		{"same serial, upper-case hex", "24:0a:c4:00:00:05", "bb23", "5F01", true},
		{"nothing shared", "24:0a:c4:00:00:06", "bb24", "9998", false},
		{"the board itself", macA, "aa11", "5f01", false},
		{"the board itself, other MAC spelling", "240AC4000001", "aa11", "5f01", false},
		{"no serial", "24:0a:c4:00:00:07", "cc33", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sn, id := startRecord(t, a, tt.mac)
			err := a.FinishAndConfirm(ctx, id, nil, &Provisioning{ThingName: "t", PublicKeySHA256: tt.pub, CertSerial: tt.serial}, pass, "B1", sn)
			var dup *DuplicateKeyError
			switch {
			case tt.want && !errors.As(err, &dup):
				t.Fatalf("FinishAndConfirm = %v, want a DuplicateKeyError", err)
			case tt.want && dup.Owner != "FL000001 ("+macA+")":
				t.Errorf("owner %q, want the first board's SN and MAC", dup.Owner)
			case !tt.want && err != nil:
				t.Fatalf("FinishAndConfirm = %v, want a pass", err)
			}
		})
	}
}

// TestAuditStoreCountsRate: the counters a (resumed) engine starts from
// carry the rate the log measured, at the log's times, not the run's.
func TestAuditStoreCountsRate(t *testing.T) {
	clk := &manualClock{now: time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)}
	a := newAdapterStore(t, audit.Options{Clock: clk.Now})
	ctx := context.Background()
	for i := range 21 { // one board every 3 minutes: 20 per hour
		_, id := startRecord(t, a, fmt.Sprintf("24:0a:c4:00:01:%02x", i))
		must(t, a.FinishAttempt(ctx, id, nil, &Provisioning{ThingName: fmt.Sprint("t", i)}, Outcome{Passed: true}))
		clk.advance(3 * time.Minute)
	}
	c, err := a.Counts(ctx, "B1")
	must(t, err)
	if c.Passed != 21 || math.Abs(c.UnitsPerHour-20) > 1e-9 {
		t.Fatalf("counts %+v, want 21 passed at 20/h", c)
	}
	if p := batch.Compute(100, c); math.Abs(p.UnitsPerHour-20) > 1e-9 {
		t.Errorf("progress %+v, want the log's rate", p)
	}
}

type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
