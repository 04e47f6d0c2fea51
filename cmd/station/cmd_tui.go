package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"fleetline/batch"
	"fleetline/station"
	"fleetline/ui"
)

func init() {
	register(&command{name: "tui", summary: "the operator screen on a real line: slot tiles, counters, pre-flight, QA re-test", run: runTUICommand})
}

// screenOptions are the flags that shape the operator screen.
type screenOptions struct {
	noColor   bool
	autoStart bool
	retest    bool
	askOp     bool
}

func runTUICommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tui", stderr)
	var o lineOptions
	o.registerLine(fs)
	fs.StringVar(&o.operator, "operator", "", "operator `id` recorded with every attempt (default: asked, or scanned from a badge, when the screen opens)")
	var so screenOptions
	fs.BoolVar(&so.noColor, "no-color", os.Getenv("NO_COLOR") != "", "no colour (also when NO_COLOR is set)")
	fs.BoolVar(&so.autoStart, "auto-start", false, "start the batch as soon as the operator and the pre-flight are through")
	fs.BoolVar(&so.retest, "retest", false, "QA re-test mode: boot boards this database built and compare them with the record")
	readNVS := fs.Bool("read-nvs", false, "with --retest: read the factory partition back and confirm the claim credentials are gone")
	count := fs.Int("count", 0, "boards to finish in this run (default: until the batch's quantity has passed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("tui takes no arguments (got %q)", fs.Args())
	}
	if *count < 0 {
		return usagef("--count must not be negative")
	}
	if !isTerminal(stdout) {
		return usagef("tui needs a terminal; without one, run the batch with station batch")
	}
	// The id is asked at the start of the shift unless given here.
	so.askOp = o.operator == ""
	mode := station.ModeBuild
	if so.retest {
		mode = station.ModeRetest
	}
	l, warnings, err := openScreenLine(ctx, &o, mode, so, stdout, stderr)
	if err != nil {
		return err
	}
	defer l.Close()
	cfg := l.setup.Config
	cfg.Count = *count
	cfg.ReadFactory = *readNVS && so.retest
	return runScreen(l, cfg, warnings, so, stdout)
}

// openScreenLine runs the pre-flight for the screen and opens the line.
// With errors it shows them on the pre-flight screen (no board touched)
// and returns an exit-2 error once the operator quits.
func openScreenLine(ctx context.Context, o *lineOptions, mode station.Mode, so screenOptions, stdout, stderr io.Writer) (*openedLine, batch.Findings, error) {
	m, err := o.loadManifest()
	if err != nil {
		return nil, nil, err
	}
	findings := preflight(ctx, m, o.db, mode)
	if !findings.OK() {
		model := ui.New(ui.Options{Batch: m.Batch, Product: m.Product, Station: m.Station, Operator: m.Operator, Quantity: m.Quantity,
			Findings: findings, Renderer: ui.NewRenderer(stdout, so.noColor), Now: time.Now()})
		if _, err := tea.NewProgram(model, tea.WithAltScreen(), tea.WithOutput(stdout), tea.WithContext(ctx)).Run(); err != nil {
			fmt.Fprintln(stderr, "station tui:", err)
		}
		for _, f := range findings {
			fmt.Fprintln(stderr, "pre-flight:", f)
		}
		return nil, nil, &exitError{code: station.ExitConfig, err: fmt.Errorf("pre-flight found %d error(s); no board was touched", len(findings.Errors()))}
	}
	slots, err := station.ParseSlots(o.slots)
	if err != nil {
		return nil, nil, &exitError{code: station.ExitConfig, err: err}
	}
	// The screen shows the warnings, so nothing goes to stderr under it.
	l, err := openCheckedLine(ctx, o, m, slots, mode, io.Discard)
	return l, findings.Warnings(), err
}

// engineControl adapts the engine to the screen's Controller: Start
// needs the run's context and slots, which the screen does not hold.
type engineControl struct {
	eng   *station.Engine
	ctx   context.Context
	slots []station.Slot

	mu      sync.Mutex
	started bool
}

func (c *engineControl) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return nil
	}
	if err := c.eng.Start(c.ctx, c.slots); err != nil {
		return err
	}
	c.started = true
	return nil
}

func (c *engineControl) wasStarted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}

func (c *engineControl) Pause()                            { c.eng.Pause() }
func (c *engineControl) Resume()                           { c.eng.Resume() }
func (c *engineControl) Stop()                             { c.eng.Stop() }
func (c *engineControl) RetrySlot(slot string) error       { return c.eng.RetrySlot(slot) }
func (c *engineControl) ClearQuarantine(slot string) error { return c.eng.ClearQuarantine(slot) }
func (c *engineControl) SetOperator(id string)             { c.eng.SetOperator(id) }

// runScreen runs the engine under the operator screen. The screen exits
// once the engine has stopped (q, confirmed); if it ends any other way the
// engine is stopped and waited for here, so nothing goes unrecorded. The
// exit code is the headless one.
func runScreen(l *openedLine, cfg station.Config, warnings batch.Findings, so screenOptions, stdout io.Writer) error {
	eng, err := l.engine(cfg)
	if err != nil {
		return err
	}
	ch, unsubscribe := eng.Subscribe(1024)
	defer unsubscribe()
	// The screen owns the run's end (q, confirmed, stops the engine), so
	// the run's context is not the command's: SIGINT cannot cut a board
	// off mid-step.
	runCtx, abort := context.WithCancel(context.Background())
	defer abort()
	ctrl := &engineControl{eng: eng, ctx: runCtx, slots: l.slots}
	names := make([]string, len(l.slots))
	for i, s := range l.slots {
		names[i] = s.Name
	}
	model := ui.New(ui.Options{
		Batch: cfg.Batch, Product: cfg.Product, Firmware: cfg.Image.FirmwareVersion, Station: cfg.Station, Operator: cfg.Operator,
		AskOperator: so.askOp, ClaimNotAfter: l.setup.Claim.Cert.NotAfter, Quantity: cfg.Quantity, Slots: names,
		Findings: warnings, Retest: so.retest, AutoStart: so.autoStart,
		Events: ch, Controller: ctrl, Now: time.Now(), Renderer: ui.NewRenderer(stdout, so.noColor),
	})
	_, runErr := tea.NewProgram(model, tea.WithAltScreen(), tea.WithOutput(stdout)).Run()
	if !ctrl.wasStarted() {
		if runErr != nil {
			return runErr
		}
		fmt.Fprintln(stdout, "no board was run")
		return nil
	}
	eng.Stop() // a no-op after a confirmed quit; a safe stop if the screen died
	sum := eng.Wait()
	printScreenSummary(stdout, sum)
	if runErr != nil {
		return runErr
	}
	if code := sum.ExitCode(); code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// printScreenSummary is what stays on the terminal after the screen.
func printScreenSummary(w io.Writer, sum station.Summary) {
	st := sum.Stats
	fmt.Fprintf(w, "summary: %d passed, %d failed in this run; batch %d/%d passed; first-pass yield %.1f%%, %.0f units/h%s\n",
		sum.RunPassed, sum.RunFailed, st.Passed, st.Quantity, 100*st.FirstPassYield, st.UnitsPerHour,
		map[bool]string{true: " (stopped)", false: ""}[sum.Interrupted])
}
