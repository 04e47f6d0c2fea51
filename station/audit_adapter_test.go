package station

import (
	"context"
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

// buildRecord runs one attempt through the adapter the way the engine
// does, up to its provisioning record.
func buildRecord(t *testing.T, a AuditStore, mac string, p Provisioning) int64 {
	t.Helper()
	ctx := context.Background()
	_, id, err := a.ReserveAndStart(ctx, AttemptInfo{Batch: "B1", MAC: mac, Slot: "A", Chip: "esp32"})
	must(t, err)
	must(t, a.RecordSteps(ctx, id, []StepEntry{{Step: StepReserve, OK: true, Detail: "SN"}}, &p))
	return id
}

func TestAuditStoreKeyOwner(t *testing.T) {
	a := newAdapterStore(t, audit.Options{})
	ctx := context.Background()
	const macA, macB = "24:0a:c4:00:00:01", "24:0a:c4:00:00:02"
	buildRecord(t, a, macA, Provisioning{ThingName: "t1", PublicKeySHA256: "aa11", CertSerial: "5F01"})
	tests := []struct {
		name, mac, pub, serial string
		want                   bool
	}{
		{"same public key", macB, "aa11", "9999", true},
		{"same public key, other case", macB, "AA11", "", true},
		{"same certificate serial", macB, "bb22", "5f01", true},
		{"same serial, upper-case hex", macB, "bb22", "5F01", true},
		{"nothing shared", macB, "bb22", "9999", false},
		{"the board itself", macA, "aa11", "5f01", false},
		{"the board itself, other MAC spelling", "240AC4000001", "aa11", "5f01", false},
		{"no serial", macB, "cc33", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.KeyOwner(ctx, tt.mac, tt.pub, tt.serial)
			must(t, err)
			if (got != "") != tt.want {
				t.Fatalf("KeyOwner(%s, %s, %s) = %q, want owner %v", tt.mac, tt.pub, tt.serial, got, tt.want)
			}
			if tt.want && got != "FL000001 ("+macA+")" {
				t.Errorf("owner %q, want the first board's SN and MAC", got)
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
		id := buildRecord(t, a, fmt.Sprintf("24:0a:c4:00:01:%02x", i), Provisioning{ThingName: fmt.Sprint("t", i)})
		must(t, a.FinishAttempt(ctx, id, nil, nil, Outcome{Passed: true}))
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
