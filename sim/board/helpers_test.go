package board

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

// romClient drives a board through flasher/rom and flasher/slip only, the
// way an independent flasher would.
type romClient struct {
	t *testing.T
	b *Board
	p *Port
	r *slip.Reader
}

func newBoard(t *testing.T, cfg Config) *Board {
	t.Helper()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// connect opens the board and resets it into download mode with the lines
// changed together (the "unix tight" sequence), then latches GPIO0 at once.
func connect(t *testing.T, cfg Config) *romClient {
	t.Helper()
	b := newBoard(t, cfg)
	p, err := b.Open()
	if err != nil {
		t.Fatal(err)
	}
	p.SetReadTimeout(2 * time.Second)
	c := &romClient{t: t, b: b, p: p, r: slip.NewReader(p)}
	c.resetDownload()
	return c
}

func (c *romClient) resetDownload() {
	c.t.Helper()
	if c.b.bridge.USB { // the USB-Serial/JTAG peripheral's own sequence
		for _, l := range [][2]bool{{true, false}, {true, true}, {false, true}, {false, false}} {
			must(c.t, c.p.SetLines(l[0], l[1]))
		}
		return
	}
	must(c.t, c.p.SetLines(false, true)) // EN low
	must(c.t, c.p.SetLines(true, false)) // EN high, GPIO0 low
	c.latch()
	must(c.t, c.p.SetLines(false, false))
}

// latch makes the board sample GPIO0 now, as a host write would.
func (c *romClient) latch() {
	c.b.mu.Lock()
	c.b.resolveResetLocked(time.Now())
	c.b.mu.Unlock()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (c *romClient) sendRaw(pkt []byte) {
	c.t.Helper()
	if _, err := c.p.Write(slip.Encode(pkt)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *romClient) send(op rom.Op, data []byte) {
	c.t.Helper()
	pkt, err := rom.NewRequest(op, data).MarshalBinary()
	must(c.t, err)
	c.sendRaw(pkt)
}

// next reads the next response frame.
func (c *romClient) next() rom.Response {
	c.t.Helper()
	for {
		f, err := c.r.ReadFrame()
		if err != nil {
			c.t.Fatalf("read response: %v", err)
		}
		if f == nil {
			continue
		}
		r, err := rom.ParseResponse(f)
		if err != nil {
			c.t.Fatalf("parse response % x: %v", f, err)
		}
		return r
	}
}

// noReply asserts that nothing at all arrives within d.
func (c *romClient) noReply(d time.Duration) {
	c.t.Helper()
	c.p.SetReadTimeout(d)
	defer c.p.SetReadTimeout(2 * time.Second)
	buf := make([]byte, 64)
	n, err := c.p.Read(buf)
	if !errors.Is(err, portio.ErrTimeout) {
		c.t.Fatalf("expected silence, got %d bytes % x (err %v)", n, buf[:n], err)
	}
}

// cmd sends a request and returns its (single) response.
func (c *romClient) cmd(op rom.Op, data []byte) rom.Response {
	c.t.Helper()
	c.send(op, data)
	return c.next()
}

// ok sends a request and fails the test unless it succeeds; it returns the
// response's command data (before the 4-byte status).
func (c *romClient) ok(op rom.Op, data []byte, want int) rom.Response {
	c.t.Helper()
	r := c.cmd(op, data)
	if r.Op != op {
		c.t.Fatalf("%s: reply op %s", op, r.Op)
	}
	_, st, err := rom.SplitStatus(r.Data, want)
	must(c.t, err)
	if st.Failed {
		c.t.Fatalf("%s failed: 01 %02x", op, byte(st.Code))
	}
	if len(r.Data) != want+rom.StatusLenROM {
		c.t.Fatalf("%s: %d data bytes, want %d", op, len(r.Data), want+rom.StatusLenROM)
	}
	return r
}

// fails sends a request and checks it fails with code.
func (c *romClient) fails(op rom.Op, data []byte, want int, code rom.ErrorCode) rom.Response {
	c.t.Helper()
	r := c.cmd(op, data)
	_, st, err := rom.SplitStatus(r.Data, want)
	must(c.t, err)
	if !st.Failed || st.Code != code {
		c.t.Fatalf("%s: status %v/%02x, want 01 %02x", op, st.Failed, byte(st.Code), byte(code))
	}
	return r
}

func (c *romClient) sync() {
	c.t.Helper()
	c.send(rom.OpSync, rom.SyncData)
	for i := 0; i < rom.SyncReplies; i++ {
		r := c.next()
		if r.Op != rom.OpSync || r.Value != rom.SyncValue {
			c.t.Fatalf("sync reply %d: op %s value %#x", i, r.Op, r.Value)
		}
	}
}

func (c *romClient) readReg(addr uint32) uint32 {
	c.t.Helper()
	return c.ok(rom.OpReadReg, rom.ReadRegData(addr), 0).Value
}

func (c *romClient) beginData(b rom.Begin) []byte {
	if c.b.p.beginWords == 5 {
		b.HasEncrypted = true
	}
	return b.Marshal()
}

// writeFlash writes data at off with FLASH_BEGIN/DATA in 0x400 blocks.
func (c *romClient) writeFlash(off uint32, data []byte) {
	c.t.Helper()
	const bs = rom.FlashBlockROM
	n := (len(data) + bs - 1) / bs
	c.ok(rom.OpFlashBegin, c.beginData(rom.Begin{Size: uint32(len(data)), Blocks: uint32(n), BlockSize: bs, Offset: off}), 0)
	for i := 0; i < n; i++ {
		blk := data[i*bs : min(len(data), (i+1)*bs)]
		if len(blk) < bs {
			blk = append(blk, bytes.Repeat([]byte{0xFF}, bs-len(blk))...)
		}
		c.ok(rom.OpFlashData, rom.DataBlock(uint32(i), blk), 0)
	}
}

func (c *romClient) md5(addr, size uint32) string {
	c.t.Helper()
	r := c.ok(rom.OpSPIFlashMD5, rom.MD5Data(addr, size), rom.MD5HexLen)
	return string(r.Data[:rom.MD5HexLen])
}

func slipReader(p *Port) *slip.Reader { return slip.NewReader(p) }
