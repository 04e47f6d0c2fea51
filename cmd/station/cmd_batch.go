package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"fleetline/batch"
	"fleetline/flasher"
	"fleetline/serialno"
	"fleetline/station"
	"fleetline/station/audit"
)

func init() {
	register(&command{name: "batch", summary: "run a batch headless: JSON lines or readable lines, exit 0/1/2/3", run: runBatch})
}

// lineOptions are the flags batch and retest share.
type lineOptions struct {
	manifest string
	slots    string
	db       string
	json     bool
	verbose  bool
	operator string
}

func (o *lineOptions) register(fs *flag.FlagSet) {
	o.registerLine(fs)
	fs.BoolVar(&o.json, "json", false, "print one JSON object per line")
	fs.BoolVar(&o.verbose, "v", false, "also print steps, progress and console lines")
	fs.StringVar(&o.operator, "operator", "", "operator id recorded with every attempt (default: the manifest's)")
}

// registerLine adds the flags that say which line to open: manifest,
// slots and audit log; the screen shares them with the headless commands.
func (o *lineOptions) registerLine(fs *flag.FlagSet) {
	fs.StringVar(&o.manifest, "manifest", "", "batch manifest (TOML) `file`")
	fs.StringVar(&o.slots, "slots", "", "ports: a comma list (rfc2217://host:port, socket://…, /dev/ttyUSB0, NAME=ADDR), endpoints:FILE, or usb[:VID:PID]")
	fs.StringVar(&o.db, "db", "", "audit log `path` (default: fleetline.db beside the manifest)")
}

// openedLine is an opened batch: manifest, audit log, engine configuration.
type openedLine struct {
	m     *batch.Manifest
	store *audit.Store
	setup *station.Setup
	slots []station.Slot
	// tap, when set, sees the engine before it starts (the demo's
	// operator subscribes to it).
	tap func(*station.Engine)
}

// engine builds the run's engine over the line's ports and audit log, with
// the manifest's reset sequence, and shows it to tap.
func (l *openedLine) engine(cfg station.Config) (*station.Engine, error) {
	rs, err := resets(l.m.Reset)
	if err != nil {
		return nil, &exitError{code: station.ExitConfig, err: err}
	}
	eng, err := station.New(cfg, station.Deps{Connector: &station.FlasherConnector{Reset: rs}, Store: station.AuditStore{S: l.store}})
	if err != nil {
		return nil, &exitError{code: station.ExitConfig, err: err}
	}
	if l.tap != nil {
		l.tap(eng)
	}
	return eng, nil
}

func (l *openedLine) Close() {
	if l.store != nil {
		l.store.Close()
	}
}

// loadManifest loads the manifest and applies the flags and defaults
// every line command shares: the operator override, the host name as the
// station id and the audit log beside the manifest.
func (o *lineOptions) loadManifest() (*batch.Manifest, error) {
	if o.manifest == "" {
		return nil, usagef("--manifest is required")
	}
	m, err := batch.Load(o.manifest)
	if err != nil {
		return nil, &exitError{code: station.ExitConfig, err: err}
	}
	if o.operator != "" {
		m.Operator = o.operator
	}
	if m.Station == "" {
		m.Station, _ = os.Hostname()
	}
	if o.db == "" {
		o.db = filepath.Join(m.Dir, "fleetline.db")
	}
	return m, nil
}

// openLine loads the manifest, opens the audit log, records the batch,
// closes attempts a crash left open and runs pre-flight. Every failure is
// a configuration error (exit 2).
func openLine(ctx context.Context, o *lineOptions, mode station.Mode, stderr io.Writer) (*openedLine, error) {
	m, err := o.loadManifest()
	if err != nil {
		return nil, err
	}
	slots, err := station.ParseSlots(o.slots)
	if err != nil {
		return nil, &exitError{code: station.ExitConfig, err: err}
	}
	// Pre-flight before the log is opened for writing: a log that cannot be
	// written is one of the findings.
	findings := preflight(ctx, m, o.db, mode)
	for _, f := range findings {
		fmt.Fprintln(stderr, "pre-flight:", f)
	}
	if !findings.OK() {
		return nil, &exitError{code: station.ExitConfig, err: fmt.Errorf("pre-flight found %d error(s); no board was touched", len(findings.Errors()))}
	}
	return openCheckedLine(ctx, o, m, slots, mode, stderr)
}

// openCheckedLine opens a line whose pre-flight has passed: engine setup,
// audit log, the batch record and the attempts a crash left open.
func openCheckedLine(ctx context.Context, o *lineOptions, m *batch.Manifest, slots []station.Slot, mode station.Mode, stderr io.Writer) (*openedLine, error) {
	l := &openedLine{m: m, slots: slots}
	cfgErr := func(err error) (*openedLine, error) {
		l.Close()
		return nil, &exitError{code: station.ExitConfig, err: err}
	}
	var err error
	if l.setup, err = station.FromManifest(m, mode); err != nil {
		return cfgErr(err)
	}
	if l.store, err = audit.Open(o.db, audit.Options{Station: m.Station}); err != nil {
		return cfgErr(err)
	}
	if mode == station.ModeBuild {
		b, err := auditBatch(m, l.setup)
		if err != nil {
			return cfgErr(err)
		}
		if err := l.store.CreateBatch(ctx, b); err != nil {
			return cfgErr(err)
		}
	}
	if ids, err := l.store.InterruptOpenAttempts(ctx, m.Station); err != nil {
		return cfgErr(err)
	} else if len(ids) > 0 {
		fmt.Fprintf(stderr, "resume: %d attempt(s) left open by an earlier run recorded as interrupted\n", len(ids))
	}
	return l, nil
}

// onlyRelevantToRetest drops the findings that concern building units.
func onlyRelevantToRetest(fs batch.Findings) batch.Findings {
	var out batch.Findings
	for _, f := range fs {
		switch f.Code {
		case batch.CodeClaimExpired, batch.CodeClaimExpiring, batch.CodeClaimNotYetValid, batch.CodeSNRangeTooSmall, batch.CodeQuantityDone:
			continue
		}
		out = append(out, f)
	}
	return out
}

// auditBatch is the manifest as the audit log records it. The manifest's
// hash tells a resumed run from a clash, so a manifest that cannot be read
// again is an error rather than the hash of nothing.
func auditBatch(m *batch.Manifest, s *station.Setup) (audit.Batch, error) {
	man, err := os.ReadFile(m.Path)
	if err != nil {
		return audit.Batch{}, fmt.Errorf("hash the manifest for the audit log: %w", err)
	}
	ms := sha256.Sum256(man)
	cs := sha256.Sum256(s.Claim.Cert.Raw)
	files := map[string]string{}
	for _, r := range s.Bundle.Regions {
		files[r.Name] = hex.EncodeToString(r.SHA256[:])
	}
	return audit.Batch{ID: m.Batch, Product: m.Product, Lot: m.Serial.Lot, ManifestSHA256: hex.EncodeToString(ms[:]),
		FirmwareSHA256: s.Bundle.HashHex(), FirmwareFiles: files, ClaimCertSHA256: hex.EncodeToString(cs[:]),
		ClaimCertSerial: s.Claim.Cert.SerialNumber.Text(16), TemplateName: m.Claim.Template, SNTemplate: m.Serial.Template,
		Range: serialno.Range{First: m.Serial.Start, Last: m.Serial.End}, Quantity: m.Quantity}, nil
}

// resets maps the manifest's reset strategy to the flasher's.
func resets(s string) ([]flasher.Reset, error) {
	switch strings.ToLower(s) {
	case "", "classic", "default":
		return nil, nil
	case "usb-jtag", "usb":
		return []flasher.Reset{flasher.USBJTAG()}, nil
	case "none", "no-reset":
		return []flasher.Reset{flasher.NoReset()}, nil
	}
	r, err := flasher.ParseSequence(s)
	if err != nil {
		return nil, fmt.Errorf("manifest reset %q: %w", s, err)
	}
	return []flasher.Reset{r}, nil
}

// runLine runs the engine headless with SIGINT handling: the first
// interrupt stops gracefully (boards in flight finish and are recorded),
// a second one aborts the steps in flight, which are recorded as stopped.
func runLine(ctx context.Context, l *openedLine, cfg station.Config, o *lineOptions, stdout io.Writer) error {
	eng, err := l.engine(cfg)
	if err != nil {
		return err
	}
	runCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	go func() {
		select {
		case <-ctx.Done():
		case <-sig:
		case <-runCtx.Done():
			return
		}
		eng.Stop()
		select {
		case <-sig:
			abort()
		case <-runCtx.Done():
		}
	}()
	ch, _ := eng.Subscribe(256)
	if err := eng.Start(runCtx, l.slots); err != nil {
		return &exitError{code: station.ExitConfig, err: err}
	}
	code := station.WriteHeadless(stdout, ch, eng.Wait, station.HeadlessOptions{JSON: o.json, Verbose: o.verbose})
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func runBatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("batch", stderr)
	var o lineOptions
	o.register(fs)
	count := fs.Int("count", 0, "boards to finish in this run (default: until the batch's quantity has passed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("batch takes no arguments (got %q)", fs.Args())
	}
	if *count < 0 {
		return usagef("--count must not be negative")
	}
	l, err := openLine(ctx, &o, station.ModeBuild, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	cfg := l.setup.Config
	cfg.Count = *count
	return runLine(ctx, l, cfg, &o, stdout)
}

// preflight runs the batch's pre-flight checks before the log is opened
// for writing. In build mode an existing log supplies the boards already
// passed and the line's real rate, which the claim-expiry estimate uses;
// a re-test keeps only the findings that matter to it.
func preflight(ctx context.Context, m *batch.Manifest, db string, mode station.Mode) batch.Findings {
	env := batch.Env{Now: time.Now(), DBPath: db, Checks: batch.FirmwareChecks()}
	if mode == station.ModeBuild {
		if existing, err := audit.Open(db, audit.Options{Station: m.Station, ReadOnly: true}); err == nil {
			if p, err := existing.BatchProgress(ctx, m.Batch); err == nil {
				env.Passed = int(p.Confirmed)
			}
			if r, err := existing.BatchRate(ctx, m.Batch, audit.DefaultRateWindow); err == nil {
				env.UnitsPerHour = r
			}
			existing.Close()
		}
	}
	fs := batch.Preflight(m, env)
	if mode != station.ModeBuild {
		fs = onlyRelevantToRetest(fs)
	}
	return fs
}
