package flasher

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fleetline/flasher/portio"
)

// DTR and RTS are "asserted" = true = 0 V on the wire, as pyserial counts.
// On the usual two-transistor auto-reset circuit RTS drives EN (asserted =
// chip held in reset) and DTR drives GPIO0 (asserted = GPIO0 low); asserting
// both at once does nothing, which is what makes the tight sequence safe.

// StepKind is one kind of step of a reset sequence.
type StepKind byte

// Steps of a reset sequence, named by esptool's custom-sequence letters.
const (
	StepDTR  StepKind = 'D' // set DTR
	StepRTS  StepKind = 'R' // set RTS, then re-write DTR (Windows usbser only applies DTR on an RTS change)
	StepBoth StepKind = 'U' // set both lines at once (TIOCMSET), or DTR then RTS on ports that cannot
	StepWait StepKind = 'W' // wait
)

// Step is one step of a Reset.
type Step struct {
	Kind     StepKind
	DTR, RTS bool          // the levels set (asserted = true), by Kind
	Wait     time.Duration // the pause, for StepWait
}

// String renders the step in esptool's custom-sequence syntax.
func (s Step) String() string {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	switch s.Kind {
	case StepDTR:
		return "D" + b(s.DTR)
	case StepRTS:
		return "R" + b(s.RTS)
	case StepBoth:
		return "U" + b(s.DTR) + "," + b(s.RTS)
	case StepWait:
		return "W" + strconv.FormatFloat(s.Wait.Seconds(), 'f', -1, 64)
	}
	return "?"
}

// Reset is a reset strategy: a named sequence of line changes and waits.
// All strategies, built-in or parsed, run through the same code.
type Reset struct {
	Name  string // shown in messages: "classic", "usb-jtag", a custom sequence
	Steps []Step // run in order
}

// String returns the name and the sequence, e.g. "classic(50ms) D0|R1|...".
func (r Reset) String() string {
	parts := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		parts[i] = s.String()
	}
	return r.Name + " " + strings.Join(parts, "|")
}

// Sequence returns the steps in esptool's custom-sequence syntax.
func (r Reset) Sequence() string {
	parts := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		parts[i] = s.String()
	}
	return strings.Join(parts, "|")
}

// Run performs the sequence on p, waiting with sleep. It stops at the first
// line error and returns it, naming the step.
func (r Reset) Run(ctx context.Context, p portio.Port, sleep func(context.Context, time.Duration) error) error {
	if sleep == nil {
		sleep = sleepCtx
	}
	ls, tight := p.(portio.LineSetter)
	dtr := false // ports open with both lines released
	for i, s := range r.Steps {
		var err error
		switch s.Kind {
		case StepDTR:
			err = p.SetDTR(s.DTR)
			dtr = s.DTR
		case StepRTS:
			if err = p.SetRTS(s.RTS); err == nil {
				err = p.SetDTR(dtr)
			}
		case StepBoth:
			if tight {
				err = ls.SetLines(s.DTR, s.RTS)
			} else if err = p.SetDTR(s.DTR); err == nil {
				err = p.SetRTS(s.RTS)
			}
			dtr = s.DTR
		case StepWait:
			if err = sleep(ctx, s.Wait); err != nil {
				return fmt.Errorf("%s reset: %w", r.Name, ctxErr(err))
			}
		default:
			err = fmt.Errorf("unknown step kind %q", s.Kind)
		}
		if err != nil {
			return fmt.Errorf("%s reset step %d (%s): %w", r.Name, i+1, s, err)
		}
	}
	return nil
}

func d(v bool) Step          { return Step{Kind: StepDTR, DTR: v} }
func r(v bool) Step          { return Step{Kind: StepRTS, RTS: v} }
func u(dv, rv bool) Step     { return Step{Kind: StepBoth, DTR: dv, RTS: rv} }
func w(t time.Duration) Step { return Step{Kind: StepWait, Wait: t} }

// Classic is esptool's classic reset: EN low for 100 ms, then GPIO0 low while
// EN rises, held for delay (50 ms; 550 ms on alternate attempts for slow
// EN capacitors), then GPIO0 released.
func Classic(delay time.Duration) Reset {
	return Reset{Name: fmt.Sprintf("classic(%v)", delay), Steps: []Step{
		d(false), r(true), w(100 * time.Millisecond), d(true), r(false), w(delay), d(false),
	}}
}

// UnixTight is esptool's POSIX reset: both lines change in one TIOCMSET, so
// no glitch between DTR and RTS can let the circuit boot the app. Ports that
// cannot set both lines at once (no portio.LineSetter) get DTR then RTS.
func UnixTight(delay time.Duration) Reset {
	return Reset{Name: fmt.Sprintf("unix-tight(%v)", delay), Steps: []Step{
		u(false, false), u(true, true), u(false, true), w(100 * time.Millisecond),
		u(true, false), w(delay), u(false, false), d(false),
	}}
}

// USBJTAG is the reset for Espressif's built-in USB-Serial/JTAG (PID
// 0x1001), whose DTR/RTS are virtual signals the chip decodes itself.
func USBJTAG() Reset {
	ms := 100 * time.Millisecond
	return Reset{Name: "usb-jtag", Steps: []Step{
		r(false), d(false), w(ms), d(true), r(false), w(ms), r(true), d(false), r(true), w(ms), d(false), r(false),
	}}
}

// NoReset touches no line: the chip must already be in download mode.
func NoReset() Reset { return Reset{Name: "no-reset"} }

// HardReset pulses EN through RTS so the chip boots its app (esptool's
// --after hard_reset). Over USB-Serial/JTAG the pulse is longer and the
// line settles before the port is reused.
func HardReset(usb bool) Reset {
	if usb {
		return Reset{Name: "hard-reset", Steps: []Step{r(true), w(200 * time.Millisecond), r(false), w(200 * time.Millisecond)}}
	}
	return Reset{Name: "hard-reset", Steps: []Step{r(true), w(100 * time.Millisecond), r(false)}}
}

// ErrBadSequence reports a custom reset sequence that does not parse.
var ErrBadSequence = errors.New("bad reset sequence")

// ParseSequence parses esptool's custom reset syntax: steps separated by
// "|", each D<0|1> (DTR), R<0|1> (RTS), U<0|1>,<0|1> (both lines at once)
// or W<seconds> (wait), e.g. "D0|R1|W0.1|D1|R0|W0.05|D0".
func ParseSequence(s string) (Reset, error) {
	var steps []Step
	for i, tok := range strings.Split(s, "|") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			return Reset{}, fmt.Errorf("%w %q: step %d is empty", ErrBadSequence, s, i+1)
		}
		arg := tok[1:]
		bit := func(a string) (bool, error) {
			switch a {
			case "0":
				return false, nil
			case "1":
				return true, nil
			}
			return false, fmt.Errorf("%w %q: step %d %q: want 0 or 1", ErrBadSequence, s, i+1, tok)
		}
		switch StepKind(tok[0]) {
		case StepDTR, StepRTS:
			v, err := bit(arg)
			if err != nil {
				return Reset{}, err
			}
			if tok[0] == 'D' {
				steps = append(steps, d(v))
			} else {
				steps = append(steps, r(v))
			}
		case StepBoth:
			a, b, ok := strings.Cut(arg, ",")
			if !ok {
				return Reset{}, fmt.Errorf("%w %q: step %d %q: want U<dtr>,<rts>", ErrBadSequence, s, i+1, tok)
			}
			dv, err := bit(a)
			if err != nil {
				return Reset{}, err
			}
			rv, err := bit(b)
			if err != nil {
				return Reset{}, err
			}
			steps = append(steps, u(dv, rv))
		case StepWait:
			sec, err := strconv.ParseFloat(arg, 64)
			if err != nil || sec < 0 || sec > 60 {
				return Reset{}, fmt.Errorf("%w %q: step %d %q: want a wait of 0–60 seconds", ErrBadSequence, s, i+1, tok)
			}
			steps = append(steps, w(time.Duration(sec*float64(time.Second))))
		default:
			return Reset{}, fmt.Errorf("%w %q: step %d %q: unknown command %q (want D, R, U or W)", ErrBadSequence, s, i+1, tok, tok[0])
		}
	}
	return Reset{Name: "custom", Steps: steps}, nil
}

// USBJTAGPID is the USB product id of Espressif's USB-Serial/JTAG.
const USBJTAGPID = 0x1001

// PortKind is what DefaultResets needs to know about a port.
type PortKind struct {
	Windows bool   // the host is Windows (no TIOCMSET)
	RFC2217 bool   // an rfc2217:// port (lines change one per telnet message)
	Socket  bool   // a socket:// port: no control lines at all
	USBPID  uint16 // the bridge's USB product id when known
}

// DefaultResets returns the strategies Connect cycles through over its
// attempts, as esptool does: USB-JTAG alone for PID 0x1001; none over a raw
// socket; tight(50 ms), tight(550 ms), classic(50 ms), classic(550 ms) on
// POSIX; classic only on Windows and RFC 2217.
func DefaultResets(k PortKind) []Reset {
	const short, long = 50 * time.Millisecond, 550 * time.Millisecond
	switch {
	case k.Socket:
		return []Reset{NoReset()}
	case k.USBPID == USBJTAGPID:
		return []Reset{USBJTAG()}
	case k.Windows || k.RFC2217:
		return []Reset{Classic(short), Classic(long)}
	}
	return []Reset{UnixTight(short), UnixTight(long), Classic(short), Classic(long)}
}
