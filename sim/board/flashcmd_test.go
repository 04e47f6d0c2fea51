package board

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"testing"
	"time"

	"fleetline/flasher/rom"
)

func TestFlashBeginChecks(t *testing.T) {
	for _, chip := range []string{"esp32", "esp32c3"} {
		t.Run(chip, func(t *testing.T) {
			c := connect(t, Config{Chip: chip})
			c.sync()
			four := rom.Begin{Size: 0x1000, Blocks: 4, BlockSize: 0x400, Offset: 0x10000}.Marshal()
			five := rom.Begin{Size: 0x1000, Blocks: 4, BlockSize: 0x400, Offset: 0x10000, HasEncrypted: true}.Marshal()
			good, bad := four, five
			if chip != "esp32" {
				good, bad = five, four
			}
			c.fails(rom.OpFlashBegin, bad, 0, rom.ErrBadMessage)
			c.ok(rom.OpFlashBegin, good, 0)
			for _, bs := range []uint32{0x400, 0x800, 0x1000} {
				c.ok(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x1000, Blocks: 1, BlockSize: bs, Offset: 0}), 0)
			}
			c.fails(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x4000, Blocks: 1, BlockSize: 0x4000, Offset: 0}), 0, rom.ErrBadMessage)
			c.fails(rom.OpFlashDeflBegin, c.beginData(rom.Begin{Size: 0x4000, Blocks: 1, BlockSize: 0x4000, Offset: 0}), 0, rom.ErrBadMessage)
			c.fails(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x400, Blocks: 1, BlockSize: 0x400, Offset: 0x20100}), 0, rom.ErrOperationFailed)
			c.fails(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x2000, Blocks: 8, BlockSize: 0x400, Offset: c.b.flash.Size() - 0x1000}), 0, rom.ErrOperationFailed)
		})
	}
}

func TestFlashBeginErasesBeforeReply(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	must(t, c.b.flash.program(0x10000, bytes.Repeat([]byte{0}, 0x3000)))
	// Erase size 0x1001 rounds out to two sectors.
	c.ok(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x1001, Blocks: 5, BlockSize: 0x400, Offset: 0x10000}), 0)
	got := make([]byte, 0x3000)
	c.b.flash.readAt(got, 0x10000)
	if !allFF(got[:0x2000]) || got[0x2000] != 0 {
		t.Fatal("FLASH_BEGIN did not erase exactly the rounded range")
	}
}

func TestFlashDataSequenceQuirks(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	c.ok(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x1000, Blocks: 4, BlockSize: 0x400, Offset: 0x10000}), 0)
	blk := func(v byte) []byte { return bytes.Repeat([]byte{v}, 0x400) }
	c.ok(rom.OpFlashData, rom.DataBlock(0, blk(0xA0)), 0)
	// Bad checksum for seq 1: refused, but seq 1 is used up.
	c.sendRaw(rom.Request{Op: rom.OpFlashData, Checksum: 0x55, Data: rom.DataBlock(1, blk(0xA1))}.AppendBinary(nil))
	checkStatus(t, c.next(), 0, 1, rom.ErrBadChecksum)
	c.fails(rom.OpFlashData, rom.DataBlock(1, blk(0xA1)), 0, rom.ErrBadMessage) // retrying seq 1
	c.ok(rom.OpFlashData, rom.DataBlock(2, blk(0xA2)), 0)                       // lands right after block 0
	// Length field disagreeing with the data.
	d := rom.DataBlock(3, blk(0xA3))
	d[0] = 0xFF
	c.fails(rom.OpFlashData, d, 0, rom.ErrBadMessage)
	// A short block is accepted and the next one follows its last byte
	// (as the real ROM under QEMU shows); blocks past the announced count
	// are accepted too.
	c.ok(rom.OpFlashData, rom.DataBlock(3, []byte{0x11, 0x22}), 0)
	c.ok(rom.OpFlashData, rom.DataBlock(4, blk(0xA4)), 0)
	got := make([]byte, 0x1000)
	c.b.flash.readAt(got, 0x10000)
	if got[0] != 0xA0 || got[0x400] != 0xA2 || got[0x800] != 0x11 || got[0x802] != 0xA4 || got[0xC01] != 0xA4 || got[0xC02] != 0xFF {
		t.Fatalf("layout % x % x % x % x", got[0], got[0x400], got[0x800:0x803], got[0xC00:0xC03])
	}
	// FLASH_DATA without a session.
	c.ok(rom.OpFlashEnd, rom.EndData(true), 0)
}

func TestNORProgramOnlyClearsBits(t *testing.T) {
	f := newNOR(1 << 20)
	must(t, f.program(0, []byte{0xF0}))
	must(t, f.program(0, []byte{0x0F}))
	b := []byte{0xAA}
	f.readAt(b, 0)
	if b[0] != 0x00 {
		t.Fatalf("%#x after programming 0xF0 then 0x0F", b[0])
	}
	must(t, f.erase(0, SectorSize))
	f.readAt(b, 0)
	if b[0] != 0xFF {
		t.Fatal("erase did not set 0xFF")
	}
	if f.erase(1, SectorSize) == nil || f.erase(0, 100) == nil || f.program(1<<20-1, []byte{1, 2}) == nil {
		t.Fatal("bad erase/program accepted")
	}
}

func deflate(t *testing.T, data []byte) []byte {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	w.Write(data)
	w.Close()
	return z.Bytes()
}

func TestFlashDeflate(t *testing.T) {
	for _, chip := range Chips() {
		t.Run(chip, func(t *testing.T) {
			c := connect(t, Config{Chip: chip})
			c.sync()
			rng := rand.New(rand.NewPCG(1, 2))
			data := make([]byte, 200_000)
			for i := range data {
				data[i] = byte(rng.IntN(16)) // compressible but not trivially
			}
			z := deflate(t, data)
			n := (len(z) + 0x3FF) / 0x400
			c.ok(rom.OpFlashDeflBegin, c.beginData(rom.Begin{Size: uint32(len(data)), Blocks: uint32(n), BlockSize: 0x400, Offset: 0x20000}), 0)
			for i := 0; i < n; i++ {
				c.ok(rom.OpFlashDeflData, rom.DataBlock(uint32(i), z[i*0x400:min(len(z), (i+1)*0x400)]), 0)
			}
			sum := md5.Sum(data)
			if got := c.md5(0x20000, uint32(len(data))); got != hex.EncodeToString(sum[:]) {
				t.Fatalf("md5 %s", got)
			}
		})
	}
}

func TestFlashDeflateCorrupt(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	z := deflate(t, bytes.Repeat([]byte("abc"), 5000))
	z[10] ^= 0xFF
	z[11] ^= 0x55
	c.ok(rom.OpFlashDeflBegin, c.beginData(rom.Begin{Size: 15000, Blocks: 1, BlockSize: 0x400, Offset: 0}), 0)
	c.fails(rom.OpFlashDeflData, rom.DataBlock(0, z), 0, rom.ErrDeflate)
	// Garbage that is not even a zlib header.
	c.ok(rom.OpFlashDeflBegin, c.beginData(rom.Begin{Size: 15000, Blocks: 1, BlockSize: 0x400, Offset: 0}), 0)
	c.fails(rom.OpFlashDeflData, rom.DataBlock(0, []byte{0xFF, 0xFF, 0xFF, 0xFF}), 0, rom.ErrDeflate)
}

func TestMD5AndReadFlashSlow(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	c.writeFlash(0x20000, data)
	sum := md5.Sum(data[1:0x20])
	if got := c.md5(0x20001, 0x1F); got != hex.EncodeToString(sum[:]) {
		t.Fatal("odd-address md5")
	}
	prev := c.md5(0, 0x100)
	r := c.fails(rom.OpSPIFlashMD5, rom.MD5Data(c.b.flash.Size()-0x100, 0x200), rom.MD5HexLen, rom.ErrFlashRead)
	if string(r.Data[:32]) != prev {
		t.Fatalf("failed MD5 data %q, want the stale %q", r.Data[:32], prev)
	}
	r = c.ok(rom.OpReadFlashSlow, rom.ReadFlashSlowData(0x20000, 16), rom.ReadFlashSlowMax)
	if !bytes.Equal(r.Data[:16], data[:16]) {
		t.Fatalf("read %q", r.Data[:16])
	}
	// The other 48 bytes are what the shared reply buffer held before.
	if !bytes.Equal(r.Data[16:32], []byte(prev[16:32])) {
		t.Fatalf("stale tail %q", r.Data[16:32])
	}
	c.fails(rom.OpReadFlashSlow, rom.ReadFlashSlowData(0x20000, 65), rom.ReadFlashSlowMax, rom.ErrReadLength)
}

func TestMemUpload(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	code := bytes.Repeat([]byte{0x55}, 0x100)
	c.ok(rom.OpMemBegin, rom.Begin{Size: 0x100, Blocks: 1, BlockSize: 0x1800, Offset: 0x40080000}.Marshal(), 0)
	c.fails(rom.OpMemData, rom.DataBlock(1, code), 0, rom.ErrBadMessage)
	c.ok(rom.OpMemData, rom.DataBlock(0, code), 0)
	c.ok(rom.OpMemEnd, rom.MemEnd{NoExec: true}.Marshal(), 0)
	c.sync() // still in the loader
	c.ok(rom.OpMemBegin, rom.Begin{Size: 0x100, Blocks: 1, BlockSize: 0x1800, Offset: 0x40080000}.Marshal(), 0)
	c.ok(rom.OpMemData, rom.DataBlock(0, code), 0)
	c.ok(rom.OpMemEnd, rom.MemEnd{Entry: 0x40080000}.Marshal(), 0)
	// The ROM jumped to code a simulator cannot run: nothing answers any more.
	c.send(rom.OpSync, rom.SyncData)
	c.noReply(50 * time.Millisecond)
	if c.b.Mode() != "ram" {
		t.Fatal(c.b.Mode())
	}
}
