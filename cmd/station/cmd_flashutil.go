package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/mattn/go-isatty"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"fleetline/flasher"
)

// boardFlags are the connection flags shared by info, flash, read-flash and
// erase-region, named as esptool names them.
type boardFlags struct {
	port     string
	baud     int
	before   string
	after    string
	attempts int
	verbose  bool
}

func addBoardFlags(fs *flag.FlagSet, withAfter bool) *boardFlags {
	b := &boardFlags{}
	fs.StringVar(&b.port, "port", "", "serial device, rfc2217://host:port or socket://host:port (required)")
	fs.IntVar(&b.baud, "baud", 115200, "line rate after connecting (the ROM always starts at 115200)")
	fs.StringVar(&b.before, "before", "default-reset", "default-reset, usb-reset, no-reset or no-reset-no-sync")
	if withAfter {
		fs.StringVar(&b.after, "after", "hard-reset", "hard-reset (boot the app) or no-reset (stay in the loader)")
	} else {
		b.after = "no-reset"
	}
	fs.IntVar(&b.attempts, "connect-attempts", 7, "reset-and-sync attempts")
	fs.BoolVar(&b.verbose, "v", false, "log the loader conversation's events to stderr")
	return b
}

// session is one connected, identified board.
type session struct {
	c    *flasher.Client
	info *flasher.ChipInfo
	conn flasher.ConnectInfo
}

// connect opens the port, resets the chip into its loader, identifies it
// and changes to the requested baud rate.
func (b *boardFlags) connect(ctx context.Context, stderr io.Writer, progress func(flasher.Progress)) (*session, error) {
	if b.port == "" {
		return nil, usagef("--port is required")
	}
	if b.baud <= 0 {
		return nil, usagef("--baud %d: must be positive (115200, 460800, 921600, ...)", b.baud)
	}
	if b.attempts < 1 {
		return nil, usagef("--connect-attempts %d: want at least 1", b.attempts)
	}
	before, err := flasher.ParseBefore(b.before)
	if err != nil {
		return nil, usagef("%v", err)
	}
	switch strings.ReplaceAll(b.after, "_", "-") {
	case "hard-reset", "no-reset":
	default:
		return nil, usagef("unknown --after %q (want hard-reset or no-reset)", b.after)
	}
	p, err := flasher.Open(ctx, b.port, 115200)
	if err != nil {
		return nil, &exitError{code: 1, err: err}
	}
	opt := flasher.Options{Before: before, ConnectAttempts: b.attempts, Progress: progress, USBPID: flasher.LocalUSBPID(b.port)}
	if b.verbose {
		opt.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, "  "+format+"\n", a...) }
	}
	c := flasher.New(p, opt)
	s := &session{c: c}
	fmt.Fprintf(stderr, "Connecting to %s...\n", b.port)
	if s.conn, err = c.Connect(ctx); err != nil {
		c.Close()
		return nil, &exitError{code: 1, err: fmt.Errorf("%s: %w", b.port, err)}
	}
	if s.info, err = c.Identify(ctx); err != nil {
		c.Close()
		return nil, &exitError{code: 1, err: fmt.Errorf("%s: %w", b.port, err)}
	}
	fmt.Fprintf(stderr, "Chip is %s, MAC %s, flash %s\n", s.info.Description, s.info.MACString(), sizeString(s.info.FlashSize))
	if b.baud != c.Baud() {
		if err := c.ChangeBaud(ctx, b.baud); err != nil {
			fmt.Fprintf(stderr, "warning: %v\n", err)
		}
	}
	return s, nil
}

// finish applies --after and closes the port.
func (b *boardFlags) finish(ctx context.Context, s *session, stderr io.Writer) error {
	defer s.c.Close()
	if strings.ReplaceAll(b.after, "_", "-") == "hard-reset" {
		fmt.Fprintln(stderr, "Hard resetting via RTS pin...")
		if err := s.c.HardReset(ctx); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	return nil
}

// parseNum reads an offset or size as esptool does: 0x hex, decimal, with
// an optional k/K (KiB) or m/M (MiB) suffix.
func parseNum(s string) (uint32, error) {
	t := strings.TrimSpace(s)
	mult := uint64(1)
	switch {
	case strings.HasSuffix(t, "k") || strings.HasSuffix(t, "K"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "m") || strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	}
	v, err := strconv.ParseUint(t, 0, 32)
	if err != nil || v*mult > 1<<32-1 {
		return 0, fmt.Errorf("%q is not a number (use 0x10000, 65536, 64k or 4M)", s)
	}
	return uint32(v * mult), nil
}

func sizeString(n uint32) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// progressBar draws one self-overwriting line on w, at most every 100 ms.
type progressBar struct {
	w    io.Writer
	last time.Time
	line bool
	// On a pipe or a log file a redrawn bar is noise: print a plain line
	// per quarter of each step instead.
	plain    bool
	plainKey string
	plainPct int
}

// isTerminal reports whether w is a terminal (a console or a pty), not
// merely a character device such as /dev/null.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w, plain: !isTerminal(w)} }

func (p *progressBar) update(pr flasher.Progress) {
	now := time.Now()
	final := pr.Done >= pr.Total
	pct := 100
	if pr.Total > 0 {
		pct = pr.Done * 100 / pr.Total
	}
	if p.plain {
		key := pr.Step + " " + pr.Region
		if key != p.plainKey {
			p.plainKey, p.plainPct = key, -1
		}
		if q := pct / 25 * 25; q > p.plainPct {
			p.plainPct = q
			fmt.Fprintf(p.w, "%s %s 0x%x: %d%%\n", pr.Step, pr.Region, pr.Offset, q)
		}
		return
	}
	if !final && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	fill := pct * width / 100
	label := pr.Step
	if pr.Region != "" {
		label += " " + pr.Region
	}
	extra := ""
	if pr.Blocks > 0 {
		extra = fmt.Sprintf(" block %d/%d", pr.Block, pr.Blocks)
	}
	fmt.Fprintf(p.w, "\r[%s%s] %3d%% %s 0x%x%s   ", strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, label, pr.Offset, extra)
	p.line = true
}

// done ends the bar's line.
func (p *progressBar) done() {
	if p.line {
		fmt.Fprintln(p.w)
		p.line = false
	}
}

// parseFlags parses args into fs. A flag the command does not know or a
// malformed value is a usage error (exit 2), like a missing argument; the
// flag package has already printed the command's flags to stderr.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err.Error()}
}

// subcommand is one verb of a command that has several (nvs generate).
type subcommand func(args []string, stdout, stderr io.Writer) error

// runSubcommand runs the verb args[0] of the command name; no verb or an
// unknown one is a usage error, and help prints usage to stdout.
func runSubcommand(name, usage string, args []string, stdout, stderr io.Writer, verbs map[string]subcommand) error {
	if len(args) == 0 {
		return usagef("%s", usage)
	}
	if run, ok := verbs[args[0]]; ok {
		return run(args[1:], stdout, stderr)
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usagef("%s: unknown subcommand %q\n%s", name, args[0], usage)
}

// parseInterspersed parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// parseImageSize reads a generated image's --size (any Go integer syntax,
// up to 1 GiB) for the command cmd, whose typical size is example.
func parseImageSize(cmd, s, example string) (int, error) {
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil || n <= 0 || n > 1<<30 {
		return 0, usagef("%s: --size %q: want a byte count such as %s", cmd, s, example)
	}
	return int(n), nil
}
