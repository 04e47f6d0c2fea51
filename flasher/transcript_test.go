package flasher

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
)

// Transcript tests: exact bytes on the wire, written from Espressif's serial
// protocol page and the replies observed from the real ESP32 ROM.

type exchange struct {
	host string // what the host must send, hex (spaces ignored)
	chip string // what the chip answers, hex
}

func hx(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// playChip runs script on the device end of a pipe and returns the host end.
func playChip(t *testing.T, script []exchange) portio.Port {
	host, dev := portio.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		dev.SetReadTimeout(2 * time.Second)
		buf := make([]byte, 4096)
		for i, ex := range script {
			want := hx(t, ex.host)
			var got []byte
			for len(got) < len(want) {
				n, err := dev.Read(buf)
				if err != nil {
					t.Errorf("exchange %d: read: %v (have % x)", i, err, got)
					return
				}
				got = append(got, buf[:n]...)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("exchange %d: host sent\n% x\nwant\n% x", i, got, want)
				return
			}
			dev.Write(hx(t, ex.chip))
		}
	}()
	t.Cleanup(func() { host.Close(); <-done })
	return host
}

var (
	syncRequest = "c0 00 08 24 00 00 00 00 00 07 07 12 20" + strings.Repeat(" 55", 32) + " c0"
	syncReply   = "c0 01 08 04 00 07 07 12 20 00 00 00 00 c0"
)

func TestTranscriptSyncDetectMD5(t *testing.T) {
	md5hex := "d41d8cd98f00b204e9800998ecf8427e"
	script := []exchange{
		{syncRequest, strings.Repeat(syncReply, 8)},
		// ESP32 ROM refuses GET_SECURITY_INFO, echoing the last op it
		// handled (SYNC) with that op's value and status 01 05.
		{"c0 00 14 00 00 00 00 00 00 c0", "c0 01 08 04 00 07 07 12 20 01 05 00 00 c0"},
		{"c0 00 0a 04 00 00 00 00 00 00 10 00 40 c0", "c0 01 0a 04 00 83 1d f0 00 00 00 00 00 c0"},
		// Before its first flash command the client attaches the SPI flash
		// (pins word 0 plus the four zero bytes the ROM takes) and declares
		// its geometry: the ROM refuses ranges past 2 MiB until it knows
		// the flash is bigger. 4 MiB, 64 KiB blocks, 4 KiB sectors,
		// 256-byte pages, status mask 0xFFFF.
		{"c0 00 0d 08 00 00 00 00 00 00 00 00 00 00 00 00 00 c0", "c0 01 0d 04 00 83 1d f0 00 00 00 00 00 c0"},
		{
			"c0 00 0b 18 00 00 00 00 00 00 00 00 00 00 00 40 00 00 00 01 00 00 10 00 00 00 01 00 00 ff ff 00 00 c0",
			"c0 01 0b 04 00 83 1d f0 00 00 00 00 00 c0",
		},
		// MD5 of 0 bytes at 0x10000. The reply's value is stale (the last
		// READ_REG result) and its error byte and reserved bytes are left
		// over from earlier replies; only the first status byte counts.
		{
			"c0 00 13 10 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 c0",
			"c0 01 13 24 00 83 1d f0 00" + hex.EncodeToString([]byte(md5hex)) + "00 07 65 35 c0",
		},
	}
	c := New(playChip(t, script), Options{Before: ResetNone, Timeouts: testTimeouts, Logf: t.Logf})
	ctx := context.Background()
	if err := c.Sync(ctx); err != nil || c.Stub() {
		t.Fatalf("sync: %v stub=%v", err, c.Stub())
	}
	chip, sec, err := c.detect(ctx)
	if err != nil || chip.Name != "ESP32" || sec != nil {
		t.Fatalf("detect: %v %v %v", chip, sec, err)
	}
	c.chip = chip
	sum, err := c.MD5(ctx, 0x10000, 0)
	if err != nil || hex.EncodeToString(sum[:]) != md5hex {
		t.Fatalf("md5 %x %v", sum, err)
	}
}

func TestTranscriptStubSync(t *testing.T) {
	// A running flasher stub answers SYNC with value 0 and 2 status bytes.
	stubReply := "c0 01 08 02 00 00 00 00 00 00 00 c0"
	c := New(playChip(t, []exchange{{syncRequest, strings.Repeat(stubReply, 8)}}), Options{Timeouts: testTimeouts})
	if err := c.Sync(context.Background()); err != nil || !c.Stub() {
		t.Fatalf("sync: %v stub=%v", err, c.Stub())
	}
}

func TestTranscriptSkipsStrayFrames(t *testing.T) {
	// Between request and reply: banner noise, a late SYNC reply, a frame
	// that is not a response, and a SLIP-escaped value (0xC0, 0xDB).
	script := []exchange{{
		"c0 00 0a 04 00 00 00 00 00 14 40 f4 3f c0",
		hex.EncodeToString([]byte("rst:0x1")) + syncReply + "c0 00 01 02 c0" +
			"c0 01 0a 04 00 db dc db dd 00 00 00 00 00 00 c0",
	}}
	c := New(playChip(t, script), Options{Timeouts: testTimeouts})
	v, err := c.ReadReg(context.Background(), 0x3FF44014)
	if err != nil || v != 0x0000dbc0 {
		t.Fatalf("value %#x err %v", v, err)
	}
}

func TestTranscriptFlashBlock(t *testing.T) {
	// FLASH_DEFL_BEGIN on the C3 (five words), one block, checksum of its
	// bytes in the header; the reply's error byte 07 is left over from an
	// earlier failure, and the status 00 makes it a success.
	data := []byte{0x78, 0xda, 0x01, 0xc0}
	begin := rom.Begin{Size: 0x400, Blocks: 1, BlockSize: 0x400, Offset: 0, HasEncrypted: true}
	b, _ := rom.NewRequest(rom.OpFlashDeflBegin, begin.Marshal()).MarshalBinary()
	script := []exchange{
		{"c0" + hex.EncodeToString(b) + "c0", "c0 01 10 04 00 00 00 00 00 00 00 00 00 c0"},
		// checksum = 0xEF^0x78^0xDA^0x01^0xC0 = 0x8C; the C0 data byte is escaped.
		{"c0 00 11 14 00 8c 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 78 da 01 db dc c0",
			"c0 01 11 04 00 00 00 00 00 00 07 00 00 c0"},
	}
	c := New(playChip(t, script), Options{Timeouts: testTimeouts})
	c.chip = ChipByName("esp32c3")
	ctx := context.Background()
	seg := &planSegment{addr: 0, raw: make([]byte, 0x400), blocks: [][]byte{data}}
	if err := c.beginSegment(ctx, c.chip, rom.OpFlashDeflBegin, true, 0x400, seg); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.command(ctx, rom.OpFlashDeflData, time.Second, 0, uint32(rom.Checksum(data)), rom.DataBlock(0, data)); err != nil {
		t.Fatal(err)
	}
}

func TestTranscriptChecksumFailure(t *testing.T) {
	script := []exchange{{
		"c0 00 03 14 00 eb 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 02 03 04 c0",
		"c0 01 03 04 00 00 00 00 00 01 07 00 00 c0",
	}}
	c := New(playChip(t, script), Options{Timeouts: testTimeouts})
	blk := []byte{1, 2, 3, 4}
	_, _, err := c.command(context.Background(), rom.OpFlashData, time.Second, 0, uint32(rom.Checksum(blk)), rom.DataBlock(0, blk))
	var se *rom.StatusError
	if !errors.As(err, &se) || se.Code != rom.ErrBadChecksum || se.Op != rom.OpFlashData {
		t.Fatalf("err = %v", err)
	}
	if err.Error() != "FLASH_DATA failed: status 0x0107: invalid CRC in message" {
		t.Fatalf("message %q", err)
	}
}

func TestTranscriptShortReply(t *testing.T) {
	// An MD5 reply without its 32 hex characters is a protocol violation.
	script := []exchange{{
		"c0 00 13 10 00 00 00 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00 00 00 00 c0",
		"c0 01 13 04 00 00 00 00 00 00 00 00 00 c0",
	}}
	c := New(playChip(t, script), Options{Timeouts: testTimeouts})
	c.attached, c.params = true, true // this exchange is about the MD5 reply alone
	_, err := c.MD5(context.Background(), 0, 0x1000)
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Op != rom.OpSPIFlashMD5 {
		t.Fatalf("err = %v", err)
	}
}
