package rfc2217

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"fleetline/flasher/portio"
)

// reuseBuffer bounds what a reused port keeps while no client reads: the
// newest 64 KiB, a few seconds of a chatty console.
const reuseBuffer = 64 << 10

// ErrBusy is returned by a Reuse opener while an earlier session's port is
// still open.
var ErrBusy = errors.New("port is in use by another session")

// Reuse returns an opener for Server.Open that lends p to one session at a
// time, for a port that outlives client connections (a virtual board that
// keeps running between clients). Closing the lent port detaches the
// session and leaves p open.
//
// One goroutine reads p for as long as p is open, blocked in Read with a
// long timeout, so that a session can end at once without a Read of p in
// flight. Bytes that arrive while no client is connected are kept (the
// newest 64 KiB) until a client reads them or flushes.
func Reuse(p portio.Port) func() (portio.Port, error) {
	sh := &shared{p: p, in: portio.NewInbox(reuseBuffer)}
	go sh.pump()
	return sh.lend
}

type shared struct {
	p  portio.Port
	in *portio.Inbox
	mu sync.Mutex
	on *lent // the current session's port, if open
	// flushes counts Flush calls, changed with mu held, so that bytes
	// the pump read before a flush are not kept after it.
	flushes atomic.Uint64
}

func (sh *shared) pump() {
	if err := sh.p.SetReadTimeout(idleReadTimeout); err != nil {
		sh.in.Fail(fmt.Errorf("set read timeout: %w", err))
		return
	}
	buf := make([]byte, 4096)
	for {
		n, err := sh.p.Read(buf)
		gen := sh.flushes.Load()
		if n > 0 {
			sh.mu.Lock()
			if sh.flushes.Load() == gen {
				sh.in.Push(buf[:n])
			}
			sh.mu.Unlock()
		}
		if err != nil && !errors.Is(err, portio.ErrTimeout) {
			sh.in.Fail(err)
			return
		}
	}
}

func (sh *shared) lend() (portio.Port, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.on != nil && !sh.on.isClosed() {
		return nil, ErrBusy
	}
	l := &lent{sh: sh, rx: portio.NewReceiver(sh.in, "", DefaultReadTimeout)}
	sh.on = l
	return l, nil
}

// lent is the view of a reused port that one session holds.
type lent struct {
	sh *shared
	rx *portio.Receiver // this session's read timeout and close state
}

func (l *lent) isClosed() bool { return l.rx.IsClosed() }

func (l *lent) do(f func() error) error {
	if l.isClosed() {
		return portio.ErrClosed
	}
	return f()
}

func (l *lent) Read(p []byte) (int, error) { return l.rx.Read(p) }

func (l *lent) Write(p []byte) (int, error) {
	if l.isClosed() {
		return 0, portio.ErrClosed
	}
	return l.sh.p.Write(p)
}

func (l *lent) SetDTR(v bool) error                  { return l.do(func() error { return l.sh.p.SetDTR(v) }) }
func (l *lent) SetRTS(v bool) error                  { return l.do(func() error { return l.sh.p.SetRTS(v) }) }
func (l *lent) SetBaud(b int) error                  { return l.do(func() error { return l.sh.p.SetBaud(b) }) }
func (l *lent) Close() error                         { l.rx.Close(nil); return nil }
func (l *lent) SetReadTimeout(d time.Duration) error { return l.rx.SetReadTimeout(d) }

func (l *lent) Flush() error {
	return l.do(func() error {
		sh := l.sh
		sh.mu.Lock()
		defer sh.mu.Unlock()
		sh.flushes.Add(1)
		err := sh.p.Flush()
		sh.in.Drop()
		return err
	})
}

// SetLines passes both lines at once when the port can.
func (l *lent) SetLines(dtr, rts bool) error {
	return l.do(func() error {
		if ls, ok := l.sh.p.(portio.LineSetter); ok {
			return ls.SetLines(dtr, rts)
		}
		if err := l.sh.p.SetDTR(dtr); err != nil {
			return err
		}
		return l.sh.p.SetRTS(rts)
	})
}

// Name passes the port's name on.
func (l *lent) Name() string {
	if n, ok := l.sh.p.(portio.Named); ok {
		return n.Name()
	}
	return ""
}
