package board

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"testing"
	"time"

	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

// startStub uploads a (dummy) stub and checks the greeting.
func startStub(t *testing.T, chip string) *romClient {
	c := connect(t, Config{Chip: chip, EsptoolStub: true})
	c.sync()
	code := bytes.Repeat([]byte{0x11}, 0x200)
	c.ok(rom.OpMemBegin, rom.Begin{Size: 0x200, Blocks: 1, BlockSize: 0x1800, Offset: 0x40080000}.Marshal(), 0)
	c.ok(rom.OpMemData, rom.DataBlock(0, code), 0)
	c.ok(rom.OpMemEnd, rom.MemEnd{Entry: 0x40080400}.Marshal(), 0)
	f, err := c.r.ReadFrame()
	must(t, err)
	if string(f) != "OHAI" {
		t.Fatalf("greeting %q", f)
	}
	return c
}

// stubOK sends a command to the stub and checks its 2-byte status.
func (c *romClient) stubOK(op rom.Op, data []byte, want int) rom.Response {
	c.t.Helper()
	r := c.cmd(op, data)
	if r.Op != op || len(r.Data) != want+rom.StatusLenStub || r.Data[want] != 0 {
		c.t.Fatalf("%s: reply %+v", op, r)
	}
	return r
}

func TestEsptoolStubModel(t *testing.T) {
	c := startStub(t, "esp32")
	c.send(rom.OpSync, rom.SyncData)
	for i := 0; i < rom.SyncReplies; i++ {
		if r := c.next(); r.Value != 0 || len(r.Data) != 2 {
			t.Fatalf("stub SYNC reply %+v", r)
		}
	}
	if r := c.stubOK(rom.OpReadReg, rom.ReadRegData(chipDetectMagicAddr), 0); r.Value != c.b.p.magic {
		t.Fatalf("READ_REG %#x", r.Value)
	}
	// 16 KiB blocks, four-word FLASH_BEGIN.
	data := bytes.Repeat([]byte{0xDB, 0xC0, 7}, 0x4000/3+1)[:0x4000]
	c.stubOK(rom.OpFlashBegin, rom.Begin{Size: 0x4000, Blocks: 1, BlockSize: 0x4000, Offset: 0x10000}.Marshal(), 0)
	c.stubOK(rom.OpFlashData, rom.DataBlock(0, data), 0)
	bad := rom.Request{Op: rom.OpFlashData, Checksum: 0, Data: rom.DataBlock(1, data)}.AppendBinary(nil)
	c.sendRaw(bad)
	if r := c.next(); !bytes.Equal(r.Data, []byte{byte(rom.StubErrDataChecksum), 0}) {
		t.Fatalf("bad checksum: % x", r.Data)
	}
	sum := md5.Sum(data)
	if r := c.stubOK(rom.OpSPIFlashMD5, rom.MD5Data(0x10000, 0x4000), 16); !bytes.Equal(r.Data[:16], sum[:]) {
		t.Fatal("raw md5")
	}
	// READ_FLASH streams packets, the host acknowledges, a digest follows.
	req := rom.Request{Op: rom.OpReadFlash, Data: append(rom.RegionData(0x10000, 0x4000), 0x00, 0x10, 0, 0, 2, 0, 0, 0)}
	c.sendRaw(req.AppendBinary(nil))
	if r := c.next(); r.Op != rom.OpReadFlash {
		t.Fatal(r.Op)
	}
	var got []byte
	for len(got) < 0x4000 {
		p, err := c.r.ReadFrame()
		must(t, err)
		got = append(got, p...)
		must(t, writeAll(c, slip.Encode(binary.LittleEndian.AppendUint32(nil, uint32(len(got))))))
	}
	digest, err := c.r.ReadFrame()
	must(t, err)
	if !bytes.Equal(got, data) || !bytes.Equal(digest, sum[:]) {
		t.Fatal("READ_FLASH data or digest")
	}
	c.stubOK(rom.OpEraseRegion, rom.RegionData(0x10000, 0x1000), 0)
	chk := make([]byte, 0x1000)
	c.b.flash.readAt(chk, 0x10000)
	if !allFF(chk) {
		t.Fatal("ERASE_REGION")
	}
	c.stubOK(rom.OpEraseFlash, nil, 0)
	c.stubOK(rom.OpChangeBaudrate, rom.ChangeBaudData(460800, 115200), 0)
	must(t, c.p.SetBaud(460800))
	c.stubOK(rom.OpSPIAttach, rom.SPIAttachData(0)[:4], 0)
	// FLASH_END 1 stays in the stub; 0 reboots.
	c.stubOK(rom.OpFlashEnd, rom.EndData(true), 0)
	c.stubOK(rom.OpFlashEnd, rom.EndData(false), 0)
	// The reboot's banner comes at 115200 while the host is at 460800; the
	// board rebooted from its (erased) flash.
	if c.b.Mode() != "halted" {
		t.Fatal(c.b.Mode())
	}
}

func writeAll(c *romClient, b []byte) error { _, err := c.p.Write(b); return err }

func TestNoStubModelFallsSilent(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	c.ok(rom.OpMemEnd, rom.MemEnd{Entry: 0x40080400}.Marshal(), 0)
	c.send(rom.OpSync, rom.SyncData)
	c.noReply(50 * time.Millisecond)
}
