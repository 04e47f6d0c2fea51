package main

import (
	"context"
	"io"

	"fleetline/station"
)

func init() {
	register(&command{name: "retest", summary: "QA re-test boards this database built (or --rework them), headless", run: runRetest})
}

func runRetest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("retest", stderr)
	var o lineOptions
	o.register(fs)
	readNVS := fs.Bool("read-nvs", false, "read the factory partition back and confirm the claim credentials are gone")
	rework := fs.Bool("rework", false, "reflash each board, keeping its SN and identity, instead of re-testing it")
	count := fs.Int("count", 0, "boards to finish in this run (default: until stopped)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("retest takes no arguments (got %q)", fs.Args())
	}
	if *count < 0 {
		return usagef("--count must not be negative")
	}
	if *rework && *readNVS {
		return usagef("--read-nvs applies to a re-test, not to --rework")
	}
	mode := station.ModeRetest
	if *rework {
		mode = station.ModeRework
	}
	l, err := openLine(ctx, &o, mode, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	cfg := l.setup.Config
	cfg.Count = *count
	cfg.ReadFactory = *readNVS
	return runLine(ctx, l, cfg, &o, stdout)
}
