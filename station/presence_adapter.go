package station

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"fleetline/flasher/portio"
)

// watchPoll is how often a watch looks at its context between reads.
const watchPoll = 200 * time.Millisecond

// romBanner is how every ESP32-family ROM begins its boot report
// ("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)" on the ESP32,
// "rst:0x1 (POWERON),boot:0xc (...)" on the C3 and S3), printed at 115200
// whatever the strapping pins select.
var romBanner = []byte("rst:0x")

// Reset causes that can mean another board: power-on (a board pushed onto
// the fixture's pins, or EN pressed) and brown-out (a board meeting powered
// pins can dip on the way). A finished board's own deep-sleep wake,
// watchdog or software restart leaves it the board it was.
const (
	resetPowerOn  = 0x1
	resetBrownout = 0xf
)

// bootScan finds power-on banners in a stream of console bytes split
// anywhere.
type bootScan struct{ pending []byte }

// feed adds p and reports whether a power-on or brown-out banner is in
// what has come so far.
func (b *bootScan) feed(p []byte) bool {
	b.pending = append(b.pending, p...)
	for {
		i := bytes.Index(b.pending, romBanner)
		if i < 0 {
			// Keep what could be the start of a banner split off here.
			b.pending = b.pending[max(0, len(b.pending)-(len(romBanner)-1)):]
			return false
		}
		rest := b.pending[i+len(romBanner):]
		n := 0
		for n < len(rest) && n < 3 && isHex(rest[n]) {
			n++
		}
		if n == len(rest) && n < 3 {
			b.pending = b.pending[i:] // the code goes on in the next read
			return false
		}
		code, err := strconv.ParseUint(string(rest[:n]), 16, 8)
		if err == nil && (code == resetPowerOn || code == resetBrownout) {
			b.pending = nil
			return true
		}
		b.pending = rest[n:]
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// watchOpenTimeout bounds one open of a watched port: an RFC 2217 host
// that stopped answering counts as a failure, not as a watch for ever.
const watchOpenTimeout = 10 * time.Second

// reopenGrace: a port that fails just after its last user closed it may
// only be busy (an RFC 2217 server still ending the last session refuses
// the next); it counts as gone only when it fails again after this pause.
const reopenGrace = 250 * time.Millisecond

// Watch implements Watcher: it opens the slot's port at the ROM's baud
// without touching DTR or RTS (opening leaves both released, the board's
// run state) and reads until a ROM boot banner or the port's end. After a
// banner the port stays open for the slot's next Connect, so no other
// client (or a server still closing this session) can come between.
func (fc *FlasherConnector) Watch(ctx context.Context, slot Slot, watching func()) error {
	open := fc.Open
	if open == nil {
		open = OpenPort
	}
	announced := false
	failures := 0
	for {
		var opened time.Time
		octx, cancel := context.WithTimeout(ctx, watchOpenTimeout)
		port, err := open(octx, slot.Address, 115200)
		cancel()
		if err == nil {
			opened = time.Now()
			if err = port.SetReadTimeout(watchPoll); err != nil {
				port.Close()
				return fmt.Errorf("watch %s: set read timeout: %w", slot.Address, err)
			}
			if !announced {
				watching()
				announced = true
			}
			if err = watchPort(ctx, port, slot.Address); err == nil {
				fc.hold(slot.Address, port)
				return nil
			}
			port.Close()
			if !errors.Is(err, ErrNoBoard) {
				return err
			}
		} else {
			err = fmt.Errorf("watch %s: %w: %w", slot.Address, ErrNoBoard, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !opened.IsZero() && time.Since(opened) > 4*reopenGrace {
			failures = 0 // it was watched a while: this failure is a new one
		}
		if failures++; failures >= 2 {
			return err
		}
		t := time.NewTimer(reopenGrace)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// hold keeps a watched port open for the slot's next Connect (held by
// address: two slot names for one port would share it).
func (fc *FlasherConnector) hold(address string, port portio.Port) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if old := fc.held[address]; old != nil {
		old.Close()
	}
	if fc.held == nil {
		fc.held = map[string]portio.Port{}
	}
	fc.held[address] = port
}

// takeHeld returns the port a watch left open for address, if any.
func (fc *FlasherConnector) takeHeld(address string) portio.Port {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	p := fc.held[address]
	delete(fc.held, address)
	return p
}

// watchPort reads port until a power-on banner shows (nil), the port
// fails (ErrNoBoard) or ctx ends. The app's own output, and banners of the
// board restarting itself, are ignored.
func watchPort(ctx context.Context, port portio.Port, address string) error {
	buf := make([]byte, 512)
	var scan bootScan
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := port.Read(buf)
		if n > 0 && scan.feed(buf[:n]) {
			return nil
		}
		switch {
		case err == nil, errors.Is(err, portio.ErrTimeout):
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			return fmt.Errorf("watch %s: the port went away: %w: %w", address, ErrNoBoard, err)
		}
	}
}
