package firmware

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

// EncodeImage lays out an image from its headers and segments: header,
// extended header, segments, zero padding, checksum byte and, when
// ext.HashAppended is set, the SHA-256. h.SegmentCount and h.Magic are
// filled in from the segments.
func EncodeImage(h Header, ext Extended, segs []Segment) ([]byte, error) {
	if len(segs) > 255 {
		return nil, fmt.Errorf("%w: %d segments, the header counts at most 255", ErrBadSegment, len(segs))
	}
	if !h.FlashMode.Valid() || !h.FlashSize.Valid() || h.FlashFreq > 0xF {
		return nil, fmt.Errorf("%w: header mode %d, size code %d, freq code %d", ErrFlashSetting, h.FlashMode, h.FlashSize, h.FlashFreq)
	}
	size := imageHeadersLen
	for _, s := range segs {
		size += segHeaderLen + len(s.Data)
	}
	out := make([]byte, 0, size+16+sha256Len)
	out = append(out, ImageMagic, byte(len(segs)), byte(h.FlashMode), byte(h.FlashSize)<<4|byte(h.FlashFreq))
	out = binary.LittleEndian.AppendUint32(out, h.Entry)
	out = appendExtended(out, ext)
	sum := byte(ChecksumSeed)
	for _, s := range segs {
		out = binary.LittleEndian.AppendUint32(out, s.LoadAddr)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(s.Data)))
		out = append(out, s.Data...)
		for _, b := range s.Data {
			sum ^= b
		}
	}
	for len(out)%16 != 15 {
		out = append(out, 0)
	}
	out = append(out, sum)
	if ext.HashAppended {
		d := sha256.Sum256(out)
		out = append(out, d[:]...)
	}
	return out, nil
}

// WithFlashSettings returns a copy of the image bytes with header bytes 2-3
// (flash mode, size, frequency) rewritten and the appended SHA-256, if any,
// recomputed, as esptool does for a bootloader when the settings are not
// "keep". Any argument may be Keep ("keep") or "" to leave that field;
// size also accepts "detect", which is left to the flasher. Bytes after the
// image (a signature block, say) are kept.
func (img *Image) WithFlashSettings(mode, size, freq string) ([]byte, error) {
	b := make([]byte, len(img.Raw))
	copy(b, img.Raw)
	if !isKeep(mode) {
		m, err := ParseFlashMode(mode)
		if err != nil {
			return nil, fmt.Errorf("rewrite image header: %w", err)
		}
		b[2] = byte(m)
	}
	if !isKeep(size) && !strings.EqualFold(size, "detect") {
		s, err := ParseFlashSize(size)
		if err != nil {
			return nil, fmt.Errorf("rewrite image header: %w", err)
		}
		b[3] = byte(s)<<4 | b[3]&0x0F
	}
	if !isKeep(freq) {
		f, err := ParseFlashFreq(img.Extended.ChipID, freq)
		if err != nil {
			return nil, fmt.Errorf("rewrite image header: %w", err)
		}
		b[3] = b[3]&0xF0 | byte(f)
	}
	if img.Extended.HashAppended {
		end := img.Length - sha256Len
		d := sha256.Sum256(b[:end])
		copy(b[end:], d[:])
	}
	return b, nil
}

func isKeep(s string) bool { return s == "" || strings.EqualFold(s, Keep) }
