package firmware

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

// handImage lays out a two-segment ESP32-S3 image byte by byte from the
// format description (esptool "Firmware Image Format"), independently of
// EncodeImage.
func handImage() []byte {
	b := []byte{
		0xE9,                   // magic
		0x02,                   // segment count
		0x02,                   // flash mode: DIO
		0x2F,                   // size 4MB (2<<4) | freq 80m (0xF)
		0x78, 0x56, 0x37, 0x40, // entry 0x40375678
		// extended header
		0xEE,             // WP pin disabled
		0x21, 0x43, 0x65, // drive: clk 1 q 2, d 3 cs 4, hd 5 wp 6
		0x09, 0x00, // chip id 9 (ESP32-S3)
		0x00,       // legacy min rev
		0x65, 0x00, // min_rev_full 101 (v1.1)
		0x8F, 0x01, // max_rev_full 399 (v3.99)
		0, 0, 0, 0, // reserved
		0x01, // hash appended
		// segment 0 at file offset 0x18: 4 bytes at 0x3FC98000
		0x00, 0x80, 0xC9, 0x3F, 0x04, 0x00, 0x00, 0x00,
		0x11, 0x22, 0x33, 0x44,
		// segment 1 at 0x24: 8 bytes at 0x40374000
		0x00, 0x40, 0x37, 0x40, 0x08, 0x00, 0x00, 0x00,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	}
	// 0x34 bytes so far: pad to 0x3F, then the checksum at 0x3F.
	for len(b) < 0x3F {
		b = append(b, 0)
	}
	sum := byte(0xEF)
	for _, c := range []byte{0x11, 0x22, 0x33, 0x44, 1, 2, 3, 4, 5, 6, 7, 8} {
		sum ^= c
	}
	b = append(b, sum)
	h := sha256.Sum256(b)
	return append(b, h[:]...)
}

func TestParseHandImage(t *testing.T) {
	raw := handImage()
	img, err := ParseImage(raw)
	if err != nil {
		t.Fatal(err)
	}
	h, e := img.Header, img.Extended
	if h.SegmentCount != 2 || h.FlashMode != FlashDIO || h.FlashSize != Flash4MB || h.FlashFreq != 0xF || h.Entry != 0x40375678 {
		t.Errorf("header %+v", h)
	}
	if e.WPPin != 0xEE || e.SPIDrive != [3]byte{0x21, 0x43, 0x65} || e.ChipID != ChipESP32S3 || e.MinRevFull != 101 || e.MaxRevFull != 399 || !e.HashAppended {
		t.Errorf("extended %+v", e)
	}
	if len(img.Segments) != 2 || img.Segments[1].LoadAddr != 0x40374000 || img.Segments[1].FileOffset != 0x24 || !bytes.Equal(img.Segments[0].Data, []byte{0x11, 0x22, 0x33, 0x44}) {
		t.Errorf("segments %+v", img.Segments)
	}
	if !img.ChecksumValid || !img.SHA256Valid || img.Length != 0x60 || img.FlashFreqName() != "80m" {
		t.Errorf("checksum %v sha %v length 0x%x freq %q", img.ChecksumValid, img.SHA256Valid, img.Length, img.FlashFreqName())
	}
	if err := img.Verify(); err != nil {
		t.Error(err)
	}
	// EncodeImage must reproduce the hand layout exactly.
	segs := []Segment{{LoadAddr: 0x3FC98000, Data: img.Segments[0].Data}, {LoadAddr: 0x40374000, Data: img.Segments[1].Data}}
	enc, err := EncodeImage(h, e, segs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, raw) {
		t.Errorf("EncodeImage differs from the hand layout:\n%x\n%x", enc, raw)
	}
	info := FormatImageInfo(img, len(raw))
	for _, want := range []string{"Flash pins drive settings: clk_drv: 0x1, q_drv: 0x2, d_drv: 0x3, cs0_drv: 0x4, hd_drv: 0x5, wp_drv: 0x6",
		"Minimal chip revision: v1.1, (legacy min_rev = 0)", "Maximal chip revision: v3.99",
		"      1  0x00008  0x40374000  0x00000024  MEM_INTERNAL, IRAM", "Checksum: 0xa3 (valid)"} {
		if !strings.Contains(info, want) {
			t.Errorf("image info lacks %q:\n%s", want, info)
		}
	}
}

func TestParseImageErrors(t *testing.T) {
	good := handImage()
	cases := []struct {
		name string
		data []byte
		is   error
		want string
	}{
		{"empty", nil, ErrNotImage, "file is empty"},
		{"bad magic", []byte{0x7F, 'E', 'L', 'F'}, ErrNotImage, "magic byte 0x7F at offset 0, want 0xE9"},
		{"esp8266 v2", []byte{0xEA, 0x04}, ErrNotImage, "ESP8266 v2 image"},
		{"short header", good[:20], ErrTruncated, "20 bytes, the header and extended header need 24"},
		{"short segment header", good[:0x1C], ErrTruncated, "segment 0 header at 0x18 runs past the end"},
		{"segment too long", good[:0x2E], ErrTruncated, "segment 1 at 0x24 claims 0x8 bytes, only 0x2 remain"},
		{"no checksum", good[:0x3E], ErrTruncated, "checksum byte at 0x3f is past the end"},
		{"no hash", good[:0x50], ErrTruncated, "SHA-256 is appended at 0x40 but the file ends at 0x50"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseImage(c.data)
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %v containing %q", err, c.is, c.want)
			}
		})
	}
}

func TestVerifyMessages(t *testing.T) {
	raw := handImage()
	raw[0x20] ^= 0x01 // a segment byte: checksum and hash both break
	img, err := ParseImage(raw)
	if err != nil {
		t.Fatal(err)
	}
	err = img.Verify()
	if !errors.Is(err, ErrBadChecksum) || !errors.Is(err, ErrBadHash) {
		t.Fatalf("Verify = %v, want both failures", err)
	}
	want := "image checksum mismatch: stored 0x" // then the values
	if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "at file offset 0x3f, calculated 0x") ||
		!strings.Contains(err.Error(), "image SHA-256 mismatch: stored ") || !strings.Contains(err.Error(), "over bytes 0x0-0x3f") {
		t.Errorf("message: %v", err)
	}
	raw = handImage()
	raw[0x50] ^= 0x01 // inside the hash only
	img, _ = ParseImage(raw)
	if err := img.Verify(); errors.Is(err, ErrBadChecksum) || !errors.Is(err, ErrBadHash) {
		t.Errorf("hash-only damage: %v", err)
	}
}

func TestWithFlashSettings(t *testing.T) {
	img, err := ParseImage(handImage())
	if err != nil {
		t.Fatal(err)
	}
	b, err := img.WithFlashSettings("qio", "16MB", "40m")
	if err != nil {
		t.Fatal(err)
	}
	if b[2] != 0x00 || b[3] != 0x40 {
		t.Errorf("header bytes %02x %02x, want 00 40", b[2], b[3])
	}
	re, err := ParseImage(b)
	if err != nil || re.Verify() != nil {
		t.Fatalf("rewritten image: %v / %v", err, re.Verify())
	}
	if !bytes.Equal(img.Raw, handImage()) {
		t.Error("WithFlashSettings modified the original bytes")
	}
	keep, err := img.WithFlashSettings("keep", "detect", "")
	if err != nil || !bytes.Equal(keep, img.Raw) {
		t.Errorf("keep changed the image: %v", err)
	}
	if _, err := img.WithFlashSettings("fast", "keep", "keep"); !errors.Is(err, ErrFlashSetting) {
		t.Errorf("bad mode: %v", err)
	}
	if _, err := img.WithFlashSettings("keep", "keep", "48m"); err == nil || !strings.Contains(err.Error(), `flash frequency "48m" for esp32s3 (want 80m, 40m, 26m, 20m)`) {
		t.Errorf("bad freq: %v", err)
	}
}

func TestSupportsRevision(t *testing.T) {
	mk := func(chip Chip, legacy byte, min, max uint16) *Image {
		return &Image{Extended: Extended{ChipID: chip, MinRev: legacy, MinRevFull: min, MaxRevFull: max}}
	}
	cases := []struct {
		img  *Image
		rev  int
		ok   bool
		want string
	}{
		{mk(ChipESP32, 0, 100, 399), 301, true, ""},
		{mk(ChipESP32, 0, 100, 399), 0, false, "image requires chip revision in range [v1.0 - v3.99], chip is v0.0"},
		{mk(ChipESP32, 0, 0, MaxRevUnset), 9999, true, ""},
		{mk(ChipESP32, 0, 200, MaxRevUnset), 100, false, "[v2.0 - max rev not set], chip is v1.0"},
		{mk(ChipESP32, 3, 0, 0), 200, false, "image requires chip revision 3 or later (legacy min_rev), chip is v2.0"},
		{mk(ChipESP32, 3, 0, 0), 300, true, ""},
		{mk(ChipESP32C3, 3, 0, MaxRevUnset), 4, true, ""}, // legacy field counts minor revisions on the C3
		{mk(ChipESP32C3, 3, 0, MaxRevUnset), 2, false, "legacy min_rev"},
	}
	for i, c := range cases {
		ok, why := c.img.SupportsRevision(c.rev)
		if ok != c.ok || !strings.Contains(why, c.want) {
			t.Errorf("case %d: SupportsRevision(%d) = %v %q, want %v %q", i, c.rev, ok, why, c.ok, c.want)
		}
	}
}
