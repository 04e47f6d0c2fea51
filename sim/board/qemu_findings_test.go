package board

import (
	"bytes"
	"testing"
	"time"

	"fleetline/flasher/rom"
)

// Behaviours found by the differential test against the real ROM under
// QEMU (qemu_diff_test.go), pinned here so they hold without QEMU.

func TestUnsupportedAfterSyncRepeats(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	c.send(0x01, nil)
	for i := 0; i < rom.SyncReplies; i++ {
		r := c.next()
		if r.Op != rom.OpSync {
			t.Fatalf("reply %d: op %s", i, r.Op)
		}
		checkStatus(t, r, 0, 1, rom.ErrBadMessage)
	}
	c.noReply(20 * time.Millisecond)
}

func TestErrorByteClearedBy(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   rom.Op
		data []byte
		want int
	}{
		{"WRITE_REG", rom.OpWriteReg, rom.WriteRegData(rom.RegWrite{Addr: 0x3FFB0000, Value: 1, Mask: 1}), 0},
		{"READ_FLASH_SLOW", rom.OpReadFlashSlow, rom.ReadFlashSlowData(0, 16), rom.ReadFlashSlowMax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, Config{})
			c.sync()
			c.readReg(chipDetectMagicAddr)
			c.cmd(0x55, nil) // leaves 05 behind
			if r := c.ok(tc.op, tc.data, tc.want); r.Data[tc.want+1] != 0 {
				t.Fatalf("status % x, want the error byte cleared", r.Data[tc.want:])
			}
		})
	}
}

func TestMemDataLandsInRAM(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	const at = 0x3FFB0100
	c.ok(rom.OpMemBegin, rom.Begin{Size: 8, Blocks: 2, BlockSize: 4, Offset: at}.Marshal(), 0)
	c.ok(rom.OpMemData, rom.DataBlock(0, []byte{1, 2, 3, 4}), 0)
	c.ok(rom.OpMemEnd, rom.MemEnd{NoExec: true}.Marshal(), 0)
	// The session survives MEM_END(no_exec): the next block is accepted.
	c.ok(rom.OpMemData, rom.DataBlock(1, []byte{5, 6, 7, 8}), 0)
	if got := c.readReg(at); got != 0x04030201 {
		t.Fatalf("word 0 %#x", got)
	}
	if got := c.readReg(at + 4); got != 0x08070605 {
		t.Fatalf("word 1 %#x", got)
	}
}

func TestFlashSizeLimitedUntilSetParams(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	c.md5(2<<20-16, 16)
	c.fails(rom.OpSPIFlashMD5, rom.MD5Data(2<<20-8, 16), rom.MD5HexLen, rom.ErrFlashRead)
	c.fails(rom.OpReadFlashSlow, rom.ReadFlashSlowData(2<<20, 16), rom.ReadFlashSlowMax, rom.ErrFlashRead)
	c.fails(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x1000, Blocks: 4, BlockSize: 0x400, Offset: 2 << 20}), 0, rom.ErrOperationFailed)
	c.ok(rom.OpSPISetParams, rom.DefaultSPIParams(4<<20).Marshal(), 0)
	c.md5(4<<20-16, 16)
	c.ok(rom.OpSPISetParams, rom.DefaultSPIParams(1<<20).Marshal(), 0)
	c.fails(rom.OpSPIFlashMD5, rom.MD5Data(1<<20-8, 16), rom.MD5HexLen, rom.ErrFlashRead)

	// LenientFlashSize: the fitted size applies from reset.
	c = connect(t, Config{LenientFlashSize: true})
	c.sync()
	c.md5(4<<20-16, 16)
}

func TestDeflDataAfterStreamEndHangs(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	z := zdeflate(bytes.Repeat([]byte{0xA5}, 0x400))
	c.ok(rom.OpFlashDeflBegin, c.beginData(rom.Begin{Size: 0x400, Blocks: 2, BlockSize: 0x400, Offset: 0x10000}), 0)
	c.ok(rom.OpFlashDeflData, rom.DataBlock(0, z), 0)
	c.send(rom.OpFlashDeflData, rom.DataBlock(1, z))
	c.noReply(20 * time.Millisecond)
	if c.b.Mode() != "stalled" {
		t.Fatalf("mode %s", c.b.Mode())
	}
}

func TestDeflOutputBufferedUntilLastBlock(t *testing.T) {
	plain := bytes.Repeat([]byte{0x5A}, 0x400)
	z := zdeflate(plain)
	for _, tc := range []struct {
		blocks  uint32
		written bool
	}{{1, true}, {2, false}} {
		c := connect(t, Config{})
		c.sync()
		c.ok(rom.OpFlashDeflBegin, c.beginData(rom.Begin{Size: 0x1000, Blocks: tc.blocks, BlockSize: 0x400, Offset: 0x10000}), 0)
		c.ok(rom.OpFlashDeflData, rom.DataBlock(0, z), 0)
		got := make([]byte, 0x400)
		c.b.flash.readAt(got, 0x10000)
		if bytes.Equal(got, plain) != tc.written {
			t.Fatalf("blocks %d: flash written %v, want %v", tc.blocks, !tc.written, tc.written)
		}
	}
}
