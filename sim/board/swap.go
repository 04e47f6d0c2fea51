package board

import (
	"errors"
	"fmt"
	"os"
	"time"

	"fleetline/flasher/portio"
)

// ErrSwapUSBJTAG is returned by Swap for a board whose port is the chip's
// own USB-Serial/JTAG peripheral: the port leaves with the board, so taking
// it out is an unplug, not a swap.
var ErrSwapUSBJTAG = errors.New("board: cannot swap a board on its own USB-Serial/JTAG port: the port leaves with the board (that is an unplug)")

// Swap is the operator taking the board out of its fixture position and
// putting the next one from the reel in, while the USB-UART bridge (and any
// host with the port open, locally or through an RFC 2217 server) stays.
//
// The new board has the identity deriveIdentity gives the position after one
// more swap (a MAC no board of the seed's line ever had before), erased
// flash and no faults. Everything the old board had in flight is dropped
// with it: its app (cancelled), its ROM loader and any half-received frame
// or open write session, bytes on the wire in either direction (chip output
// already at the host stays in the host's buffer, before anything new),
// the pending EN rise and the fault timers. Then the new board powers on
// with the lines as the host left them: released (or a passive open), its
// ROM prints the power-on banner at 115200 and boots from flash, which,
// erased, prints "invalid header" as a real ROM does; with DTR holding GPIO0
// low it comes up in download mode; with RTS holding EN low it stays in
// reset until the host lets go.
//
// With Config.StateDir the new identity, the swap count and the erased flash
// replace the position's state files, so a restart keeps the board now in
// the position. A board on USB-Serial/JTAG fails with ErrSwapUSBJTAG; a
// closed or unplugged one with portio.ErrClosed.
func (b *Board) Swap() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bridge.USB {
		return fmt.Errorf("board %d: swap: %w", b.cfg.Index, ErrSwapUSBJTAG)
	}
	if b.closed || b.unplugged {
		return fmt.Errorf("board %d: swap: %w", b.cfg.Index, portio.ErrClosed)
	}
	gen := b.swaps + 1
	id, ck8m := deriveIdentity(b.p, b.cfg.Seed, b.cfg.Index, gen, b.cfg.FlashSize)
	fl, err := b.freshFlashLocked(boardState{id: id, ck8m: ck8m, swaps: gen})
	if err != nil {
		return err
	}

	// The old board leaves with everything it was doing.
	now := time.Now()
	b.stopChipLocked()
	b.gen++
	b.cancelPendingLocked()
	for _, t := range b.faultTmrs {
		t.Stop()
	}
	b.faultTmrs = nil
	b.materializeLocked(now) // what already reached the host stays there
	b.hostQ = nil
	b.txFree = time.Time{}
	b.busy = time.Time{}

	// The new board.
	b.swaps = gen
	b.id, b.ck8m, b.flash = id, ck8m, fl
	b.regs = newRegFile(b.p, id, ck8m, fl, false)
	b.faults = Faults{}
	b.costs.slow = 0
	b.hostBytes, b.firstTx = 0, false
	b.stallDone, b.brownDone = false, false
	b.usbArmed = false
	b.io0Hist = nil
	b.starts = 0
	b.powerOnLocked()
	return nil
}

// freshFlashLocked makes the new board's erased flash and, with a state
// directory, detaches the old board's flash from its file and replaces the
// position's state with st.
func (b *Board) freshFlashLocked(st boardState) (*nor, error) {
	size := flashSizeFromID(st.id.FlashID)
	dir := b.cfg.StateDir
	if dir == "" {
		return newNOR(size), nil
	}
	// The erased flash is made beside the position's file and renamed over
	// it only once the new identity is saved: a failure leaves the old
	// board and its files as they were.
	_, path := statePaths(dir, b.cfg.Index)
	tmp := path + ".swap"
	_ = os.Remove(tmp)
	fl, err := openNOR(size, tmp)
	if err != nil {
		return nil, fmt.Errorf("board %d: swap: %w", b.cfg.Index, err)
	}
	fail := func(err error) (*nor, error) {
		fl.close()
		os.Remove(tmp)
		return nil, err
	}
	if err := saveIdentity(dir, b.cfg.Index, st); err != nil {
		return fail(fmt.Errorf("swap: %w", err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(fmt.Errorf("board %d: swap: replace flash state %s: %w", b.cfg.Index, path, err))
	}
	// The old flash keeps working in memory for an app that has not
	// returned yet, but no longer writes to the position's file (whose
	// name now holds the new board's; a failed close of the old one loses
	// nothing).
	_ = b.flash.close()
	return fl, nil
}

// powerOnLocked powers the chip up with the host's DTR/RTS as they are, as
// a board pushed onto powered pogo pins comes up.
func (b *Board) powerOnLocked() {
	en, io0 := enLevel(b.dtr, b.rts), gpio0Level(b.dtr, b.rts)
	if !en {
		// Held in reset: the host's release is the power-on reset.
		b.enHigh = false
		b.mode = modeReset
		b.signalLocked()
		return
	}
	b.enHigh = true
	b.resetLocked(resetPowerOn, !io0, b.now())
}

// Swaps returns how many times the board in this position was swapped for
// the next one (kept in the state directory, if any).
func (b *Board) Swaps() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.swaps
}

// Resets returns how many times the current board has been reset since it
// powered on: every restart of the chip after its power-on start, whatever
// caused it — the host through EN (DTR/RTS auto-reset, counted once from
// the moment EN goes low), the USB-Serial/JTAG peripheral's reset, the EN
// button (PressReset), esp_restart from the app, a brown-out. A chip held
// in reset right now counts that reset already. A jump from the ROM loader
// into flash (FLASH_END "run user code") is not a reset and is not counted;
// opening, reading and closing the port with the lines released do not
// reset the chip. New and Swap start the count at 0.
func (b *Board) Resets() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.starts - 1
	if !b.enHigh || b.pending {
		n++ // in reset (or EN still rising): one more than it has started
	}
	return max(n, 0)
}
