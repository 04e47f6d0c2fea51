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
	units := fs.Int("units", 0, "boards to build in all (default --boards): a stand-in operator swaps each finished board for the next one from the reel")
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
	if *units == 0 {
		*units = *boards
	}
	if *units < *boards {
		return usagef("--units %d: want at least --boards (%d), or leave it out", *units, *boards)
	}
	timing, err := board.ParseTiming(*timingName)
	if err != nil {
		return usagef("--timing: %v", err)
	}
	data, err := demoDir(*dir)
	if err != nil {
		return &exitError{code: station.ExitConfig, err: err}
	}
	d, err := startDemoLine(ctx, demoSpec{dir: data, boards: *boards, units: *units, faults: *faults, timing: timing, seed: *seed, claimLife: 24 * time.Hour})
	if err != nil {
		return &exitError{code: station.ExitConfig, err: err}
	}
	defer d.Close()
	o := lineOptions{manifest: d.manifest, slots: "endpoints:" + d.endpoints, db: d.db, json: true}
	if !*headless && !isTerminal(stdout) {
		fmt.Fprintln(stderr, "demo: no terminal for the operator screen: running headless (JSON lines)")
		*headless = true
	}
	// The stand-in operator's handling time: taking a board out, putting
	// the next in and closing the lid.
	handling := 2500 * time.Millisecond
	if timing == board.Instant {
		handling = 300 * time.Millisecond
	}
	opCtx, cancelOperator := context.WithCancel(ctx)
	var operator *demoOperator
	op := func(l *openedLine) {
		if *units > *boards {
			operator = newDemoOperator(l.slots, d.urls, d.boards, *units, handling, func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) })
			l.tap = func(eng *station.Engine) { operator.watch(opCtx, eng) }
		}
	}
	stopOperator := func() {
		cancelOperator()
		if operator != nil {
			operator.Wait() // no swap in flight while the line is torn down
		}
	}
	var runErr error
	if *headless {
		runErr = runDemoHeadless(ctx, &o, *units, op, stdout, stderr)
	} else {
		so.askOp = true
		runErr = runDemoScreen(ctx, &o, *units, op, so, stdout, stderr)
	}
	stopOperator()
	printDemoEpilogue(stderr, d)
	return runErr
}

func runDemoHeadless(ctx context.Context, o *lineOptions, units int, op func(*openedLine), stdout, stderr io.Writer) error {
	l, err := openLine(ctx, o, station.ModeBuild, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	op(l)
	return runLine(ctx, l, demoConfig(l.setup.Config, units), o, stdout)
}

func runDemoScreen(ctx context.Context, o *lineOptions, units int, op func(*openedLine), so screenOptions, stdout, stderr io.Writer) error {
	l, warnings, err := openScreenLine(ctx, o, station.ModeBuild, so, stdout, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	op(l)
	return runScreen(l, demoConfig(l.setup.Config, units), warnings, so, stdout)
}

// demoConfig runs units boards: each fixture's first board and, with
// --units, the ones the stand-in operator puts in after it.
func demoConfig(cfg station.Config, units int) station.Config {
	cfg.Count = units
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
