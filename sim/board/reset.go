package board

import (
	"errors"
	"time"
)

var errBadBaud = errors.New("baud rate must be positive")

// The auto-reset circuit of ESP32 dev boards: two NPN transistors
// cross-wired between DTR and RTS. EN is pulled low only when RTS is
// asserted and DTR is not; GPIO0 only when DTR is asserted and RTS is not;
// with both or neither asserted both float high.
func enLevel(dtr, rts bool) bool    { return !(rts && !dtr) }
func gpio0Level(dtr, rts bool) bool { return !(dtr && !rts) }

// setLinesLocked applies new DTR/RTS levels from the host.
func (b *Board) setLinesLocked(dtr, rts bool, now time.Time) {
	b.dtr, b.rts = dtr, rts
	if b.bridge.USB {
		b.usbLinesLocked(dtr, rts)
		return
	}
	en, io0 := enLevel(dtr, rts), gpio0Level(dtr, rts)
	if b.faults.BootMode {
		io0 = true // GPIO0 not wired to the circuit: its pull-up wins
	}
	switch {
	case !en && b.enHigh:
		// EN pulled low: the chip is held in reset.
		b.enHigh = false
		b.cancelPendingLocked()
		b.stopChipLocked()
		b.mode = modeReset
		b.dropUnsentLocked(b.now())
		b.signalLocked()
	case en && !b.enHigh:
		// EN released: it rises through the RC network, and the strapping
		// pins are latched when it crosses the threshold.
		b.enHigh = true
		b.pending = true
		b.pendingID++
		b.riseAt = now
		b.io0Hist = []io0Event{{now, io0}}
		id := b.pendingID
		b.enTimer = time.AfterFunc(b.cfg.ENDelay, func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.pending && b.pendingID == id && !b.closed {
				b.resolveResetLocked(time.Now())
			}
		})
	case en && b.pending:
		b.io0Hist = append(b.io0Hist, io0Event{now, io0})
	}
}

func (b *Board) cancelPendingLocked() {
	b.pending = false
	if b.enTimer != nil {
		b.enTimer.Stop()
		b.enTimer = nil
	}
}

// resolveResetLocked latches GPIO0 if EN has risen and the host is now
// doing something else (writing) or the RC delay has passed, and starts
// the chip in the mode GPIO0 selects.
func (b *Board) resolveResetLocked(now time.Time) {
	if !b.pending {
		return
	}
	sampleAt := b.riseAt.Add(b.cfg.ENDelay)
	if now.Before(sampleAt) {
		sampleAt = now
	}
	high := b.io0Hist[0].high
	for _, e := range b.io0Hist {
		if !e.at.After(sampleAt) {
			high = e.high
		}
	}
	b.cancelPendingLocked()
	b.resetLocked(resetPowerOn, !high, b.now())
}

// resetLocked restarts the chip: the ROM prints its banner and either
// waits for the host (download) or boots from flash.
func (b *Board) resetLocked(cause resetCause, download bool, now time.Time) {
	b.stopChipLocked()
	b.gen++
	b.starts++
	b.dropUnsentLocked(now)
	b.busy = now
	b.setChipBaudLocked(115200, false)
	b.clkdiv = b.p.bootClkdiv
	b.autobaud = false
	if download {
		b.strap = b.p.strapDL
		b.mode = modeROM
		b.rom = newLoader(b.p)
		if b.cfg.LenientFlashSize {
			b.rom.spiSize = b.flash.size
		}
		b.emitLocked(now, []byte(b.p.banner(cause, true)))
	} else {
		b.strap = b.p.strapFlash
		b.emitLocked(now, []byte(b.p.banner(cause, false)))
		b.bootFromFlashLocked(now)
	}
	b.signalLocked()
}

// stopChipLocked halts whatever the chip was doing.
func (b *Board) stopChipLocked() {
	if b.app != nil {
		b.app.stop()
		b.app = nil
	}
	if b.rom != nil {
		b.rom.abort()
		b.rom = nil
	}
	b.chipQ = nil
	if b.rxTimer != nil {
		b.rxTimer.Stop()
		b.rxTimer = nil
	}
	b.mode = modeReset
}

// setChipBaudLocked reprograms UART0. locked marks a rate found by autobaud.
func (b *Board) setChipBaudLocked(baud int, locked bool) {
	b.chipBaud = baud
	b.autobaud = locked
	div := float64(40_000_000) / float64(baud)
	integer := uint32(div)
	frag := uint32((div - float64(integer)) * 16)
	b.clkdiv = frag<<20 | integer
}

// hostActivityLocked counts host bytes for the byte- and time-triggered
// faults (unplug, brown-out).
func (b *Board) hostActivityLocked(n int) {
	b.hostBytes += int64(n)
	f := &b.faults
	if !b.firstTx {
		b.firstTx = true
		if f.UnplugAfter > 0 {
			b.faultTmrs = append(b.faultTmrs, time.AfterFunc(f.UnplugAfter, func() {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.unplugLocked()
			}))
		}
		if f.BrownoutAfter > 0 {
			b.faultTmrs = append(b.faultTmrs, time.AfterFunc(f.BrownoutAfter, func() {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.brownoutLocked()
			}))
		}
	}
	if f.UnplugAfterBytes > 0 && b.hostBytes >= f.UnplugAfterBytes {
		b.unplugLocked()
	}
	if f.BrownoutAfterBytes > 0 && b.hostBytes >= f.BrownoutAfterBytes {
		b.brownoutLocked()
	}
}

// unplugLocked pulls the cable: the bridge vanishes and, USB-powered, the
// chip with it.
func (b *Board) unplugLocked() {
	if b.unplugged || b.closed {
		return
	}
	b.unplugged = true
	b.cancelPendingLocked()
	b.stopChipLocked()
	b.hostBuf, b.hostQ = nil, nil
	b.signalLocked()
}

// brownoutLocked resets the chip once as the brown-out detector would.
func (b *Board) brownoutLocked() {
	if b.brownDone || b.closed || b.unplugged {
		return
	}
	b.brownDone = true
	now := b.now()
	if b.mode == modeApp {
		b.emitLocked(now, []byte("\r\nBrownout detector was triggered\r\n\r\n"))
	}
	if !b.enHigh {
		return // held in reset anyway
	}
	b.cancelPendingLocked()
	b.resetLocked(resetBrownout, !gpio0Level(b.dtr, b.rts) && !b.faults.BootMode, now)
}

// PressReset is a person pressing the board's EN button, holding BOOT
// (GPIO0) down if download is set: the chip restarts in that mode whatever
// the host's DTR/RTS say. A pty-served board, whose host cannot drive the
// lines, starts in download mode this way.
func (b *Board) PressReset(download bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.unplugged {
		return
	}
	b.cancelPendingLocked()
	b.enHigh = true
	b.resetLocked(resetPowerOn, download && !b.faults.BootMode, b.now())
}

// usbLinesLocked is the C3/S3 USB-Serial/JTAG peripheral's view of the CDC
// control lines: RTS asserted without DTR holds the chip in reset, and a
// reset entered after both lines were asserted together comes out in
// download mode (esptool's USB-JTAG sequence goes (1,0), (1,1), (0,1),
// (0,0)); a plain RTS pulse restarts it from flash.
func (b *Board) usbLinesLocked(dtr, rts bool) {
	if dtr && rts {
		b.usbArmed = true
	}
	inReset := rts && !dtr
	switch {
	case inReset && b.enHigh:
		b.enHigh = false
		b.stopChipLocked()
		b.mode = modeReset
		b.dropUnsentLocked(b.now())
		b.signalLocked()
	case !inReset && !b.enHigh:
		b.enHigh = true
		download := b.usbArmed && !b.faults.BootMode
		b.usbArmed = false
		b.resetLocked(resetUSB, download, b.now())
	case !dtr && !rts && b.enHigh:
		b.usbArmed = false
	}
}
