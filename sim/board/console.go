package board

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// consoleRxMax bounds what the app's UART driver buffers unread; more is
// dropped, as a full RX ring buffer drops.
const consoleRxMax = 8 << 10

// appRun is one run of the app from flash, ended by the next reset.
type appRun struct {
	b      *Board
	gen    int
	ctx    context.Context
	cancel context.CancelFunc
	rx     []byte
	// The board's identity and flash when the run began: after a Swap the
	// old run, until it returns, keeps the board it was running on.
	id    Identity
	flash *nor
}

// startAppLocked runs cfg.App in its own goroutine with a Device whose
// console is UART0 at 115200.
func (b *Board) startAppLocked() {
	b.mode = modeApp
	ctx, cancel := context.WithCancel(context.Background())
	a := &appRun{b: b, gen: b.gen, ctx: ctx, cancel: cancel, id: b.id, flash: b.flash}
	b.app = a
	if b.cfg.App == nil {
		return
	}
	go func() {
		err := b.cfg.App.Run(ctx, a)
		b.mu.Lock()
		defer b.mu.Unlock()
		if err != nil && ctx.Err() == nil && b.app == a {
			msg := fmt.Sprintf("\r\nabort() was called: %v\r\n\r\nGuru Meditation Error: Core  0 panic'ed (abort)\r\n", err)
			b.emitLocked(b.now(), []byte(msg))
			b.app.stop()
			b.app = nil
			b.mode = modeHalted
		}
	}()
}

func (a *appRun) stop() { a.cancel() }

func (a *appRun) receiveLocked(data []byte) {
	if len(a.rx)+len(data) > consoleRxMax {
		data = data[:max(0, consoleRxMax-len(a.rx))]
	}
	a.rx = append(a.rx, data...)
	a.b.signalLocked()
}

// Console implements Device.
func (a *appRun) Console() io.ReadWriter { return appConsole{a} }

// Flash implements Device.
func (a *appRun) Flash() Flash { return a.flash }

// Identity implements Device.
func (a *appRun) Identity() Identity { return a.id }

// Restart implements Device: esp_restart, a CPU reset that boots from
// flash again.
func (a *appRun) Restart() {
	b := a.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.app != a || a.ctx.Err() != nil {
		return
	}
	b.resetLocked(resetCPU, false, b.now())
}

type appConsole struct{ a *appRun }

// errAppStopped is what console writes return once the app must stop.
var errAppStopped = errors.New("board: app stopped (reset or power off)")

func (c appConsole) Read(p []byte) (int, error) {
	a := c.a
	b := a.b
	b.mu.Lock()
	for {
		if a.ctx.Err() != nil {
			b.mu.Unlock()
			return 0, io.EOF
		}
		if len(a.rx) > 0 {
			n := copy(p, a.rx)
			a.rx = a.rx[n:]
			b.mu.Unlock()
			return n, nil
		}
		ch := b.wake
		b.mu.Unlock()
		select {
		case <-ch:
		case <-a.ctx.Done():
		}
		b.mu.Lock()
	}
}

// Write sends p out of UART0. With realistic timing it blocks, as a UART
// driver does, while more than a FIFO's worth is still waiting to go out.
func (c appConsole) Write(p []byte) (int, error) {
	a := c.a
	b := a.b
	b.mu.Lock()
	if a.ctx.Err() != nil {
		b.mu.Unlock()
		return 0, errAppStopped
	}
	b.emitLocked(b.now(), p)
	var wait time.Duration
	if b.costs.realistic {
		wait = time.Until(b.txFree) - b.costs.bytes(128, b.chipBaud)
	}
	b.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-a.ctx.Done():
			return 0, errAppStopped
		}
	}
	return len(p), nil
}
