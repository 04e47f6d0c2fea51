package rfc2217

import (
	"sync"
	"time"

	"fleetline/flasher/portio"
)

// inbox buffers bytes that a goroutine receives until a reader takes them,
// with a read timeout. The receiving goroutine blocks in its own Read (on a
// socket or port), so an idle inbox costs nothing: no polling.
type inbox struct {
	mu    sync.Mutex
	buf   []byte // unread bytes are buf[off:]
	off   int
	err   error         // set once the producer has stopped
	ready chan struct{} // capacity 1: "something changed"
	limit int           // 0 = unbounded; else oldest bytes are dropped
}

func newInbox(limit int) *inbox {
	return &inbox{ready: make(chan struct{}, 1), limit: limit}
}

func (b *inbox) signal() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// push appends p (copied).
func (b *inbox) push(p []byte) {
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

// fail records why no more bytes will come; buffered bytes stay readable.
func (b *inbox) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	b.signal()
}

// drop discards everything buffered.
func (b *inbox) drop() {
	b.mu.Lock()
	b.buf, b.off = b.buf[:0], 0
	b.mu.Unlock()
}

// read copies buffered bytes into p, waiting up to timeout for the first one
// (negative: no limit). It returns portio.ErrTimeout when none came, the
// fail error once drained, or portio.ErrClosed when cancel is closed.
func (b *inbox) read(p []byte, timeout time.Duration, cancel <-chan struct{}) (int, error) {
	var timer *time.Timer
	var expired <-chan time.Time
	for {
		b.mu.Lock()
		if len(b.buf) > b.off {
			n := copy(p, b.buf[b.off:])
			b.off += n
			if b.off == len(b.buf) {
				b.buf, b.off = b.buf[:0], 0
			}
			b.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return n, nil
		}
		err := b.err
		b.mu.Unlock()
		if err != nil {
			b.signal() // let another waiting reader see it too
			return 0, err
		}
		if timeout == 0 {
			return 0, portio.ErrTimeout
		}
		if timer == nil && timeout > 0 {
			timer = time.NewTimer(timeout)
			expired = timer.C
		}
		select {
		case <-b.ready:
		case <-expired:
			return 0, portio.ErrTimeout
		case <-cancel:
			if timer != nil {
				timer.Stop()
			}
			return 0, portio.ErrClosed
		}
	}
}
