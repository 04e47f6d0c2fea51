package flasher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
)

// Before is how Connect gets the chip into its loader (esptool --before).
type Before int

// Before modes.
const (
	ResetDefault    Before = iota // cycle the default (or Options.Resets) strategies
	ResetUSB                      // USB-Serial/JTAG sequence only
	ResetNone                     // no reset: the chip is already in download mode; sync only
	ResetNoneNoSync               // neither reset nor sync (a pass-through that is already talking)
)

// ParseBefore accepts esptool's names, dashed or with underscores.
func ParseBefore(s string) (Before, error) {
	switch strings.ReplaceAll(s, "_", "-") {
	case "default-reset", "default", "":
		return ResetDefault, nil
	case "usb-reset":
		return ResetUSB, nil
	case "no-reset":
		return ResetNone, nil
	case "no-reset-no-sync":
		return ResetNoneNoSync, nil
	}
	return 0, fmt.Errorf("unknown --before %q (want default-reset, usb-reset, no-reset or no-reset-no-sync)", s)
}

// ConnectInfo is what Connect learned.
type ConnectInfo struct {
	Banner         string // text the chip printed after the last reset
	BootMode       int    // the banner's boot:0x.. value, -1 when none was seen
	DownloadMode   bool   // the banner said "waiting for download"
	SecureDownload bool   // the banner said the ROM is in secure download mode
	Stub           bool   // a flasher stub answered (SYNC value 0)
	Attempts       int    // attempts used
	Reset          string // the strategy that worked
}

var bootRe = regexp.MustCompile(`(?s)boot:(0x[0-9a-fA-F]+)(.*waiting for download)?`)

// syncTries is how many SYNCs one connect attempt sends, 50 ms apart.
const syncTries = 5

// bannerQuiet and bannerMax bound the read of the boot banner after a
// reset: it ends after a quiet gap, or at the cap if the chip keeps talking
// (an app booted from flash).
const (
	bannerQuiet = 30 * time.Millisecond
	bannerMax   = 300 * time.Millisecond
	bannerKeep  = 4096
)

// resets returns the strategies Connect cycles through.
func (c *Client) resets() []Reset {
	switch c.opt.Before {
	case ResetUSB:
		return []Reset{USBJTAG()}
	case ResetNone, ResetNoneNoSync:
		return []Reset{NoReset()}
	}
	if len(c.opt.Resets) > 0 {
		return c.opt.Resets
	}
	k := PortKind{Windows: runtime.GOOS == "windows", USBPID: c.opt.USBPID}
	if n, ok := c.port.(portio.Named); ok {
		k.RFC2217 = strings.HasPrefix(n.Name(), "rfc2217://")
		k.Socket = strings.HasPrefix(n.Name(), "socket://")
	}
	if cl, ok := c.port.(interface{ ControlLines() bool }); ok && !cl.ControlLines() {
		k.Socket = true // no DTR/RTS at all: a reset is impossible
	}
	return DefaultResets(k)
}

// Connect resets the chip into its serial loader and synchronises with it,
// over up to Options.ConnectAttempts attempts. Each attempt runs the next
// reset strategy, keeps what the chip printed, and sends up to five SYNCs.
// When every attempt fails the error is a *WrongBootModeError when the banner
// shows a non-download boot, ErrTXPathDown when it shows download mode, or
// ErrNoSync; all match errors.Is(err, ErrNoSync).
func (c *Client) Connect(ctx context.Context) (ConnectInfo, error) {
	info := ConnectInfo{BootMode: -1}
	if c.opt.Before == ResetNoneNoSync {
		return info, nil
	}
	attempts := c.opt.ConnectAttempts
	if attempts <= 0 {
		attempts = 7
	}
	strategies := c.resets()
	var last error
	for i := 0; i < attempts; i++ {
		rs := strategies[i%len(strategies)]
		info.Attempts, info.Reset = i+1, rs.Name
		err := c.connectAttempt(ctx, rs, &info)
		if err == nil {
			c.logf("connected after %d attempt(s) with %s reset (%s)", i+1, rs.Name, loaderName(c.stub))
			return info, nil
		}
		if fatal(err) {
			return info, fmt.Errorf("connect: %w", err)
		}
		c.logf("connect attempt %d (%s): %v", i+1, rs.Name, err)
		// Keep the most telling failure: a banner that showed the wrong boot
		// mode on any attempt says more than a later attempt's silence.
		if last == nil || connectRank(err) >= connectRank(last) {
			last = err
		}
	}
	return info, fmt.Errorf("connect after %d attempts: %w", attempts, last)
}

// connectRank orders connect failures by how much they tell the operator.
func connectRank(err error) int {
	var wb *WrongBootModeError
	switch {
	case errors.As(err, &wb):
		return 2
	case errors.Is(err, ErrTXPathDown):
		return 1
	}
	return 0
}

func loaderName(stub bool) string {
	if stub {
		return "flasher stub"
	}
	return "ROM loader"
}

func (c *Client) connectAttempt(ctx context.Context, rs Reset, info *ConnectInfo) error {
	if len(rs.Steps) > 0 {
		if err := c.flushInput(); err != nil {
			return err
		}
		if err := rs.Run(ctx, c.port, c.opt.Sleep); err != nil {
			if fatal(err) {
				return err
			}
			// A port without control lines (a pty, some adapters) still syncs
			// when the chip is already in download mode, as esptool finds.
			c.logf("warning: chip was not reset: %v", err)
		}
		banner, err := c.readBanner(ctx)
		if err != nil {
			return err
		}
		parseBanner(banner, info)
	}
	var err error
	for try := 0; try < syncTries; try++ {
		if try > 0 {
			if err := c.sleep(ctx, 50*time.Millisecond); err != nil {
				return err
			}
		}
		if err = c.Sync(ctx); err == nil {
			info.Stub = c.stub
			return nil
		}
		if fatal(err) {
			return err
		}
	}
	switch {
	case info.BootMode >= 0 && info.DownloadMode:
		return fmt.Errorf("%w (last: %v)", ErrTXPathDown, err)
	case info.BootMode >= 0:
		return &WrongBootModeError{Boot: uint32(info.BootMode), Banner: info.Banner}
	}
	return fmt.Errorf("%w (last: %v)", ErrNoSync, err)
}

// readBanner collects what the chip prints after a reset until it falls
// quiet. Bytes go around the SLIP decoder: a banner is not a frame.
func (c *Client) readBanner(ctx context.Context) ([]byte, error) {
	if err := c.setReadTimeout(bannerQuiet); err != nil {
		return nil, fmt.Errorf("read boot banner: %w", err)
	}
	var got []byte
	end := time.Now().Add(bannerMax)
	for time.Now().Before(end) {
		if err := ctx.Err(); err != nil {
			return got, ctxErr(err)
		}
		n, err := c.port.Read(c.rbuf)
		got = append(got, c.rbuf[:n]...)
		if len(got) > bannerKeep {
			got = got[len(got)-bannerKeep:]
		}
		if errors.Is(err, ErrTimeout) {
			break
		}
		if err != nil {
			return got, fmt.Errorf("read boot banner: %w", err)
		}
	}
	return got, nil
}

// parseBanner records the boot mode and download state the ROM printed.
func parseBanner(b []byte, info *ConnectInfo) {
	info.Banner = string(bytes.ToValidUTF8(b, []byte("?")))
	info.BootMode, info.DownloadMode = -1, false
	m := bootRe.FindSubmatch(b)
	if m == nil {
		return
	}
	if v, err := strconv.ParseUint(string(m[1][2:]), 16, 32); err == nil {
		info.BootMode = int(v)
	}
	info.DownloadMode = len(m[2]) > 0
	info.SecureDownload = bytes.Contains(b, []byte("secure mode"))
}

// Sync sends one SYNC and drains the chip's eight identical replies. A reply
// value of 0 means a flasher stub is running rather than the ROM.
func (c *Client) Sync(ctx context.Context) error {
	if err := c.flushInput(); err != nil {
		return err
	}
	if err := c.send(rom.OpSync, 0, rom.SyncData); err != nil {
		return err
	}
	r, err := c.receive(ctx, rom.OpSync, c.to.Sync)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	stub := r.Value == 0
	got := 1
	// The other seven were sent at once; give them one more SYNC timeout.
	deadline := time.Now().Add(c.to.Sync)
	for ; got < rom.SyncReplies; got++ {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		r, err := c.receive(ctx, rom.OpSync, left)
		if err != nil {
			if fatal(err) {
				return fmt.Errorf("sync: %w", err)
			}
			break
		}
		stub = stub && r.Value == 0
	}
	if got < rom.SyncReplies {
		c.logf("sync: %d of %d replies", got, rom.SyncReplies)
	}
	c.stub = stub
	return nil
}
