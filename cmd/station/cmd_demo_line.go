package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"fleetline/firmware"
	"fleetline/sim/board"
	"fleetline/sim/cloud"
	"fleetline/sim/factoryapp"
	"fleetline/sim/line"
)

// demoTemplate is the provisioning template the demo cloud serves.
const demoTemplate = "FleetlineDemo"

// demoSpec says what virtual line to build.
type demoSpec struct {
	dir       string
	boards    int
	units     int // boards the batch builds in all (the manifest's quantity)
	faults    bool
	timing    board.Timing
	seed      uint64
	claimLife time.Duration
}

// demoLine is a whole virtual line on loopback: a fleet-provisioning
// cloud with a template and a claim registered with it, a bundle from the
// image builder, a batch manifest in dir, N virtual boards served over
// RFC 2217 and their endpoints file.
type demoLine struct {
	dir       string
	manifest  string
	endpoints string
	db        string
	faults    map[int]string // slot index → what goes wrong there, for the intro
	boards    []*board.Board // in endpoint order
	urls      []string       // the boards' endpoint URLs
	closers   []func()
}

// Close stops the boards and the cloud.
func (d *demoLine) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

// demoFault is what --faults does to the board in one slot: the failures
// the first-boot checks exist for.
type demoFault struct {
	what  string
	app   factoryapp.Faults
	board *board.Faults
}

// demoFaultPlan repeats every 12 slots; slots 0, 2 and 11 stay clean.
// Two boards share a constant RNG seed, so the second one's key duplicates
// the first's.
func demoFaultPlan(i int) (demoFault, bool) {
	switch i % 12 {
	case 1:
		return demoFault{what: "claim expired (the cloud refuses the claim)", app: factoryapp.Faults{Cloud: cloud.ClientClaimExpired}}, true
	case 3:
		return demoFault{what: "self test out of limits (wifi_rssi)", app: factoryapp.Faults{FailTest: "wifi_rssi"}}, true
	case 4:
		return demoFault{what: "bad RNG: constant key (the first such board passes)", app: factoryapp.Faults{BadRNG: true}}, true
	case 5:
		return demoFault{what: "bad RNG: duplicate device key", app: factoryapp.Faults{BadRNG: true}}, true
	case 6:
		return demoFault{what: "firmware prints its private key on the console", app: factoryapp.Faults{LeakKey: true}}, true
	case 7:
		return demoFault{what: "unplugged mid-flash", board: &board.Faults{UnplugAfterBytes: 160 << 10}}, true
	case 8:
		return demoFault{what: "provisioning template missing", app: factoryapp.Faults{Cloud: cloud.ClientTemplateMissing}}, true
	case 9:
		return demoFault{what: "wrong clock (ignores the station's time sync)", app: factoryapp.Faults{ClockUnsynced: true}}, true
	case 10:
		return demoFault{what: "claim not registered with the template", app: factoryapp.Faults{Cloud: cloud.ClientClaimNotRegistered}}, true
	}
	return demoFault{}, false
}

// startDemoLine builds the line and writes its files into s.dir.
func startDemoLine(ctx context.Context, s demoSpec) (_ *demoLine, err error) {
	d := &demoLine{dir: s.dir, manifest: filepath.Join(s.dir, "batch.toml"), endpoints: filepath.Join(s.dir, "endpoints.json"),
		db: filepath.Join(s.dir, "audit.db"), faults: map[int]string{}}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	c, err := cloud.New(cloud.Config{})
	if err != nil {
		return nil, fmt.Errorf("demo: cloud: %w", err)
	}
	if err := c.CreateTemplate(cloud.Template{Name: demoTemplate, Active: true, Parameters: []string{"SerialNumber"}, ThingNamePattern: "demo-{SerialNumber}"}); err != nil {
		return nil, fmt.Errorf("demo: cloud template: %w", err)
	}
	claim, key, err := c.CreateClaim(demoTemplate, s.claimLife)
	if err != nil {
		return nil, fmt.Errorf("demo: claim certificate: %w", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	endpoint, err := c.Start(cctx, "127.0.0.1:0")
	if err != nil {
		cancel()
		return nil, fmt.Errorf("demo: start the cloud: %w", err)
	}
	d.closers = append(d.closers, func() { cancel(); _ = c.Close() })

	if err := writeDemoFiles(s.dir, claim, key, c.RootCAPEM(), endpoint, max(s.units, s.boards)); err != nil {
		return nil, err
	}

	var rules []board.FaultRule
	appFaults := map[int]factoryapp.Faults{}
	if s.faults {
		for i := 0; i < s.boards; i++ {
			f, ok := demoFaultPlan(i)
			if !ok {
				continue
			}
			d.faults[i] = f.what
			appFaults[i] = f.app
			if f.board != nil {
				rules = append(rules, board.FaultRule{First: i, Last: i, Faults: *f.board})
			}
		}
	}
	ca := c.RootCAPEM()
	l, err := line.Start(ctx, line.Config{Boards: s.boards, Timing: s.timing, Faults: rules, Seed: s.seed,
		App: func(i int) board.App {
			cfg := factoryapp.Config{Seed: s.seed*1000 + uint64(i) + 1, RootCAPEM: ca, Cloud: c}
			clean := factoryapp.New(cfg)
			if _, faulty := appFaults[i]; !faulty {
				return clean
			}
			cfg.Faults = appFaults[i]
			return &firstBoardApp{faulty: factoryapp.New(cfg), clean: clean}
		}})
	if err != nil {
		return nil, fmt.Errorf("demo: virtual boards: %w", err)
	}
	d.closers = append(d.closers, func() { _ = l.Close() })
	d.boards = l.Boards()
	for _, ep := range l.Endpoints() {
		d.urls = append(d.urls, ep.URL)
	}
	if err := line.WriteEndpoints(d.endpoints, l.Endpoints()); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return d, nil
}

// writeDemoFiles writes the claim, the CA, the demo bundle and the batch
// manifest.
func writeDemoFiles(dir string, claim, key, ca []byte, endpoint string, quantity int) error {
	if err := firmware.WriteExampleBundle(dir, firmware.AppSpec{Chip: firmware.ChipESP32, Version: "1.4.0-demo", ProjectName: "sensor-node", Size: 1 << 20}); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"claim.crt", claim, 0o644},
		{"claim.key", key, 0o600},
		{"ca.pem", ca, 0o644},
		{"batch.toml", []byte(fmt.Sprintf(demoManifest, time.Now().UTC().Format("20060102-1504"), quantity, demoTemplate, endpoint)), 0o644},
	}
	var errs []error
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("demo: write the line's files: %w", err)
	}
	return nil
}

// demoManifest is the demo's work order: batch id (from the time),
// quantity (the units to build), template and cloud endpoint.
const demoManifest = `# A demo work order on the virtual line (station demo).
batch = "DEMO-%s"
product = "sensor-node"
bundle = "bundle.toml"
chip = "esp32"
quantity = %d
operator = "demo"
station = "demo-station"

[serial]
template = "SN{seq:06}"
start = 1
end = 999999

[claim]
cert = "claim.crt"
key = "claim.key"
template = %q
endpoint = %q

[device]
ca_bundle = "ca.pem"
thing_pattern = "demo-{SN}"

[timeouts]
connect = "20s"
first_boot = "30s"
provision = "40s"

[retry]
max_attempts = 2
backoff = "200ms"

[quarantine]
after = 3
`
