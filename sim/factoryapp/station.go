package factoryapp

import (
	"context"
	"io"

	"fleetline/firmware/selftest"
)

// readStation decodes the station's protocol lines from the console until
// it closes. Plain text and rejected lines are dropped, as the firmware's
// line reader drops them; unknown types pass through to be logged.
func readStation(ctx context.Context, r io.Reader) <-chan selftest.Message {
	out := make(chan selftest.Message, 8)
	go func() {
		defer close(out)
		s := selftest.NewScanner(r)
		for s.Scan() {
			l := s.Line()
			if l.Msg == nil {
				continue
			}
			select {
			case out <- l.Msg:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
