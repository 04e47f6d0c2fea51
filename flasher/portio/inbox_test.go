package portio

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestInboxRead(t *testing.T) {
	lost := errors.New("connection lost")
	closed := make(chan struct{})
	close(closed)
	type read struct {
		n       int           // size of the read buffer
		timeout time.Duration // passed to ReadTimeout
		want    string
		err     error
	}
	tests := []struct {
		name   string
		limit  int
		pushes []string
		drop   bool // Drop after the pushes
		fail   error
		cancel <-chan struct{}
		reads  []read
	}{
		{name: "empty, no wait", reads: []read{{n: 4, timeout: 0, err: ErrTimeout}}},
		{name: "empty, short wait", reads: []read{{n: 4, timeout: time.Millisecond, err: ErrTimeout}}},
		{name: "empty buffer reads nothing", reads: []read{{n: 0, timeout: -1}}},
		{
			name:   "partial reads keep order",
			pushes: []string{"hel", "lo, ", "world"},
			reads: []read{
				{n: 4, want: "hell"}, {n: 4, want: "o, w"}, {n: 16, want: "orld"},
				{n: 4, timeout: 0, err: ErrTimeout},
			},
		},
		{
			name:   "limit keeps the newest bytes",
			limit:  4,
			pushes: []string{"abc", "defg"},
			reads:  []read{{n: 16, want: "defg"}},
		},
		{
			name:   "drop discards input",
			pushes: []string{"stale"},
			drop:   true,
			reads:  []read{{n: 16, timeout: 0, err: ErrTimeout}},
		},
		{
			name:   "buffered bytes before the failure",
			pushes: []string{"last"},
			fail:   lost,
			reads:  []read{{n: 16, timeout: -1, want: "last"}, {n: 16, timeout: -1, err: lost}, {n: 1, timeout: -1, err: lost}},
		},
		{
			name:   "cancel ends a wait",
			cancel: closed,
			reads:  []read{{n: 16, timeout: -1, err: ErrClosed}},
		},
		{
			name:   "cancel leaves buffered bytes readable",
			pushes: []string{"ok"},
			cancel: closed,
			reads:  []read{{n: 16, timeout: -1, want: "ok"}, {n: 16, timeout: -1, err: ErrClosed}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewInbox(tc.limit)
			for _, p := range tc.pushes {
				b.Push([]byte(p))
			}
			if tc.drop {
				b.Drop()
			}
			if tc.fail != nil {
				b.Fail(tc.fail)
				b.Fail(errors.New("later failure")) // the first one wins
			}
			for i, r := range tc.reads {
				p := make([]byte, r.n)
				n, err := b.ReadTimeout(p, r.timeout, tc.cancel)
				if got := string(p[:n]); got != r.want || !errors.Is(err, r.err) {
					t.Fatalf("read %d = %q, %v; want %q, %v", i, got, err, r.want, r.err)
				}
			}
		})
	}
}

func TestInboxWakesWaitingReader(t *testing.T) {
	b := NewInbox(0)
	got := make(chan string)
	go func() {
		p := make([]byte, 8)
		n, err := b.ReadTimeout(p, -1, nil)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(p[:n])
	}()
	b.Push([]byte("sync"))
	if s := <-got; s != "sync" {
		t.Fatalf("waiting reader got %q, want %q", s, "sync")
	}
}

func TestInboxFailWakesEveryReader(t *testing.T) {
	b := NewInbox(0)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := b.ReadTimeout(make([]byte, 1), -1, nil)
			errs <- err
		}()
	}
	b.Fail(ErrClosed)
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("reader got %v, want ErrClosed", err)
		}
	}
	if !errors.Is(b.Err(), ErrClosed) {
		t.Fatalf("Err() = %v, want ErrClosed", b.Err())
	}
}

// TestInboxCompaction pushes and reads in uneven pieces so the buffer is
// compacted many times, and checks nothing is lost or reordered.
func TestInboxCompaction(t *testing.T) {
	b := NewInbox(0)
	var want, got bytes.Buffer
	p := make([]byte, 7)
	for i := range 500 {
		chunk := bytes.Repeat([]byte{byte(i)}, i%13+1)
		want.Write(chunk)
		b.Push(chunk)
		if i%3 == 0 {
			n, err := b.ReadTimeout(p, 0, nil)
			if err != nil {
				t.Fatalf("read after push %d: %v", i, err)
			}
			got.Write(p[:n])
		}
	}
	for b.Buffered() > 0 {
		n, _ := b.ReadTimeout(p, 0, nil)
		got.Write(p[:n])
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("read %d bytes, pushed %d; contents differ", got.Len(), want.Len())
	}
}
