package board

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"fleetline/flasher/rom"
)

func TestBannerAndSync(t *testing.T) {
	for _, chip := range Chips() {
		t.Run(chip, func(t *testing.T) {
			b := newBoard(t, Config{Chip: chip})
			p, err := b.Open()
			must(t, err)
			must(t, p.SetLines(false, true))
			must(t, p.SetLines(true, false))
			want := b.p.banner(resetPowerOn, true)
			buf := make([]byte, 0, 256)
			tmp := make([]byte, 256)
			for len(buf) < len(want) {
				n, err := p.Read(tmp) // the RC delay timer latches GPIO0
				must(t, err)
				buf = append(buf, tmp[:n]...)
			}
			if string(buf) != want {
				t.Fatalf("banner %q, want %q", buf, want)
			}
			c := &romClient{t: t, b: b, p: p}
			c.r = slipReader(p)
			c.sync()
			if got := c.readReg(chipDetectMagicAddr); got != b.p.magic {
				t.Fatalf("magic %#x", got)
			}
		})
	}
}

func TestESP32BannerText(t *testing.T) {
	p, _ := lookupChip("esp32")
	want := "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n"
	if got := p.banner(resetPowerOn, true); got != want {
		t.Fatalf("%q", got)
	}
}

func TestFlashWriteAndMD5(t *testing.T) {
	for _, chip := range Chips() {
		t.Run(chip, func(t *testing.T) {
			c := connect(t, Config{Chip: chip, Seed: 7})
			c.sync()
			c.ok(rom.OpSPIAttach, rom.SPIAttachData(0), 0)
			c.ok(rom.OpSPISetParams, rom.DefaultSPIParams(4<<20).Marshal(), 0)
			data := bytes.Repeat([]byte("fleetline!"), 500)
			c.writeFlash(0x10000, data)
			sum := md5.Sum(data)
			if got := c.md5(0x10000, uint32(len(data))); got != hex.EncodeToString(sum[:]) {
				t.Fatalf("md5 %s", got)
			}
			got := make([]byte, len(data))
			c.b.flash.readAt(got, 0x10000)
			if !bytes.Equal(got, data) {
				t.Fatal("flash contents differ")
			}
			if s := c.md5(0x10000, 1); strings.ToLower(s) != s {
				t.Fatal("md5 not lower case")
			}
		})
	}
}
