package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"fleetline/sim/board"
	"fleetline/station"
)

func init() {
	register(&command{name: "demo", summary: "a whole virtual line (boards, cloud, claim, bundle, audit log) under the operator screen; no hardware", run: runDemo})
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	boards := fs.Int("boards", 8, "virtual boards on the line (1 to 32)")
	faults := fs.Bool("faults", false, "make some boards fail the ways real ones do (claim expired, template missing, wrong clock, test out of limits, duplicate key, key printed, unplugged mid-flash)")
	headless := fs.Bool("headless", false, "no screen: run the batch to completion printing JSON lines; exit codes as station batch")
	dir := fs.String("dir", "", "data `directory` for the manifest, bundle, claim and audit log (default: a new one under "+os.TempDir()+")")
	timingName := fs.String("timing", "realistic", "board timing: realistic (UART, flash and boot times of real boards) or instant")
	seed := fs.Uint64("seed", 1, "seed of the boards' identities and self-test values")
	var so screenOptions
	fs.BoolVar(&so.noColor, "no-color", os.Getenv("NO_COLOR") != "", "no colour (also when NO_COLOR is set)")
	fs.BoolVar(&so.autoStart, "auto-start", false, "start the batch without waiting for the start key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo takes no arguments (got %q)", fs.Args())
	}
	if *boards < 1 || *boards > 32 {
		return usagef("--boards %d: want 1 to 32", *boards)
	}
	timing, err := board.ParseTiming(*timingName)
	if err != nil {
		return usagef("--timing: %v", err)
	}
	data, err := demoDir(*dir)
	if err != nil {
		return &exitError{code: station.ExitConfig, err: err}
	}
	d, err := startDemoLine(ctx, demoSpec{dir: data, boards: *boards, faults: *faults, timing: timing, seed: *seed, claimLife: 24 * time.Hour})
	if err != nil {
		return &exitError{code: station.ExitConfig, err: err}
	}
	defer d.Close()
	o := lineOptions{manifest: d.manifest, slots: "endpoints:" + d.endpoints, db: d.db, json: true}
	if !*headless && !isTerminal(stdout) {
		fmt.Fprintln(stderr, "demo: no terminal for the operator screen: running headless (JSON lines)")
		*headless = true
	}
	var runErr error
	if *headless {
		runErr = runDemoHeadless(ctx, &o, *boards, stdout, stderr)
	} else {
		so.askOp = true
		runErr = runDemoScreen(ctx, &o, *boards, so, stdout, stderr)
	}
	printDemoEpilogue(stderr, d)
	return runErr
}

func runDemoHeadless(ctx context.Context, o *lineOptions, boards int, stdout, stderr io.Writer) error {
	l, err := openLine(ctx, o, station.ModeBuild, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	cfg := demoConfig(l.setup.Config, boards)
	return runLine(ctx, l, cfg, o, stdout)
}

func runDemoScreen(ctx context.Context, o *lineOptions, boards int, so screenOptions, stdout, stderr io.Writer) error {
	l, warnings, err := openScreenLine(ctx, o, station.ModeBuild, so, stdout, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	return runScreen(l, demoConfig(l.setup.Config, boards), warnings, so, stdout)
}

// demoConfig runs every board of the demo line once.
func demoConfig(cfg station.Config, boards int) station.Config {
	cfg.Count = boards
	cfg.PollInterval = 200 * time.Millisecond
	return cfg
}

// demoDir makes the data directory: the one asked for, or a new one.
func demoDir(dir string) (string, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "fleetline-demo-"+time.Now().UTC().Format("20060102-150405")+"-")
		if err != nil {
			return "", fmt.Errorf("demo: make a data directory: %w", err)
		}
		return d, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("demo: data directory %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "audit.db")); err == nil {
		return "", fmt.Errorf("demo: %s already holds an audit log from an earlier demo: give a new --dir", dir)
	}
	return dir, nil
}

// printDemoEpilogue names the data directory and what to do with it.
func printDemoEpilogue(w io.Writer, d *demoLine) {
	fmt.Fprintf(w, "audit log: %s\n", d.db)
	fmt.Fprintf(w, "  station audit verify --db %s\n", d.db)
	fmt.Fprintf(w, "  station audit show --db %s --sn SN000001\n", d.db)
	fmt.Fprintf(w, "manifest, bundle and claim: %s\n", d.dir)
	if len(d.faults) > 0 {
		fmt.Fprintln(w, "faults on this line:")
		slots := make([]int, 0, len(d.faults))
		for i := range d.faults {
			slots = append(slots, i)
		}
		sort.Ints(slots)
		for _, i := range slots {
			fmt.Fprintf(w, "  slot S%02d: %s\n", i+1, d.faults[i])
		}
	}
}
