package board

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		must(t, os.MkdirAll("testdata", 0o755))
		must(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; got:\n%s", path, got)
	}
}

// TestTranscript records a ROM session byte for byte: every reply frame's
// header, value, data and stale trailer bytes. It pins the quirks in one
// place; a change shows as a diff of the transcript.
func TestTranscript(t *testing.T) {
	for _, chip := range Chips() {
		t.Run(chip, func(t *testing.T) {
			c := connect(t, Config{Chip: chip, Seed: 1})
			var out strings.Builder
			step := func(name string, op rom.Op, data []byte, replies int) {
				pkt := rom.NewRequest(op, data).AppendBinary(nil)
				c.sendRaw(pkt)
				fmt.Fprintf(&out, "> %s %s\n", name, hex.EncodeToString(pkt))
				for i := 0; i < replies; i++ {
					f, err := c.r.ReadFrame()
					must(t, err)
					fmt.Fprintf(&out, "< %s\n", hex.EncodeToString(f))
				}
			}
			step("SYNC", rom.OpSync, rom.SyncData, rom.SyncReplies)
			step("READ_REG magic", rom.OpReadReg, rom.ReadRegData(chipDetectMagicAddr), 1)
			step("GET_SECURITY_INFO", rom.OpGetSecurityInfo, nil, 1)
			step("SPI_ATTACH", rom.OpSPIAttach, rom.SPIAttachData(0), 1)
			step("SPI_SET_PARAMS", rom.OpSPISetParams, rom.DefaultSPIParams(4<<20).Marshal(), 1)
			step("MD5 0+4096", rom.OpSPIFlashMD5, rom.MD5Data(0, 4096), 1)
			step("WRITE_REG", rom.OpWriteReg, rom.WriteRegData(rom.RegWrite{Addr: 0x3FFB0000, Value: 1, Mask: 1}), 1)
			step("READ_FLASH_SLOW 16", rom.OpReadFlashSlow, rom.ReadFlashSlowData(0, 16), 1)
			step("READ_FLASH_SLOW 65", rom.OpReadFlashSlow, rom.ReadFlashSlowData(0, 65), 1)
			step("ERASE_FLASH (stub only)", rom.OpEraseFlash, nil, 1)
			b := rom.Begin{Size: 0x400, Blocks: 1, BlockSize: 0x400, Offset: 0x1000, HasEncrypted: c.b.p.beginWords == 5}
			step("FLASH_BEGIN", rom.OpFlashBegin, b.Marshal(), 1)
			step("FLASH_DATA seq 1", rom.OpFlashData, rom.DataBlock(1, make([]byte, 0x400)), 1)
			step("FLASH_DATA seq 0", rom.OpFlashData, rom.DataBlock(0, make([]byte, 0x400)), 1)
			step("MD5 past end", rom.OpSPIFlashMD5, rom.MD5Data(4<<20, 16), 1)
			golden(t, "transcript_"+chip+".golden", out.String())
		})
	}
}

// TestBootLogGolden pins the flash boot output of a board with a built
// bootloader, partition table and app.
func TestBootLogGolden(t *testing.T) {
	for _, chip := range Chips() {
		t.Run(chip, func(t *testing.T) {
			b := newBoard(t, Config{Chip: chip, Seed: 1})
			flashFirmware(t, b, nil)
			p, err := b.Open()
			must(t, err)
			hardReset(t, p)
			log := readUntil(t, p, "Calling app_main()\r\n")
			golden(t, "bootlog_"+chip+".golden", strings.ReplaceAll(log, "\r\n", "\n"))
		})
	}
}

// TestByteAtATime sends a whole session one byte per write, as a slow or
// chopped transport would deliver it.
func TestByteAtATime(t *testing.T) {
	c := connect(t, Config{})
	for _, by := range slip.Encode(rom.NewRequest(rom.OpSync, rom.SyncData).AppendBinary(nil)) {
		if _, err := c.p.Write([]byte{by}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < rom.SyncReplies; i++ {
		if r := c.next(); r.Op != rom.OpSync {
			t.Fatal(r.Op)
		}
	}
	for _, by := range slip.Encode(rom.NewRequest(rom.OpReadReg, rom.ReadRegData(chipDetectMagicAddr)).AppendBinary(nil)) {
		c.p.Write([]byte{by})
	}
	if r := c.next(); r.Value != c.b.p.magic {
		t.Fatalf("%#x", r.Value)
	}
}
