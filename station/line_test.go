package station

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetline/batch"
	"fleetline/firmware"
	"fleetline/serialno"
	"fleetline/sim/board"
	"fleetline/sim/cloud"
	"fleetline/sim/factoryapp"
	"fleetline/sim/line"
	"fleetline/station/audit"
)

// vline is a whole virtual line on loopback: a fleet-provisioning cloud
// with a template and a claim, a bundle built by the image builder, a batch
// manifest on disk, N virtual boards served over RFC 2217, and an audit log.
type vline struct {
	dir      string
	cloud    *cloud.Cloud
	line     *line.Line
	manifest string
	db       string
	endpoint string
	slots    []Slot
}

type vlineOpts struct {
	boards    int
	quantity  int
	boardF    []board.FaultRule
	appF      map[int]factoryapp.Faults
	template  string // template name written into the manifest (default the cloud's)
	claimLife time.Duration
	timing    board.Timing
	extra     string // appended to the manifest
	appSize   int    // bytes of the bundle's app (default 64 KiB)
}

const e2eTemplate = "FleetlineE2E"

// fixtureT is what the fixture needs of a test; the benchmark's line
// process provides it without a testing.T.
type fixtureT interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Fatal(args ...any)
}

func newVLine(t fixtureT, o vlineOpts) *vline {
	t.Helper()
	if o.boards == 0 {
		o.boards = 1
	}
	if o.quantity == 0 {
		o.quantity = 100
	}
	if o.template == "" {
		o.template = e2eTemplate
	}
	if o.claimLife == 0 {
		o.claimLife = 24 * time.Hour
	}
	if o.appSize == 0 {
		o.appSize = 64 << 10
	}
	dir := t.TempDir()
	v := &vline{dir: dir, manifest: filepath.Join(dir, "batch.toml"), db: filepath.Join(dir, "audit.db")}
	c, err := cloud.New(cloud.Config{})
	must(t, err)
	v.cloud = c
	must(t, c.CreateTemplate(cloud.Template{Name: e2eTemplate, Active: true, Parameters: []string{"SerialNumber"}, ThingNamePattern: "dev-{SerialNumber}"}))
	claim, key, err := c.CreateClaim(e2eTemplate, o.claimLife)
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	v.endpoint, err = c.Start(ctx, "127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { cancel(); _ = c.Close() })

	write := func(name string, data []byte, mode os.FileMode) {
		must(t, os.WriteFile(filepath.Join(dir, name), data, mode))
	}
	write("claim.crt", claim, 0o644)
	write("claim.key", key, 0o600)
	write("ca.pem", c.RootCAPEM(), 0o644)
	must(t, firmware.WriteExampleBundle(dir, firmware.AppSpec{Chip: firmware.ChipESP32, Version: "1.2.3", Size: o.appSize}))
	write("batch.toml", []byte(fmt.Sprintf(`batch = "E2E-1"
product = "sensor"
bundle = "bundle.toml"
chip = "esp32"
quantity = %d
operator = "op-1"
station = "st-1"
[serial]
template = "FL{seq:06}"
start = 1
end = 999
[claim]
cert = "claim.crt"
key = "claim.key"
template = %q
endpoint = %q
[device]
ca_bundle = "ca.pem"
thing_pattern = "dev-{SN}"
[timeouts]
connect = "20s"
first_boot = "20s"
provision = "30s"
[retry]
max_attempts = 2
backoff = "10ms"
%s`, o.quantity, o.template, v.endpoint, o.extra)), 0o644)

	ca := c.RootCAPEM()
	l, err := line.Start(context.Background(), line.Config{Boards: o.boards, Timing: o.timing, Faults: o.boardF, Seed: 7,
		App: func(i int) board.App {
			return factoryapp.New(factoryapp.Config{Seed: uint64(i + 1), RootCAPEM: ca, Faults: o.appF[i], Cloud: c})
		}})
	must(t, err)
	v.line = l
	t.Cleanup(func() { l.Close() })
	must(t, line.WriteEndpoints(filepath.Join(dir, "endpoints.json"), l.Endpoints()))
	v.slots, err = ParseSlots("endpoints:" + filepath.Join(dir, "endpoints.json"))
	must(t, err)
	return v
}

// engine opens the log, records the batch and returns an engine in mode.
func (v *vline) engine(t testing.TB, mode Mode, tweak func(*Config)) (*Engine, *audit.Store, *Setup) {
	if os.Getenv("FAKESTORE") != "" {
		m, err := batch.Load(v.manifest)
		must(t, err)
		setup, err := FromManifest(m, mode)
		must(t, err)
		cfg := setup.Config
		cfg.PollInterval = 20 * time.Millisecond
		if tweak != nil {
			tweak(&cfg)
		}
		eng, err := New(cfg, Deps{Connector: &FlasherConnector{}, Store: newFakeStore()})
		must(t, err)
		return eng, nil, setup
	}
	t.Helper()
	m, err := batch.Load(v.manifest)
	must(t, err)
	setup, err := FromManifest(m, mode)
	must(t, err)
	st, err := audit.Open(v.db, audit.Options{Station: m.Station})
	must(t, err)
	t.Cleanup(func() { st.Close() })
	if mode == ModeBuild {
		must(t, st.CreateBatch(context.Background(), testAuditBatch(m)))
	}
	cfg := setup.Config
	cfg.PollInterval = 20 * time.Millisecond
	if tweak != nil {
		tweak(&cfg)
	}
	eng, err := New(cfg, Deps{Connector: &FlasherConnector{Attempts: 2}, Store: AuditStore{S: st}})
	must(t, err)
	return eng, st, setup
}

// run runs eng on the line's slots and collects its events.
func (v *vline) run(t testing.TB, eng *Engine) (Summary, []Event) {
	t.Helper()
	ch, _ := eng.Subscribe(64)
	var evs []Event
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range ch {
			evs = append(evs, ev)
			if testing.Verbose() {
				if l := textLine(ev, true); l != "" && ev.Type != EvProgress {
					fmt.Fprintln(os.Stderr, l)
				}
			}
		}
	}()
	must(t, eng.Start(context.Background(), v.slots))
	sum := eng.Wait()
	wg.Wait()
	return sum, evs
}

func unitResults(evs []Event) []UnitResult {
	var out []UnitResult
	for _, ev := range evs {
		if ev.Type == EvUnitResult {
			out = append(out, *ev.Result)
		}
	}
	return out
}

func must(t fixtureT, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestLineCleanBatch(t *testing.T) {
	v := newVLine(t, vlineOpts{boards: 3})
	eng, st, _ := v.engine(t, ModeBuild, func(c *Config) { c.Count = 3 })
	sum, evs := v.run(t, eng)
	res := unitResults(evs)
	if sum.RunPassed != 3 || len(res) != 3 {
		for _, r := range res {
			t.Logf("%+v", r)
		}
		t.Fatalf("summary %+v", sum)
	}
	p, err := st.BatchProgress(context.Background(), "E2E-1")
	must(t, err)
	if p.Confirmed != 3 || p.Passed != 3 {
		t.Errorf("audit progress %+v", p)
	}
	for _, r := range res {
		if r.ThingName != "dev-"+r.SN || r.CertID == "" {
			t.Errorf("result %+v", r)
		}
		if _, ok := v.cloud.Thing(r.ThingName); !ok {
			t.Errorf("cloud has no thing %s", r.ThingName)
		}
	}
	rep, err := st.Verify(context.Background())
	must(t, err)
	if !rep.OK {
		t.Errorf("audit chain: %+v", rep)
	}
}

func testAuditBatch(m *batch.Manifest) audit.Batch {
	return audit.Batch{ID: m.Batch, Product: m.Product, SNTemplate: m.Serial.Template, TemplateName: m.Claim.Template,
		Range: serialRange(m), Quantity: m.Quantity}
}

func serialRange(m *batch.Manifest) serialno.Range {
	return serialno.Range{First: m.Serial.Start, Last: m.Serial.End}
}

// runUntil runs eng until it has published n unit results, then stops it
// gracefully (boards that never answer would keep a slot polling).
func (v *vline) runUntil(t testing.TB, eng *Engine, n int) (Summary, []Event) {
	t.Helper()
	ch, _ := eng.Subscribe(64)
	var evs []Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		results := 0
		for ev := range ch {
			evs = append(evs, ev)
			if ev.Type == EvUnitResult {
				if results++; results == n {
					eng.Stop()
				}
			}
		}
	}()
	must(t, eng.Start(context.Background(), v.slots))
	sum := eng.Wait()
	<-done
	return sum, evs
}

func TestLineFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("virtual line")
	}
	tests := []struct {
		name     string
		opts     vlineOpts
		setup    func(v *vline)
		reason   string
		kind     Kind
		attempts int // recorded attempts
	}{
		{"no sync", vlineOpts{boardF: []board.FaultRule{{All: true, Faults: board.Faults{NoSync: true}}}}, nil, ReasonNoSync, KindTransport, 0},
		{"wrong boot mode", vlineOpts{boardF: []board.FaultRule{{All: true, Faults: board.Faults{BootMode: true}}}}, nil, ReasonWrongBootMode, KindDevice, 0},
		{"flash write", vlineOpts{boardF: []board.FaultRule{{All: true, Faults: board.Faults{FlashFail: []uint32{0x20400}}}}}, nil, ReasonFlashWriteFailed, KindDevice, 2},
		{"pulled out", vlineOpts{boardF: []board.FaultRule{{All: true, Faults: board.Faults{UnplugAfterBytes: 30 << 10}}}}, nil, ReasonBoardRemoved, KindCanceled, 1},
		{"test out of limits", vlineOpts{appF: map[int]factoryapp.Faults{0: {FailTest: "vdd_3v3"}}}, nil, ReasonTestOutOfLimits, KindDevice, 1},
		{"clock", vlineOpts{appF: map[int]factoryapp.Faults{0: {ClockUnsynced: true}}}, nil, ReasonClockInvalid, KindProvisioning, 2},
		{"unreachable", vlineOpts{appF: map[int]factoryapp.Faults{0: {Unreachable: true}}}, nil, ReasonCloudUnreachable, KindProvisioning, 2},
		{"key leaked", vlineOpts{appF: map[int]factoryapp.Faults{0: {LeakKey: true}}}, nil, ReasonPrivateKeyLeaked, KindVerify, 1},
		{"template inactive", vlineOpts{}, func(v *vline) { must(t, v.cloud.SetTemplateActive(e2eTemplate, false)) }, ReasonTemplateMissing, KindProvisioning, 1},
		{"template unknown", vlineOpts{template: "NoSuchTemplate"}, nil, ReasonTemplateMissing, KindProvisioning, 1},
		{"claim not registered", vlineOpts{}, func(v *vline) {
			c, err := os.ReadFile(filepath.Join(v.dir, "claim.crt"))
			must(t, err)
			must(t, v.cloud.RevokeClaim(c))
		}, ReasonClaimNotReg, KindProvisioning, 1},
		{"throttled", vlineOpts{}, func(v *vline) { v.cloud.Throttle(10) }, ReasonThrottled, KindProvisioning, 2},
		{"claim expired", vlineOpts{appF: map[int]factoryapp.Faults{0: {Cloud: cloud.ClientClaimExpired}}}, nil, ReasonClaimExpired, KindProvisioning, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVLine(t, tt.opts)
			if tt.setup != nil {
				tt.setup(v)
			}
			eng, st, _ := v.engine(t, ModeBuild, nil)
			_, evs := v.runUntil(t, eng, max(tt.attempts, 1))
			res := unitResults(evs)
			if len(res) == 0 {
				t.Fatal("no result")
			}
			got := res[len(res)-1]
			if got.Passed || got.Reason != tt.reason || got.Kind != tt.kind || got.Remedy == "" {
				t.Fatalf("result %+v, want %s (%s)", got, tt.reason, tt.kind)
			}
			if tt.attempts > 0 {
				u, err := st.UnitByMAC(context.Background(), got.MAC)
				must(t, err)
				h, err := st.History(context.Background(), u.ID)
				must(t, err)
				if len(h) != tt.attempts {
					t.Errorf("%d attempts recorded, want %d", len(h), tt.attempts)
				}
				for _, a := range h {
					if a.Outcome != audit.OutcomeFail || a.ReasonCode != tt.reason {
						t.Errorf("recorded %s/%s, want fail/%s", a.Outcome, a.ReasonCode, tt.reason)
					}
				}
				if u.State == audit.StateConfirmed {
					t.Error("failed unit confirmed")
				}
			}
			for _, ev := range evs {
				if ev.Type == EvConsole && strings.Contains(ev.Message, "PRIVATE KEY") {
					t.Errorf("console event carries key material")
				}
			}
		})
	}
}

// TestLineDuplicateKey: two boards whose RNG is stuck generate the same
// key. The log's cross-batch key check catches the second; when both are
// checked at once each sees the other and both fail, the safe outcome.
func TestLineDuplicateKey(t *testing.T) {
	v := newVLine(t, vlineOpts{boards: 2, appF: map[int]factoryapp.Faults{0: {BadRNG: true}, 1: {BadRNG: true}}})
	eng, _, _ := v.engine(t, ModeBuild, func(c *Config) { c.Count = 2 })
	sum, evs := v.run(t, eng)
	var reasons []string
	for _, r := range unitResults(evs) {
		reasons = append(reasons, first(r.Reason, "pass"))
	}
	dups := 0
	for _, r := range reasons {
		if r == ReasonDuplicateKey {
			dups++
		}
	}
	if sum.RunPassed > 1 || dups < 1 || sum.RunPassed+dups != 2 {
		t.Errorf("results %v", reasons)
	}
}
