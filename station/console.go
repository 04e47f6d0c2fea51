package station

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"fleetline/firmware/selftest"
	"fleetline/flasher/portio"
)

// portConsole reads and writes a running app's console on a port, line by
// line. Reads poll with a short port timeout so a cancelled context ends
// them promptly whatever the port does.
type portConsole struct {
	port portio.Port
	buf  []byte
	tmp  []byte
	own  bool // close the port on Close
}

// consolePoll is the port read timeout between context checks.
const consolePoll = 50 * time.Millisecond

// NewPortConsole returns a Console over port; Close closes the port.
func NewPortConsole(port portio.Port) (Console, error) {
	if err := port.SetReadTimeout(consolePoll); err != nil {
		return nil, fmt.Errorf("console: set read timeout: %w", err)
	}
	return &portConsole{port: port, tmp: make([]byte, 4096), own: true}, nil
}

// ReadLine implements Console.
func (c *portConsole) ReadLine(ctx context.Context) (string, error) {
	for {
		if i := bytes.IndexByte(c.buf, '\n'); i >= 0 {
			line := bytes.TrimRight(c.buf[:i], "\r")
			s := string(line)
			c.buf = c.buf[i+1:]
			return s, nil
		}
		if len(c.buf) > selftest.MaxLineLen {
			// A line too long for the protocol: hand out what there is.
			s := string(c.buf)
			c.buf = c.buf[:0]
			return s, nil
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := c.port.Read(c.tmp)
		c.buf = append(c.buf, c.tmp[:n]...)
		switch {
		case err == nil, errors.Is(err, portio.ErrTimeout):
		default:
			return "", fmt.Errorf("console: %w", err)
		}
	}
}

// WriteLine implements Console.
func (c *portConsole) WriteLine(ctx context.Context, line []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := c.port.Write(line); err != nil {
		return fmt.Errorf("console: write: %w", err)
	}
	return nil
}

// Close implements Console.
func (c *portConsole) Close() error {
	if c.own {
		return c.port.Close()
	}
	return nil
}
