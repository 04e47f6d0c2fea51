package board

import (
	"bytes"
	"testing"
	"time"

	"fleetline/flasher/rom"
)

// The quirks here are the real ROM's, read off its code under QEMU; a
// client that notices them must see them on a virtual board too.

func TestSyncPayloadNotValidated(t *testing.T) {
	c := connect(t, Config{})
	c.send(rom.OpSync, rom.SyncData[:4]) // only 07 07 12 20
	for i := 0; i < rom.SyncReplies; i++ {
		r := c.next()
		if r.Op != rom.OpSync || r.Value != rom.SyncValue || !bytes.Equal(r.Data, []byte{0, 0, 0, 0}) {
			t.Fatalf("reply %d: %+v", i, r)
		}
	}
	c.noReply(50 * time.Millisecond)
}

func TestStaleValueAndReservedBytes(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	magic := c.readReg(chipDetectMagicAddr)
	// WRITE_REG does not touch the header value: it carries the last READ_REG result.
	r := c.ok(rom.OpWriteReg, rom.WriteRegData(rom.RegWrite{Addr: 0x3FFB0000, Value: 1, Mask: 0xFFFFFFFF}), 0)
	if r.Value != magic {
		t.Fatalf("WRITE_REG value %#x, want stale %#x", r.Value, magic)
	}
	md5 := c.md5(0, 0x1000)
	r = c.ok(rom.OpSPIAttach, rom.SPIAttachData(0), 0)
	if got := string(r.Data[2:4]); got != md5[2:4] {
		t.Fatalf("reserved bytes %q, want the stale MD5 text %q", got, md5[2:4])
	}
}

func TestStaleErrorByte(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	c.ok(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x400, Blocks: 1, BlockSize: 0x400, Offset: 0}), 0)
	blk := rom.DataBlock(0, bytes.Repeat([]byte{1}, 0x400))
	pkt := rom.Request{Op: rom.OpFlashData, Checksum: 0x00, Data: blk}.AppendBinary(nil)
	c.sendRaw(pkt)
	checkStatus(t, c.next(), 0, 1, rom.ErrBadChecksum)
	// The next block succeeds but still shows 07 in the error byte.
	r := c.cmd(rom.OpFlashData, rom.DataBlock(1, bytes.Repeat([]byte{2}, 0x400)))
	if !bytes.Equal(r.Data[:2], []byte{0, 7}) {
		t.Fatalf("status % x, want 00 07", r.Data)
	}
	// SPI_ATTACH clears it.
	r = c.ok(rom.OpSPIAttach, rom.SPIAttachData(0), 0)
	if r.Data[1] != 0 {
		t.Fatalf("SPI_ATTACH status % x", r.Data)
	}
}

func checkStatus(t *testing.T, r rom.Response, want int, failed byte, code rom.ErrorCode) {
	t.Helper()
	if len(r.Data) < want+2 || r.Data[want] != failed || r.Data[want+1] != byte(code) {
		t.Fatalf("%s: status % x, want %02x %02x", r.Op, r.Data, failed, byte(code))
	}
}

func TestUnsupportedEchoesLastHandledOp(t *testing.T) {
	c := connect(t, Config{Chip: "esp32"})
	c.sync()
	v := c.readReg(chipDetectMagicAddr)
	for _, op := range []rom.Op{0xD0, rom.OpGetSecurityInfo, 0x00, 0x0C, 0x55, 0xFF} {
		r := c.cmd(op, nil)
		if r.Op != rom.OpReadReg || r.Value != v {
			t.Fatalf("op %s: reply op %s value %#x, want READ_REG's", op, r.Op, r.Value)
		}
		checkStatus(t, r, 0, 1, rom.ErrBadMessage)
		if len(r.Data) != 4 {
			t.Fatalf("op %s: %d bytes", op, len(r.Data))
		}
	}
	// Right after SYNC the echoed op is SYNC's.
	c.sync()
	if r := c.cmd(rom.OpGetSecurityInfo, nil); r.Op != rom.OpSync {
		t.Fatalf("reply op %s after SYNC", r.Op)
	}
	// A request with the response direction byte is refused the same way.
	c.sendRaw(append([]byte{0x01, byte(rom.OpReadReg), 4, 0, 0, 0, 0, 0}, rom.ReadRegData(0x40001000)...))
	checkStatus(t, c.next(), 0, 1, rom.ErrBadMessage)
}

func TestShortFrameUsesStaleBuffer(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	want := c.readReg(chipDetectMagicAddr)
	c.sendRaw([]byte{0x00, byte(rom.OpReadReg), 4}) // 3-byte frame
	if r := c.next(); r.Op != rom.OpReadReg || r.Value != want {
		t.Fatalf("short READ_REG: %+v", r)
	}
	c.sendRaw([]byte{0x00, byte(rom.OpReadReg), 8, 0, 0, 0, 0, 0}) // no data at all
	if r := c.next(); r.Value != want {
		t.Fatalf("empty READ_REG value %#x", r.Value)
	}
}

func TestInvalidEscapeIsLenient(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	// READ_REG of 0x40001000 with its 0x00 address byte sent as DB 00.
	frame := []byte{0xC0, 0x00, 0x0A, 0x04, 0x00, 0, 0, 0, 0, 0xDB, 0x00, 0x10, 0x00, 0x40, 0xC0}
	if _, err := c.p.Write(frame); err != nil {
		t.Fatal(err)
	}
	if r := c.next(); r.Value != c.b.p.magic {
		t.Fatalf("value %#x", r.Value)
	}
}

func TestGetSecurityInfo(t *testing.T) {
	for _, chip := range []string{"esp32c3", "esp32s3"} {
		c := connect(t, Config{Chip: chip})
		c.sync()
		r := c.ok(rom.OpGetSecurityInfo, nil, rom.SecurityInfoLen)
		si, err := rom.ParseSecurityInfo(r.Data[:rom.SecurityInfoLen])
		if err != nil || si.Flags != 0 || si.ChipID != uint32(c.b.p.imageChipID) || si.APIVersion != 3 || si.KeyPurposes[6] != 0x0C {
			t.Fatalf("%s: %+v %v", chip, si, err)
		}
	}
}
