package board

import (
	"fmt"
	"time"

	"fleetline/flasher/portio"
)

// Port is a host's handle on a board's USB-UART bridge: what a tty open on
// /dev/ttyUSB0 would be. Writes go to the chip's RX, the chip's TX comes out
// of Read, DTR and RTS drive EN and GPIO0 through the auto-reset circuit.
// It implements portio.Port, portio.LineSetter and portio.Named.
type Port struct {
	b       *Board
	timeout time.Duration
	closed  bool
}

var (
	_ portio.Port       = (*Port)(nil)
	_ portio.LineSetter = (*Port)(nil)
	_ portio.Named      = (*Port)(nil)
)

// Open attaches a host to the board. Only one host at a time: a second Open
// fails with ErrBusy until the first is closed. An unplugged board fails
// with portio.ErrClosed. The line starts at 115200 baud with DTR and RTS
// released.
func (b *Board) Open() (*Port, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.unplugged {
		return nil, fmt.Errorf("board %d: open: %w", b.cfg.Index, portio.ErrClosed)
	}
	if b.open != nil {
		return nil, fmt.Errorf("board %d: %w", b.cfg.Index, ErrBusy)
	}
	p := &Port{b: b, timeout: time.Second}
	b.open = p
	b.hostBaud = 115200
	b.hostBuf, b.hostQ = nil, nil
	return p, nil
}

// Name implements portio.Named.
func (p *Port) Name() string { return fmt.Sprintf("sim:%s/%d", p.b.p.name, p.b.cfg.Index) }

func (p *Port) checkLocked() error {
	if p.closed || p.b.closed || p.b.unplugged {
		return portio.ErrClosed
	}
	return nil
}

// Read implements portio.Port.
func (p *Port) Read(buf []byte) (int, error) {
	b := p.b
	b.mu.Lock()
	deadline := time.Now().Add(p.timeout)
	for {
		if err := p.checkLocked(); err != nil {
			b.mu.Unlock()
			return 0, err
		}
		now := time.Now()
		b.materializeLocked(now)
		if len(b.hostBuf) > 0 {
			n := copy(buf, b.hostBuf)
			b.hostBuf = b.hostBuf[n:]
			if len(b.hostBuf) == 0 {
				b.hostBuf = nil
			}
			b.mu.Unlock()
			return n, nil
		}
		wait := deadline.Sub(now)
		if len(b.hostQ) > 0 {
			wait = min(wait, b.hostQ[0].at.Sub(now))
		}
		if wait <= 0 && !now.Before(deadline) {
			b.mu.Unlock()
			return 0, portio.ErrTimeout
		}
		ch := b.wake
		b.mu.Unlock()
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ch:
			case <-t.C:
			}
			t.Stop()
		}
		b.mu.Lock()
	}
}

// Write implements portio.Port.
func (p *Port) Write(data []byte) (int, error) {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := p.checkLocked(); err != nil {
		return 0, err
	}
	b.resolveResetLocked(time.Now())
	b.hostActivityLocked(len(data))
	if b.unplugged {
		return 0, portio.ErrClosed
	}
	b.sendToChipLocked(data)
	return len(data), nil
}

// SetDTR implements portio.Port.
func (p *Port) SetDTR(v bool) error { return p.setLines(&v, nil) }

// SetRTS implements portio.Port.
func (p *Port) SetRTS(v bool) error { return p.setLines(nil, &v) }

// SetLines implements portio.LineSetter: both lines change at once.
func (p *Port) SetLines(dtr, rts bool) error { return p.setLines(&dtr, &rts) }

// setLines changes the lines given and keeps the other one, read under the
// same lock so a concurrent change to it is not undone.
func (p *Port) setLines(dtr, rts *bool) error {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := p.checkLocked(); err != nil {
		return err
	}
	d, r := b.dtr, b.rts
	if dtr != nil {
		d = *dtr
	}
	if rts != nil {
		r = *rts
	}
	b.setLinesLocked(d, r, time.Now())
	return nil
}

// SetBaud implements portio.Port. Chip output that has already arrived is
// decoded at the old rate first.
func (p *Port) SetBaud(baud int) error {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := p.checkLocked(); err != nil {
		return err
	}
	if baud <= 0 {
		return fmt.Errorf("board %d: baud %d: %w", b.cfg.Index, baud, errBadBaud)
	}
	b.materializeLocked(time.Now())
	b.hostBaud = baud
	return nil
}

// SetReadTimeout implements portio.Port.
func (p *Port) SetReadTimeout(d time.Duration) error {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	p.timeout = d
	return nil
}

// Flush implements portio.Port: input received and not yet read is dropped.
func (p *Port) Flush() error {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := p.checkLocked(); err != nil {
		return err
	}
	b.materializeLocked(time.Now())
	b.hostBuf = nil
	return nil
}

// Close implements portio.Port. Like closing a tty, it releases DTR and RTS
// (which resets the chip if RTS was holding EN low).
func (p *Port) Close() error {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if b.open == p {
		if !b.closed && !b.unplugged {
			b.setLinesLocked(false, false, time.Now())
		}
		b.open = nil
		b.hostBuf, b.hostQ = nil, nil
	}
	b.signalLocked()
	return nil
}
