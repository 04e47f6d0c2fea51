package netport

import (
	"sync"
	"time"

	"fleetline/flasher/portio"
)

// inbox holds bytes the socket-reading goroutine received until Read takes
// them. That goroutine blocks in the socket read, so an idle port costs
// nothing, and Flush can drop input without a timed read.
type inbox struct {
	mu    sync.Mutex
	buf   []byte // unread bytes are buf[off:]
	off   int
	err   error         // set once the socket has ended
	ready chan struct{} // capacity 1: something changed
}

func newInbox() *inbox { return &inbox{ready: make(chan struct{}, 1)} }

func (b *inbox) signal() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

func (b *inbox) push(p []byte) {
	b.mu.Lock()
	if b.off > 0 && b.off >= len(b.buf)/2 {
		b.buf = b.buf[:copy(b.buf, b.buf[b.off:])]
		b.off = 0
	}
	b.buf = append(b.buf, p...)
	b.mu.Unlock()
	b.signal()
}

func (b *inbox) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	b.signal()
}

func (b *inbox) drop() {
	b.mu.Lock()
	b.buf, b.off = b.buf[:0], 0
	b.mu.Unlock()
}

// read waits up to timeout (negative: forever, zero: not at all) for the
// first byte; closed ends the wait with portio.ErrClosed.
func (b *inbox) read(p []byte, timeout time.Duration, closed <-chan struct{}) (int, error) {
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
			b.signal()
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
		case <-closed:
			return 0, portio.ErrClosed
		}
	}
}
