package portio

import (
	"errors"
	"strings"
	"testing"
)

func TestReceiverLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name, port string
		wantPrefix string
	}{
		{"named", "socket://h:1", "socket://h:1: "},
		{"bare", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := NewInbox(0)
			r := NewReceiver(in, tc.port, 0)
			buf := make([]byte, 4)
			if _, err := r.Read(buf); !errors.Is(err, ErrTimeout) {
				t.Fatalf("empty read: %v, want ErrTimeout", err)
			}
			in.Push([]byte("ab"))
			if n, err := r.Read(buf); err != nil || string(buf[:n]) != "ab" {
				t.Fatalf("read = %q, %v; want \"ab\"", buf[:n], err)
			}
			if r.IsClosed() {
				t.Fatal("IsClosed before Close")
			}
			released := 0
			r.Close(func() { released++ })
			r.Close(func() { released++ })
			if released != 1 {
				t.Fatalf("release ran %d times, want 1", released)
			}
			if !r.IsClosed() {
				t.Fatal("IsClosed false after Close")
			}
			select {
			case <-r.Closed():
			default:
				t.Fatal("Closed channel still open after Close")
			}
			_ = r.SetReadTimeout(-1) // must not block once closed
			_, err := r.Read(buf)
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("read after Close: %v, want ErrClosed", err)
			}
			if want := tc.wantPrefix + ErrClosed.Error(); err.Error() != want || !strings.HasPrefix(err.Error(), tc.wantPrefix) {
				t.Fatalf("read after Close: %q, want %q", err, want)
			}
		})
	}
}
