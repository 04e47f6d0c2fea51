package portio

import (
	"sync"
	"time"
)

// Inbox buffers the bytes a receiving goroutine reads from a socket or port
// until a Port's Read takes them, with Read's timeout and ErrClosed rules.
// The receiver blocks in its own read, so an idle port costs nothing (no
// polling), and Flush can drop input without a timed read. The zero value
// is not ready; use NewInbox.
type Inbox struct {
	mu    sync.Mutex
	buf   []byte // unread bytes are buf[off:]
	off   int
	err   error         // set once the receiver has stopped
	ready chan struct{} // capacity 1: something changed
	limit int           // 0: unbounded; else the oldest bytes are dropped
}

// NewInbox returns an empty Inbox. A positive limit bounds what it keeps:
// when more is pushed than limit bytes unread, the oldest are dropped, as a
// UART's receive FIFO loses what nobody reads.
func NewInbox(limit int) *Inbox {
	if limit < 0 {
		limit = 0
	}
	return &Inbox{ready: make(chan struct{}, 1), limit: limit}
}

func (b *Inbox) signal() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// Push appends a copy of p and wakes a waiting reader.
func (b *Inbox) Push(p []byte) {
	b.mu.Lock()
	if b.off > 0 && b.off >= len(b.buf)/2 {
		b.buf = b.buf[:copy(b.buf, b.buf[b.off:])]
		b.off = 0
	}
	b.buf = append(b.buf, p...)
	if b.limit > 0 && len(b.buf)-b.off > b.limit {
		b.off = len(b.buf) - b.limit
	}
	b.mu.Unlock()
	b.signal()
}

// Fail records why no more bytes will come; the first error wins. Bytes
// already buffered stay readable, then Read returns err.
func (b *Inbox) Fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	b.signal()
}

// Err returns the error given to Fail, or nil while the receiver runs.
func (b *Inbox) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Drop discards everything buffered (a Port's Flush).
func (b *Inbox) Drop() {
	b.mu.Lock()
	b.buf, b.off = b.buf[:0], 0
	b.mu.Unlock()
}

// Buffered returns how many bytes are waiting to be read.
func (b *Inbox) Buffered() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buf) - b.off
}

// ReadTimeout copies buffered bytes into p, waiting up to timeout for the
// first one (zero: not at all; negative: without limit). It returns
// ErrTimeout when none came, the Fail error once the buffer is drained, or
// ErrClosed as soon as cancel is closed. An empty p returns (0, nil).
func (b *Inbox) ReadTimeout(p []byte, timeout time.Duration, cancel <-chan struct{}) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var timer *time.Timer
	var expired <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		b.mu.Lock()
		if len(b.buf) > b.off {
			n := copy(p, b.buf[b.off:])
			b.off += n
			if b.off == len(b.buf) {
				b.buf, b.off = b.buf[:0], 0
			}
			b.mu.Unlock()
			return n, nil
		}
		err := b.err
		b.mu.Unlock()
		if err != nil {
			b.signal() // let another waiting reader see it too
			return 0, err
		}
		if timeout == 0 {
			return 0, ErrTimeout
		}
		if timer == nil && timeout > 0 {
			timer = time.NewTimer(timeout)
			expired = timer.C
		}
		select {
		case <-b.ready:
		case <-expired:
			return 0, ErrTimeout
		case <-cancel:
			return 0, ErrClosed
		}
	}
}
