package flasher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/portio"
)

// line is one recorded control change: virtual time since the start, DTR, RTS.
type line struct {
	at       time.Duration
	dtr, rts bool
}

func (l line) String() string { return fmt.Sprintf("%v:D%d,R%d", l.at, b2i(l.dtr), b2i(l.rts)) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// record runs rs on a pipe with a virtual clock advanced only by the
// injected sleep, so waits are checked exactly and the test takes no time.
func record(t *testing.T, rs Reset, tight bool) []line {
	t.Helper()
	host, dev := portio.Pipe()
	defer host.Close()
	var now time.Duration
	var got []line
	dev.OnControl(func(c portio.Control) { got = append(got, line{now, c.DTR, c.RTS}) })
	sleep := func(_ context.Context, d time.Duration) error { now += d; return nil }
	var p portio.Port = host
	if !tight {
		p = noLines{host}
	}
	if err := rs.Run(context.Background(), p, sleep); err != nil {
		t.Fatal(err)
	}
	return got
}

// noLines hides the pipe's LineSetter, like a port that cannot set both
// lines in one call.
type noLines struct{ portio.Port }

func seq(spec string) []line {
	var ls []line
	for _, f := range strings.Fields(spec) {
		var ms, d, r int
		fmt.Sscanf(f, "%d:%d,%d", &ms, &d, &r)
		ls = append(ls, line{time.Duration(ms) * time.Millisecond, d == 1, r == 1})
	}
	return ls
}

func TestResetSequences(t *testing.T) {
	tests := []struct {
		name  string
		rs    Reset
		tight bool
		want  string // ms:DTR,RTS per recorded change
	}{
		// D0 | R1 (+DTR rewrite) | 100 ms | D1 | R0 (+DTR) | 50 ms | D0
		{"classic 50", Classic(50 * time.Millisecond), true, "0:0,0 0:0,1 0:0,1 100:1,1 100:1,0 100:1,0 150:0,0"},
		{"classic 550", Classic(550 * time.Millisecond), true, "0:0,0 0:0,1 0:0,1 100:1,1 100:1,0 100:1,0 650:0,0"},
		// (0,0) (1,1) (0,1) | 100 ms | (1,0) | d | (0,0) D0
		{"tight 50", UnixTight(50 * time.Millisecond), true, "0:0,0 0:1,1 0:0,1 100:1,0 150:0,0 150:0,0"},
		// Without TIOCMSET each pair is DTR then RTS.
		{"tight fallback", UnixTight(50 * time.Millisecond), false,
			"0:0,0 0:0,0 0:1,0 0:1,1 0:0,1 0:0,1 100:1,1 100:1,0 150:0,0 150:0,0 150:0,0"},
		{"usb-jtag", USBJTAG(), true,
			"0:0,0 0:0,0 0:0,0 100:1,0 100:1,0 100:1,0 200:1,1 200:1,1 200:0,1 200:0,1 200:0,1 300:0,1 300:0,0 300:0,0"},
		{"hard reset", HardReset(false), true, "0:0,1 0:0,1 100:0,0 100:0,0"},
		{"hard reset usb", HardReset(true), true, "0:0,1 0:0,1 200:0,0 200:0,0"},
		{"none", NoReset(), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := record(t, tt.rs, tt.tight)
			want := seq(tt.want)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got  %v\nwant %v", got, want)
			}
		})
	}
}

func TestParseSequence(t *testing.T) {
	rs, err := ParseSequence("D0|R1|W0.1|D1|R0|W0.05|D0")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(record(t, rs, true)) != fmt.Sprint(record(t, Classic(50*time.Millisecond), true)) {
		t.Fatal("esptool's classic sequence string differs from Classic(50ms)")
	}
	if rs.Sequence() != "D0|R1|W0.1|D1|R0|W0.05|D0" {
		t.Fatalf("Sequence() = %q", rs.Sequence())
	}
	u, err := ParseSequence("U0,1|W0.1|U1,0")
	if err != nil || fmt.Sprint(record(t, u, true)) != fmt.Sprint(seq("0:0,1 100:1,0")) {
		t.Fatalf("U sequence: %v", err)
	}
	for _, bad := range []string{"", "D2", "X1", "W-1", "Wabc", "U1", "U1,2", "D0||R1"} {
		if _, err := ParseSequence(bad); !errors.Is(err, ErrBadSequence) {
			t.Errorf("ParseSequence(%q) err = %v", bad, err)
		}
	}
}

func TestDefaultResets(t *testing.T) {
	names := func(rs []Reset) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Name)
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		k    PortKind
		want string
	}{
		{PortKind{}, "unix-tight(50ms) unix-tight(550ms) classic(50ms) classic(550ms)"},
		{PortKind{Windows: true}, "classic(50ms) classic(550ms)"},
		{PortKind{RFC2217: true}, "classic(50ms) classic(550ms)"},
		{PortKind{USBPID: USBJTAGPID}, "usb-jtag"},
		{PortKind{Socket: true}, "no-reset"},
	}
	for _, tt := range tests {
		if got := names(DefaultResets(tt.k)); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.k, got, tt.want)
		}
	}
}

func TestResetLineErrors(t *testing.T) {
	host, _ := portio.Pipe()
	host.Close()
	err := Classic(0).Run(context.Background(), host, nil)
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "step 1 (D0)") {
		t.Fatalf("err = %v", err)
	}
}

func TestConnectCyclesStrategies(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	f.silent = true
	var slept []time.Duration
	c.opt.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	c.opt.Before, c.opt.ConnectAttempts = ResetDefault, 4
	c.opt.Resets = DefaultResets(PortKind{})
	if _, err := c.Connect(context.Background()); !errors.Is(err, ErrNoSync) {
		t.Fatal(err)
	}
	// Reset waits of each attempt: 100 ms then the strategy's delay; the
	// 50 ms pauses between the five SYNC tries in between.
	var resets []time.Duration
	for _, d := range slept {
		if d != 50*time.Millisecond || len(resets) == 0 || resets[len(resets)-1] == 100*time.Millisecond {
			resets = append(resets, d)
		}
	}
	want := "[100ms 50ms 100ms 550ms 100ms 50ms 100ms 550ms]"
	if fmt.Sprint(resets) != want {
		t.Fatalf("reset waits %v, want %s (all sleeps %v)", resets, want, slept)
	}
}

func TestParseBefore(t *testing.T) {
	for in, want := range map[string]Before{"default_reset": ResetDefault, "no-reset": ResetNone, "no_reset_no_sync": ResetNoneNoSync, "usb_reset": ResetUSB} {
		if got, err := ParseBefore(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := ParseBefore("soft"); err == nil {
		t.Error("bad --before accepted")
	}
}
