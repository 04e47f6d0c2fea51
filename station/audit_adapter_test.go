package station

import (
	"context"
	"path/filepath"
	"testing"

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
	if _, err := a.Reserve(ctx, "B1", mac); err != nil {
		t.Fatal(err)
	}
	id, err := a.StartAttempt(ctx, AttemptInfo{Batch: "B1", MAC: mac, Slot: "A", Chip: "esp32"})
	must(t, err)
	must(t, a.RecordProvisioning(ctx, id, p))
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
