package portio

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Receiver is what ports fed by a goroutine of their own share on the
// reading side: the Inbox, Read's timeout, and the close state that ends a
// Read in progress. It keeps each such port from re-deriving the same
// lifecycle. The zero value is not ready; use NewReceiver.
type Receiver struct {
	in      *Inbox
	name    string
	timeout atomic.Int64 // a time.Duration
	once    sync.Once
	closed  chan struct{}
}

// NewReceiver returns an open Receiver reading in with the given initial
// read timeout. name prefixes the ErrClosed it returns after Close; empty
// leaves ErrClosed bare.
func NewReceiver(in *Inbox, name string, timeout time.Duration) *Receiver {
	r := &Receiver{in: in, name: name, closed: make(chan struct{})}
	r.timeout.Store(int64(timeout))
	return r
}

// Read implements Port.Read on the Inbox: ErrTimeout after the read
// timeout, the Inbox's Fail error once drained, ClosedErr after Close.
func (r *Receiver) Read(p []byte) (int, error) {
	n, err := r.in.ReadTimeout(p, time.Duration(r.timeout.Load()), r.closed)
	if err == ErrClosed {
		err = r.ClosedErr()
	}
	return n, err
}

// SetReadTimeout implements Port.SetReadTimeout. Zero makes Read return at
// once when nothing is buffered; a negative duration waits without limit.
func (r *Receiver) SetReadTimeout(d time.Duration) error {
	r.timeout.Store(int64(d))
	return nil
}

// Close marks the receiver closed, ends any Read in progress, then runs
// release (if not nil); only the first call does anything.
func (r *Receiver) Close(release func()) {
	r.once.Do(func() {
		close(r.closed)
		if release != nil {
			release()
		}
	})
}

// IsClosed reports whether Close has been called.
func (r *Receiver) IsClosed() bool {
	select {
	case <-r.closed:
		return true
	default:
		return false
	}
}

// Closed returns a channel that is closed by Close, for selects.
func (r *Receiver) Closed() <-chan struct{} { return r.closed }

// ClosedErr is the error of a call after Close: ErrClosed, prefixed with
// the port's name when it has one.
func (r *Receiver) ClosedErr() error {
	if r.name == "" {
		return ErrClosed
	}
	return fmt.Errorf("%s: %w", r.name, ErrClosed)
}
