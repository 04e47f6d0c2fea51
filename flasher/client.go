package flasher

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

// Options configure one Client. Every callback belongs to that client alone,
// so many clients can run in one process, one per port.
type Options struct {
	// Baud is the rate the port is open at (default 115200, the rate the ROM
	// starts at). The crystal estimate and ChangeBaud rely on it.
	Baud int
	// Timeouts override esptool's defaults field by field (zero keeps the default).
	Timeouts Timeouts
	// Before selects how Connect resets the chip (default: ResetDefault).
	Before Before
	// Resets replaces the default reset cycle tried over connect attempts.
	Resets []Reset
	// ConnectAttempts bounds Connect (default 7, as esptool).
	ConnectAttempts int
	// USBPID is the USB product id of the port's bridge when known; 0x1001
	// (Espressif USB-Serial/JTAG) selects the USB-JTAG reset and hard reset.
	USBPID uint16
	// Sleep waits d or until ctx is done; tests inject a recorder. Default:
	// a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Progress, when set, is called as long operations advance.
	Progress func(Progress)
	// Logf, when set, receives the client's diagnostic lines.
	Logf func(format string, args ...any)
}

// Progress is one report of a long operation's advance.
type Progress struct {
	Step   string // "write", "verify", "read", "erase", "skip"
	Region string // region name for writes
	Offset uint32 // region start
	Done   int    // bytes done (uncompressed)
	Total  int    // bytes in all
	Block  int    // blocks sent so far (writes)
	Blocks int    // blocks in the region (writes)
}

// Client speaks the ROM loader protocol (and the flasher stub's variant)
// over a Port. A Client is not safe for concurrent use; use one per port.
type Client struct {
	port portio.Port
	opt  Options
	to   Timeouts

	dec    slip.Decoder
	rbuf   []byte
	pkt    []byte
	frame  []byte
	readTO time.Duration

	baud     int
	stub     bool
	chip     *Chip
	info     *ChipInfo
	attached bool
	params   bool
}

// New returns a client over port. Call Connect before anything else.
func New(port portio.Port, opt Options) *Client {
	if opt.Baud <= 0 {
		opt.Baud = 115200
	}
	if opt.Sleep == nil {
		opt.Sleep = sleepCtx
	}
	c := &Client{
		port: port,
		opt:  opt,
		to:   opt.Timeouts.withDefaults(),
		rbuf: make([]byte, 4096),
		baud: opt.Baud,
	}
	// The ROM drops a bad escape's Esc byte; decode its replies the same way.
	c.dec.Lenient = true
	return c
}

// Port returns the client's port.
func (c *Client) Port() portio.Port { return c.port }

// Stub reports whether the loader on the other end is a flasher stub
// (SYNC answered with value 0) rather than the ROM.
func (c *Client) Stub() bool { return c.stub }

// Chip returns the chip found by Identify, or nil before it.
func (c *Client) Chip() *Chip { return c.chip }

// Baud returns the line rate the client believes both ends use.
func (c *Client) Baud() int { return c.baud }

// Timeouts returns the timeouts in force.
func (c *Client) Timeouts() Timeouts { return c.to }

// Close closes the port.
func (c *Client) Close() error { return c.port.Close() }

func (c *Client) logf(format string, args ...any) {
	if c.opt.Logf != nil {
		c.opt.Logf(format, args...)
	}
}

func (c *Client) progress(p Progress) {
	if c.opt.Progress != nil {
		c.opt.Progress(p)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if err := c.opt.Sleep(ctx, d); err != nil {
		return ctxErr(err)
	}
	return nil
}

// statusLen is the status trailer length of the loader in use.
func (c *Client) statusLen() int {
	if c.stub {
		return rom.StatusLenStub
	}
	return rom.StatusLenROM
}

// flushInput drops everything received and not yet consumed, framed or not.
func (c *Client) flushInput() error {
	c.dec.Reset()
	if err := c.port.Flush(); err != nil {
		return fmt.Errorf("flush input: %w", err)
	}
	return nil
}

// send writes one request. parts are concatenated as the data field, so a
// data block's header and bytes need no intermediate copy.
func (c *Client) send(op rom.Op, checksum uint32, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > 0xFFFF {
		return fmt.Errorf("%s: %d data bytes exceed the 16-bit length field", op, n)
	}
	pkt := append(c.pkt[:0], rom.DirRequest, byte(op), 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(pkt[2:], uint16(n))
	binary.LittleEndian.PutUint32(pkt[4:], checksum)
	for _, p := range parts {
		pkt = append(pkt, p...)
	}
	c.pkt = pkt
	c.frame = slip.AppendFrame(c.frame[:0], pkt)
	if _, err := c.port.Write(c.frame); err != nil {
		return fmt.Errorf("%s: write: %w", op, err)
	}
	return nil
}

// maxFrames is how many frames one reply may hide among, as esptool counts.
const maxFrames = 100

// readChunk bounds one blocking Read so a cancelled context is noticed soon.
const readChunk = 250 * time.Millisecond

func (c *Client) setReadTimeout(d time.Duration) error {
	d = min(d, readChunk)
	if d == c.readTO {
		return nil
	}
	if err := c.port.SetReadTimeout(d); err != nil {
		return err
	}
	c.readTO = d
	return nil
}

// receive reads frames until a response to op arrives or timeout passes.
// Frames that are not responses, or answer another op, are skipped: stale
// SYNC replies, our own echo on a loopback. A reply with another op and a
// failed status 0x05 is the ROM refusing op as unknown (it echoes the last
// op it handled), reported as a *rom.StatusError.
func (c *Client) receive(ctx context.Context, op rom.Op, timeout time.Duration) (rom.Response, error) {
	deadline := time.Now().Add(timeout)
	if err := c.setReadTimeout(timeout); err != nil {
		return rom.Response{}, fmt.Errorf("%s: set read timeout: %w", op, err)
	}
	for frames := 0; frames < maxFrames; {
		f, ferr, ok := c.dec.Next()
		if !ok {
			if err := ctx.Err(); err != nil {
				return rom.Response{}, fmt.Errorf("%s: %w", op, ctxErr(err))
			}
			if !time.Now().Before(deadline) {
				return rom.Response{}, fmt.Errorf("%s: no reply: %w after %v", op, ErrTimeout, timeout)
			}
			n, err := c.port.Read(c.rbuf)
			if n > 0 {
				c.dec.Feed(c.rbuf[:n])
			}
			if err != nil && !errors.Is(err, ErrTimeout) {
				return rom.Response{}, fmt.Errorf("%s: read: %w", op, err)
			}
			continue
		}
		frames++
		if ferr != nil {
			c.logf("%s: dropped a malformed frame: %v", op, ferr)
			continue
		}
		r, err := rom.ParseResponse(f)
		if err != nil {
			c.logf("%s: skipped a frame: %v", op, err)
			continue
		}
		if r.Op == op {
			return r, nil
		}
		if refused(r.Data) {
			c.drainRepeats(f)
			return rom.Response{}, &rom.StatusError{Op: op, Code: rom.ErrBadMessage}
		}
	}
	return rom.Response{}, &ProtocolError{Op: op, Msg: fmt.Sprintf("no reply among %d frames", maxFrames)}
}

// drainQuiet is how long the line must stay silent before a refusal's
// repeats are taken to be over. Eight 14-byte frames at 115200 baud take
// under 10 ms; the rest is bridge latency.
const drainQuiet = 50 * time.Millisecond

// drainRepeats reads and drops copies of a refusal frame. The ROM sends an
// unsupported command's refusal through the reply path of the last command
// it handled, so right after SYNC it comes eight times, as SYNC's replies
// do (esptool drains them too); left in the input they would be read as
// the refusal of the next command. It stops after seven copies, at the
// first different frame, or once the line is quiet for drainQuiet.
func (c *Client) drainRepeats(refusal []byte) {
	want := append([]byte(nil), refusal...)
	if err := c.setReadTimeout(drainQuiet); err != nil {
		return
	}
	for copies := 0; copies < rom.SyncReplies-1; {
		f, ferr, ok := c.dec.Next()
		if ok {
			if ferr != nil || !bytes.Equal(f, want) {
				c.logf("dropped a frame while draining a refused command's repeats")
				return
			}
			copies++
			continue
		}
		n, err := c.port.Read(c.rbuf)
		if n > 0 {
			c.dec.Feed(c.rbuf[:n])
		}
		if err != nil {
			return // quiet (timeout) or gone: either way, done
		}
	}
}

// refused reports a failed status with code 0x05 at the start of the data
// (esptool's test) or in a trailer at its end.
func refused(d []byte) bool {
	if len(d) >= 2 && d[0] != 0 && d[1] == byte(rom.ErrBadMessage) {
		return true
	}
	return len(d) >= 4 && d[len(d)-4] == 1 && d[len(d)-3] == byte(rom.ErrBadMessage)
}

// command sends one request and returns the reply's value and the want
// bytes before its status trailer, or the chip's *rom.StatusError.
func (c *Client) command(ctx context.Context, op rom.Op, timeout time.Duration, want int, checksum uint32, parts ...[]byte) (uint32, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("%s: %w", op, ctxErr(err))
	}
	if err := c.send(op, checksum, parts...); err != nil {
		return 0, nil, err
	}
	r, err := c.receive(ctx, op, timeout)
	if err != nil {
		return 0, nil, err
	}
	if len(r.Data) < want+c.statusLen() {
		return r.Value, nil, &ProtocolError{Op: op, Msg: fmt.Sprintf("reply has %d data bytes, want %d and a %d-byte status", len(r.Data), want, c.statusLen())}
	}
	payload, st, _ := rom.SplitStatus(r.Data, want)
	if st.Failed {
		return r.Value, payload, &rom.StatusError{Op: op, Code: st.Code}
	}
	return r.Value, payload, nil
}

// ReadReg reads a 32-bit register or memory word through READ_REG.
func (c *Client) ReadReg(ctx context.Context, addr uint32) (uint32, error) {
	v, _, err := c.command(ctx, rom.OpReadReg, c.to.Default, 0, 0, rom.ReadRegData(addr))
	if err != nil {
		return 0, fmt.Errorf("read register 0x%08x: %w", addr, err)
	}
	return v, nil
}

// WriteReg writes value under mask to a register through WRITE_REG.
func (c *Client) WriteReg(ctx context.Context, addr, value, mask uint32) error {
	_, _, err := c.command(ctx, rom.OpWriteReg, c.to.Default, 0, 0,
		rom.WriteRegData(rom.RegWrite{Addr: addr, Value: value, Mask: mask}))
	if err != nil {
		return fmt.Errorf("write register 0x%08x: %w", addr, err)
	}
	return nil
}
