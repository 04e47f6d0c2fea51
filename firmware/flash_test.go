package firmware

import (
	"errors"
	"testing"
)

func TestFlashSettings(t *testing.T) {
	for i, n := range []string{"qio", "qout", "dio", "dout"} {
		m, err := ParseFlashMode(n)
		if err != nil || int(m) != i || m.String() != n {
			t.Errorf("mode %s: %v %v", n, m, err)
		}
	}
	if _, err := ParseFlashMode("fast"); !errors.Is(err, ErrFlashSetting) {
		t.Error("bad mode accepted")
	}
	for code, n := range []string{"1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB"} {
		s, err := ParseFlashSize(n)
		if err != nil || int(s) != code || s.String() != n || s.Bytes() != 1<<(20+code) {
			t.Errorf("size %s: %v %v", n, s, err)
		}
		if got, ok := FlashSizeForBytes(s.Bytes()); !ok || got != s {
			t.Errorf("FlashSizeForBytes(%d)", s.Bytes())
		}
	}
	if _, err := ParseFlashSize("3MB"); err == nil {
		t.Error("3MB accepted")
	}
	if FlashSize(9).Valid() || FlashSize(9).Bytes() != 0 {
		t.Error("size code 9 valid")
	}
	freqs := []struct {
		chip Chip
		name string
		code FlashFreq
	}{
		{ChipESP32, "80m", 0xF}, {ChipESP32, "40m", 0}, {ChipESP32, "26m", 1}, {ChipESP32, "20m", 2},
		{ChipESP32C2, "60m", 0xF}, {ChipESP32C2, "30m", 0}, {ChipESP32C2, "15m", 2},
		{ChipESP32H2, "48m", 0xF}, {ChipESP32H2, "24m", 0}, {ChipESP32H2, "12m", 2},
		{ChipESP32C6, "80m", 0}, {ChipESP32C6, "20m", 2},
		{ChipESP32C5, "80m", 0xF},
	}
	for _, f := range freqs {
		code, err := ParseFlashFreq(f.chip, f.name)
		if err != nil || code != f.code {
			t.Errorf("%s %s: %v %v", f.chip, f.name, code, err)
		}
		if got := f.code.FormatFreq(f.chip); got != f.name {
			t.Errorf("%s code %x formats as %q, want %q", f.chip, f.code, got, f.name)
		}
	}
	if c, err := ParseFlashFreq(ChipESP32C6, "40m"); err != nil || c != 0 {
		t.Errorf("C6 40m: %v %v", c, err)
	}
	if _, err := ParseFlashFreq(ChipESP32C6, "26m"); err == nil {
		t.Error("C6 26m accepted")
	}
}

func TestChips(t *testing.T) {
	cases := []struct {
		name string
		id   Chip
		boot uint32
	}{
		{"esp32", 0, 0x1000}, {"ESP32-S2", 2, 0x1000}, {"esp32c3", 5, 0}, {"esp32-s3", 9, 0},
		{"esp32c2", 12, 0}, {"esp32c6", 13, 0}, {"esp32h2", 16, 0}, {"esp32p4", 18, 0x2000},
		{"esp32c61", 20, 0}, {"esp32c5", 23, 0x2000},
	}
	for _, c := range cases {
		id, err := ChipByName(c.name)
		if err != nil || id != c.id {
			t.Errorf("ChipByName(%s) = %v %v", c.name, id, err)
		}
		if off, ok := id.BootloaderOffset(); !ok || off != c.boot {
			t.Errorf("%s bootloader offset 0x%x", c.name, off)
		}
	}
	if _, err := ChipByName("esp8266"); !errors.Is(err, ErrUnknownChip) {
		t.Errorf("esp8266: %v", err)
	}
	if Chip(99).String() != "chip id 99" || Chip(99).Known() {
		t.Error("unknown chip id")
	}
	if ChipESP32S3.DisplayName() != "ESP32-S3" {
		t.Error(ChipESP32S3.DisplayName())
	}
}
