package rfc2217

import (
	"fmt"
	"time"
)

// command sends one COM-PORT command and, if wait, returns the value of the
// server's answer. With learn, a server that does not answer in time is
// remembered as one that never answers this command, and nil is returned.
func (c *Client) command(code byte, value []byte, wait, learn bool) ([]byte, error) {
	c.ctl.Lock()
	defer c.ctl.Unlock()
	for len(c.replies) > 0 {
		<-c.replies
	}
	if err := c.writeRaw(appendComPort(nil, code, value...)); err != nil {
		return nil, err
	}
	if !wait || c.noAck[code] {
		return nil, nil
	}
	timer := time.NewTimer(c.d.replyTimeout())
	defer timer.Stop()
	for {
		select {
		case r := <-c.replies:
			if r[0] == code+serverOffset {
				return r[1:], nil
			}
		case <-timer.C:
			if learn {
				c.noAck[code] = true
				return nil, nil
			}
			return nil, fmt.Errorf("%s: %s: %w within %v", c.name, codeName(code), ErrNoReply, c.d.replyTimeout())
		case <-c.done:
			return nil, c.failure()
		case <-c.rx.Closed():
			return nil, c.closedErr()
		}
	}
}

// SetDTR implements portio.Port with SET-CONTROL DTR ON/OFF.
func (c *Client) SetDTR(asserted bool) error { return c.setLine(false, asserted) }

// SetRTS implements portio.Port with SET-CONTROL RTS ON/OFF.
func (c *Client) SetRTS(asserted bool) error { return c.setLine(true, asserted) }

func (c *Client) setLine(rts, asserted bool) error {
	v := controlValue(rts, asserted)
	r, err := c.command(cpSetControl, []byte{v}, !c.d.IgnoreSetControl, true)
	if err != nil {
		return err
	}
	if r != nil && (len(r) < 1 || r[0] != v) {
		line := "DTR"
		if rts {
			line = "RTS"
		}
		return fmt.Errorf("%s: set %s %v: server answered SET-CONTROL %v: %w", c.name, line, asserted, r, ErrRejected)
	}
	return nil
}

// SetBaud implements portio.Port with SET-BAUDRATE; the server's answer
// must name the same rate.
func (c *Client) SetBaud(baud int) error {
	if baud <= 0 {
		return fmt.Errorf("%s: baud %d: must be positive", c.name, baud)
	}
	r, err := c.command(cpSetBaud, baudValue(baud), true, false)
	if err != nil {
		return err
	}
	got, err := parseBaud(r)
	if err != nil {
		return fmt.Errorf("%s: set baud %d: %v: %w", c.name, baud, err, ErrRejected)
	}
	if got != baud {
		return fmt.Errorf("%s: set baud %d: server runs at %d: %w", c.name, baud, got, ErrRejected)
	}
	return nil
}

// Flush implements portio.Port: PURGE-DATA for the server's receive buffer,
// then everything that arrived before the server's answer is dropped.
func (c *Client) Flush() error {
	c.purging.Store(true)
	defer c.purging.Store(false)
	r, err := c.command(cpPurgeData, []byte{purgeReceive}, true, true)
	if r == nil {
		c.in.Drop() // no answer to order against: drop what we have
	}
	return err
}
