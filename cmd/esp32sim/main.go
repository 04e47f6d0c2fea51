// Command esp32sim serves virtual ESP32-family boards for a station,
// esptool or a test: each board on its own RFC 2217 endpoint (DTR/RTS
// resets and baud changes reach it), or on a pseudo-terminal with --pty
// (data only: a pty has no modem lines, so the host cannot reset the board).
//
//	esp32sim --boards 4 --chip esp32 --timing realistic --endpoints line.json
//
// It prints one line per board (slot, endpoint, MAC, chip) and runs until
// interrupted. With --control-stdin it also reads commands from standard
// input, one a line: "swap N" replaces the board in slot N with the next one
// from the reel (as an operator does in a pogo-pin fixture whose bridge
// stays) and prints "slot N<TAB>swapped<TAB>MAC"; "status [N]" prints each
// slot's MAC, swap count, resets since power-on and mode; "help" lists them.
// The line keeps running when standard input ends.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"fleetline/sim/board"
	"fleetline/sim/line"
)

type faultFlags []board.FaultRule

func (f *faultFlags) String() string { return fmt.Sprint(len(*f), " rules") }

func (f *faultFlags) Set(s string) error {
	r, err := board.ParseFault(s)
	if err != nil {
		return err
	}
	*f = append(*f, r)
	return nil
}

type options struct {
	cfg          line.Config
	endpoints    string
	verbose      bool
	controlStdin bool
}

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("esp32sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var faults faultFlags
	boards := fs.Int("boards", 1, "number of boards")
	chip := fs.String("chip", "esp32", "chip: "+strings.Join(board.Chips(), ", "))
	fs.StringVar(&o.cfg.Listen, "listen", "127.0.0.1:0", "host:port of the first board's RFC 2217 listener (port 0: any free ports; P: P, P+1, ...)")
	timing := fs.String("timing", "instant", "instant or realistic")
	fs.StringVar(&o.cfg.Bridge, "bridge", "cp2102n", "USB-UART bridge: cp2102n, cp2102, ch340, ftdi, or usb-jtag (the S3/C3 built-in USB-Serial/JTAG)")
	fs.StringVar(&o.cfg.StateDir, "state", "", "directory keeping each board's identity and flash across runs")
	fs.Var(&faults, "fault", "fault spec, repeatable: [N|N-M:]fault[,fault...], e.g. 3:unplug=after:100KiB")
	seed := fs.String("seed", "1", "seed for identities and fault randomness")
	flashMB := fs.Int("flash-mb", 4, "flash size in MiB (power of two)")
	fs.StringVar(&o.endpoints, "endpoints", "", "write the endpoints as JSON [{slot,url,mac,chip}] to this file")
	fs.BoolVar(&o.cfg.DirectLines, "direct-lines", false, "pass DTR/RTS changes straight to the boards instead of playing reset sequences locally as esp_rfc2217_server does")
	fs.BoolVar(&o.cfg.EsptoolStub, "esptool-stub", false, "model esptool's flasher stub: code started from RAM is taken to be it (otherwise boards fall silent)")
	fs.BoolVar(&o.cfg.PTY, "pty", false, "serve each board on a pseudo-terminal instead (no resets)")
	fs.BoolVar(&o.verbose, "v", false, "log RFC 2217 sessions")
	fs.BoolVar(&o.controlStdin, "control-stdin", false, "read commands from stdin: swap N, status [N], help")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.cfg.Timing, err = board.ParseTiming(*timing); err != nil {
		return nil, err
	}
	if o.cfg.Seed, err = strconv.ParseUint(*seed, 0, 64); err != nil {
		return nil, fmt.Errorf("--seed %q: %w", *seed, err)
	}
	if *boards < 1 || *boards > 1024 {
		return nil, fmt.Errorf("--boards %d: want 1..1024", *boards)
	}
	o.cfg.Boards, o.cfg.Chip, o.cfg.Faults = *boards, *chip, faults
	o.cfg.FlashSize = uint32(*flashMB) << 20
	return o, nil
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "esp32sim:", err)
		return 2
	}
	if o.verbose {
		o.cfg.Logf = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}
	l, err := line.Start(ctx, o.cfg)
	if err != nil {
		fmt.Fprintln(stderr, "esp32sim:", err)
		return 1
	}
	eps := l.Endpoints()
	for _, ep := range eps {
		fmt.Fprintf(stdout, "slot %d\t%s\t%s\t%s\n", ep.Slot, ep.URL, ep.MAC, ep.Chip)
	}
	if o.endpoints != "" {
		if err := line.WriteEndpoints(o.endpoints, eps); err != nil {
			fmt.Fprintln(stderr, "esp32sim:", err)
			l.Close()
			return 1
		}
	}
	var c *controller
	if o.controlStdin {
		c = &controller{boards: l.Boards(), eps: eps, endpoints: o.endpoints, stdout: stdout, stderr: stderr}
		go c.run(stdin)
	}
	<-ctx.Done()
	if c != nil {
		c.stop() // from here on only this goroutine writes
	}
	if err := l.Close(); err != nil {
		fmt.Fprintln(stderr, "esp32sim:", err)
		return 1
	}
	return 0
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
