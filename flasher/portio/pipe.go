package portio

import (
	"sync"
	"time"
)

// Pipe returns the two ends of an in-memory serial line. Bytes written to one
// end are read from the other. Control lines and baud set on the host end are
// recorded and can be observed from the device end with Controls or a
// callback, which is how tests check reset sequences.
func Pipe() (host, device *PipeEnd) {
	s := &pipeState{baud: 115200}
	s.cond = sync.NewCond(&s.mu)
	host = &PipeEnd{s: s, host: true, timeout: time.Second}
	device = &PipeEnd{s: s, host: false, timeout: time.Second}
	return host, device
}

type pipeState struct {
	mu       sync.Mutex
	cond     *sync.Cond
	toDevice []byte
	toHost   []byte
	closed   bool
	dtr, rts bool
	baud     int
	controls []Control
	onChange func(Control)
}

// PipeEnd is one end of a Pipe. It implements Port and LineSetter.
type PipeEnd struct {
	s       *pipeState
	host    bool
	timeout time.Duration
}

func (e *PipeEnd) inbox() *[]byte {
	if e.host {
		return &e.s.toHost
	}
	return &e.s.toDevice
}

func (e *PipeEnd) outbox() *[]byte {
	if e.host {
		return &e.s.toDevice
	}
	return &e.s.toHost
}

// Read implements Port.
func (e *PipeEnd) Read(p []byte) (int, error) {
	s := e.s
	s.mu.Lock()
	defer s.mu.Unlock()
	deadline := time.Now().Add(e.timeout)
	in := e.inbox()
	for len(*in) == 0 {
		if s.closed {
			return 0, ErrClosed
		}
		left := time.Until(deadline)
		if left <= 0 {
			return 0, ErrTimeout
		}
		t := time.AfterFunc(left, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
		s.cond.Wait()
		t.Stop()
	}
	n := copy(p, *in)
	*in = (*in)[n:]
	return n, nil
}

// Write implements Port.
func (e *PipeEnd) Write(p []byte) (int, error) {
	s := e.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	out := e.outbox()
	*out = append(*out, p...)
	s.cond.Broadcast()
	return len(p), nil
}

func (e *PipeEnd) control(set func(s *pipeState)) error {
	s := e.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	set(s)
	c := Control{At: time.Now(), DTR: s.dtr, RTS: s.rts, Baud: s.baud}
	s.controls = append(s.controls, c)
	cb := s.onChange
	s.mu.Unlock()
	if cb != nil {
		cb(c)
	}
	return nil
}

// SetDTR implements Port.
func (e *PipeEnd) SetDTR(v bool) error { return e.control(func(s *pipeState) { s.dtr = v }) }

// SetRTS implements Port.
func (e *PipeEnd) SetRTS(v bool) error { return e.control(func(s *pipeState) { s.rts = v }) }

// SetLines implements LineSetter.
func (e *PipeEnd) SetLines(dtr, rts bool) error {
	return e.control(func(s *pipeState) { s.dtr, s.rts = dtr, rts })
}

// SetBaud implements Port.
func (e *PipeEnd) SetBaud(b int) error { return e.control(func(s *pipeState) { s.baud = b }) }

// SetReadTimeout implements Port.
func (e *PipeEnd) SetReadTimeout(d time.Duration) error { e.timeout = d; return nil }

// Flush implements Port.
func (e *PipeEnd) Flush() error {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	*e.inbox() = nil
	return nil
}

// Close implements Port; it closes both ends.
func (e *PipeEnd) Close() error {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	e.s.closed = true
	e.s.cond.Broadcast()
	return nil
}

// Controls returns every control change recorded so far.
func (e *PipeEnd) Controls() []Control {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	return append([]Control(nil), e.s.controls...)
}

// OnControl registers f to be called (outside the pipe's lock) after every
// control change made on either end.
func (e *PipeEnd) OnControl(f func(Control)) {
	e.s.mu.Lock()
	e.s.onChange = f
	e.s.mu.Unlock()
}

// Lines returns the current DTR, RTS and baud.
func (e *PipeEnd) Lines() (dtr, rts bool, baud int) {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	return e.s.dtr, e.s.rts, e.s.baud
}
