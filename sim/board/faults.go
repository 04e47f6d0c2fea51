package board

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Faults are the misbehaviours one board can be given. The zero value is a
// healthy board. Random faults draw from a stream seeded by Config.Seed and
// the board index, so a run is reproducible.
type Faults struct {
	NoSync   bool    // download mode is entered but the ROM never answers
	BootMode bool    // GPIO0 not pulled by the auto-reset circuit: always boots from flash
	Drop     float64 // probability each byte (either direction) is lost
	Flip     float64 // probability each byte (either direction) has one bit flipped
	// StallBlock > 0 makes the chip hang, once, on receiving the data block
	// with that sequence number: no reply, deaf until the next reset.
	StallBlock int
	// UnplugAfterBytes / UnplugAfter: the cable comes out once the host has
	// sent that many bytes or that long after its first write; the port
	// then returns portio.ErrClosed for good.
	UnplugAfterBytes int64
	UnplugAfter      time.Duration
	FlashFail        []uint32 // flash addresses whose programming fails the readback (status 01 08)
	SlowFlash        float64  // multiplies erase and program times (realistic timing)
	// BrownoutAfterBytes / BrownoutAfter: the supply sags once, that many
	// host bytes or that long after the host's first write, and the chip
	// resets with BROWNOUT_RST.
	BrownoutAfterBytes int64
	BrownoutAfter      time.Duration
}

// FaultRule applies Faults to some boards of a line.
type FaultRule struct {
	// First and Last bound the board indices the rule targets (inclusive);
	// All targets every board.
	All         bool
	First, Last int
	Faults      Faults
}

// Applies reports whether the rule targets board index i.
func (r FaultRule) Applies(i int) bool { return r.All || (i >= r.First && i <= r.Last) }

// ErrFaultSpec reports a fault spec that does not parse.
var ErrFaultSpec = errors.New("board: bad fault spec")

// ParseFault parses one fault spec:
//
//	[TARGET:]FAULT[,FAULT...]
//	TARGET = N | N-M | *            (board indices, from 0; default all)
//	FAULT  = nosync | bootmode | drop=P | flip=P | stall=block:N
//	       | unplug=after:SIZE|DURATION | brownout=after:SIZE|DURATION
//	       | flashfail=ADDR | slowflash=Fx
//
// SIZE is bytes with an optional B, KB, KiB, MB or MiB suffix; DURATION is a
// Go duration (2s, 500ms). Example: "3:unplug=after:100KiB,drop=0.001".
func ParseFault(spec string) (FaultRule, error) {
	rule := FaultRule{All: true}
	body := spec
	if i := strings.IndexByte(spec, ':'); i > 0 && (spec[0] == '*' || (spec[0] >= '0' && spec[0] <= '9')) {
		target := spec[:i]
		body = spec[i+1:]
		if target != "*" {
			lo, hi, ok := strings.Cut(target, "-")
			first, err := strconv.Atoi(lo)
			if err != nil || first < 0 {
				return rule, fmt.Errorf("%w %q: board %q is not an index", ErrFaultSpec, spec, lo)
			}
			last := first
			if ok {
				if last, err = strconv.Atoi(hi); err != nil || last < first {
					return rule, fmt.Errorf("%w %q: bad board range %q", ErrFaultSpec, spec, target)
				}
			}
			rule.All, rule.First, rule.Last = false, first, last
		}
	}
	if body == "" {
		return rule, fmt.Errorf("%w %q: no fault named", ErrFaultSpec, spec)
	}
	for _, item := range strings.Split(body, ",") {
		if err := parseFaultItem(&rule.Faults, strings.TrimSpace(item)); err != nil {
			return rule, fmt.Errorf("%w %q: %v", ErrFaultSpec, spec, err)
		}
	}
	return rule, nil
}

func parseFaultItem(f *Faults, item string) error {
	name, arg, _ := strings.Cut(item, "=")
	switch name {
	case "nosync":
		f.NoSync = true
	case "bootmode":
		f.BootMode = true
	case "drop", "flip":
		p, err := strconv.ParseFloat(arg, 64)
		if err != nil || p < 0 || p > 1 {
			return fmt.Errorf("%s wants a probability 0..1, got %q", name, arg)
		}
		if name == "drop" {
			f.Drop = p
		} else {
			f.Flip = p
		}
	case "stall":
		n, ok := strings.CutPrefix(arg, "block:")
		v, err := strconv.Atoi(n)
		if !ok || err != nil || v < 0 {
			return fmt.Errorf("stall wants block:N, got %q", arg)
		}
		f.StallBlock = v
		if v == 0 {
			f.StallBlock = -1 // block 0 is a valid target; -1 marks it
		}
	case "unplug", "brownout":
		a, ok := strings.CutPrefix(arg, "after:")
		if !ok {
			return fmt.Errorf("%s wants after:SIZE or after:DURATION, got %q", name, arg)
		}
		n, d, err := parseSizeOrDuration(a)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if name == "unplug" {
			f.UnplugAfterBytes, f.UnplugAfter = n, d
		} else {
			f.BrownoutAfterBytes, f.BrownoutAfter = n, d
		}
	case "flashfail":
		v, err := strconv.ParseUint(arg, 0, 32)
		if err != nil {
			return fmt.Errorf("flashfail wants an address, got %q", arg)
		}
		f.FlashFail = append(f.FlashFail, uint32(v))
	case "slowflash":
		v, err := strconv.ParseFloat(strings.TrimSuffix(arg, "x"), 64)
		if err != nil || v < 1 {
			return fmt.Errorf("slowflash wants a factor like 4x, got %q", arg)
		}
		f.SlowFlash = v
	default:
		return fmt.Errorf("unknown fault %q", name)
	}
	return nil
}

func parseSizeOrDuration(s string) (int64, time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return 0, d, nil
	}
	mult := int64(1)
	num := s
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"KB", 1000}, {"MB", 1000000}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(s, u.suf) {
			num, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, 0, fmt.Errorf("%q is neither a size nor a duration", s)
	}
	return n * mult, 0, nil
}

// merge adds g's faults to f (later rules win for scalar values).
func (f *Faults) merge(g Faults) {
	f.NoSync = f.NoSync || g.NoSync
	f.BootMode = f.BootMode || g.BootMode
	if g.Drop > 0 {
		f.Drop = g.Drop
	}
	if g.Flip > 0 {
		f.Flip = g.Flip
	}
	if g.StallBlock != 0 {
		f.StallBlock = g.StallBlock
	}
	if g.UnplugAfterBytes > 0 || g.UnplugAfter > 0 {
		f.UnplugAfterBytes, f.UnplugAfter = g.UnplugAfterBytes, g.UnplugAfter
	}
	if g.BrownoutAfterBytes > 0 || g.BrownoutAfter > 0 {
		f.BrownoutAfterBytes, f.BrownoutAfter = g.BrownoutAfterBytes, g.BrownoutAfter
	}
	f.FlashFail = append(f.FlashFail, g.FlashFail...)
	if g.SlowFlash > 0 {
		f.SlowFlash = g.SlowFlash
	}
}

// FaultsFor combines every rule that targets board index i.
func FaultsFor(rules []FaultRule, i int) Faults {
	var f Faults
	for _, r := range rules {
		if r.Applies(i) {
			f.merge(r.Faults)
		}
	}
	return f
}

func (f *Faults) stallsAt(seq uint32) bool {
	switch {
	case f.StallBlock == -1:
		return seq == 0
	case f.StallBlock > 0:
		return seq == uint32(f.StallBlock)
	}
	return false
}

func (f *Faults) flashFailIn(off, n uint32) bool {
	for _, a := range f.FlashFail {
		if a >= off && a < off+n {
			return true
		}
	}
	return false
}
