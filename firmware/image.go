package firmware

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Image format constants.
const (
	ImageMagic       = 0xE9   // first byte of every ESP32-family image
	ChecksumSeed     = 0xEF   // initial value of the XOR checksum
	WPPinDisabled    = 0xEE   // extended header WP pin value for "none"
	MaxRevUnset      = 0xFFFF // max_rev_full meaning "no upper bound"
	headerLen        = 8      // common header
	extHeaderLen     = 16     // extended header
	segHeaderLen     = 8      // load address + length
	imageHeadersLen  = headerLen + extHeaderLen
	maxImageSegments = 16   // ESP_IMAGE_MAX_SEGMENTS in ESP-IDF's bootloader
	appDescOffset    = 0x20 // file offset of esp_app_desc_t in an app
	esp8266V2Magic   = 0xEA // ESP8266 "v2" images, not supported here
	sha256Len        = sha256.Size
)

// Errors callers branch on. Parse and Verify failures wrap one of these.
var (
	ErrNotImage    = errors.New("not an ESP image")
	ErrTruncated   = errors.New("image truncated")
	ErrBadChecksum = errors.New("image checksum mismatch")
	ErrBadHash     = errors.New("image SHA-256 mismatch")
	ErrBadSegment  = errors.New("bad image segment")
)

// Header is the 8-byte common image header.
type Header struct {
	Magic        byte
	SegmentCount byte
	FlashMode    FlashMode
	FlashSize    FlashSize // high nibble of byte 3
	FlashFreq    FlashFreq // low nibble of byte 3; meaning depends on the chip
	Entry        uint32
}

// Extended is the 16-byte extended header that follows on ESP32-family
// chips.
type Extended struct {
	WPPin        byte    // SPI WP pin for QIO, WPPinDisabled if none
	SPIDrive     [3]byte // drive strengths: clk|q<<4, d|cs<<4, hd|wp<<4
	ChipID       Chip
	MinRev       byte   // legacy minimum revision (major, or minor on C3)
	MinRevFull   uint16 // major*100 + minor
	MaxRevFull   uint16 // major*100 + minor; MaxRevUnset for none; 0 in old images
	Reserved     [4]byte
	HashAppended bool // a SHA-256 follows the checksum byte
}

// Segment is one load segment: data the bootloader copies to (or maps at)
// LoadAddr.
type Segment struct {
	LoadAddr   uint32
	Data       []byte
	FileOffset int // offset of the segment's 8-byte header in the file; Data follows it
}

// Image is a parsed app or bootloader image.
type Image struct {
	Header   Header
	Extended Extended
	Segments []Segment

	Checksum           byte // as stored
	CalculatedChecksum byte
	ChecksumValid      bool

	SHA256           []byte // as stored; nil unless HashAppended
	CalculatedSHA256 []byte // over Raw up to and including the checksum
	SHA256Valid      bool

	AppDesc        *AppDesc        // nil unless the first DROM segment starts with one
	BootloaderDesc *BootloaderDesc // nil unless a DRAM segment starts with one

	// Length is the number of bytes the image occupies, up to and including
	// the appended SHA-256; bytes after it (signature blocks, padding) are
	// not part of the image proper.
	Length int
	// Raw is the input the image was parsed from (not copied).
	Raw []byte
}

// ParseImage parses an app or bootloader image. It fails only when the bytes
// cannot be an image (bad magic, truncated headers or segments); a wrong
// checksum or hash is recorded in ChecksumValid/SHA256Valid and reported by
// Verify, as esptool's image_info does.
func ParseImage(data []byte) (*Image, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: file is empty", ErrNotImage)
	}
	switch data[0] {
	case ImageMagic:
	case esp8266V2Magic:
		return nil, fmt.Errorf("%w: magic 0xEA is an ESP8266 v2 image; only ESP32-family images (0xE9) are supported", ErrNotImage)
	default:
		return nil, fmt.Errorf("%w: magic byte 0x%02X at offset 0, want 0xE9", ErrNotImage, data[0])
	}
	if len(data) < imageHeadersLen {
		return nil, fmt.Errorf("%w: %d bytes, the header and extended header need %d", ErrTruncated, len(data), imageHeadersLen)
	}
	img := &Image{Raw: data}
	img.Header = Header{
		Magic:        data[0],
		SegmentCount: data[1],
		FlashMode:    FlashMode(data[2]),
		FlashSize:    FlashSize(data[3] >> 4),
		FlashFreq:    FlashFreq(data[3] & 0x0F),
		Entry:        binary.LittleEndian.Uint32(data[4:8]),
	}
	img.Extended = parseExtended(data[headerLen:imageHeadersLen])

	pos := imageHeadersLen
	sum := byte(ChecksumSeed)
	for i := 0; i < int(img.Header.SegmentCount); i++ {
		if len(data)-pos < segHeaderLen {
			return nil, fmt.Errorf("%w: segment %d header at 0x%x runs past the end of the file (%d bytes)", ErrTruncated, i, pos, len(data))
		}
		addr := binary.LittleEndian.Uint32(data[pos:])
		n := binary.LittleEndian.Uint32(data[pos+4:])
		pos += segHeaderLen
		if uint64(n) > uint64(len(data)-pos) {
			return nil, fmt.Errorf("%w: segment %d at 0x%x claims 0x%x bytes, only 0x%x remain", ErrTruncated, i, pos-segHeaderLen, n, len(data)-pos)
		}
		seg := Segment{LoadAddr: addr, Data: data[pos : pos+int(n)], FileOffset: pos - segHeaderLen}
		for _, b := range seg.Data {
			sum ^= b
		}
		img.Segments = append(img.Segments, seg)
		pos += int(n)
	}
	// The checksum sits in the last byte of the 16-byte block after the
	// segments, so the image length (before any hash) is a multiple of 16.
	csPos := pos + 15 - pos%16
	if csPos >= len(data) {
		return nil, fmt.Errorf("%w: checksum byte at 0x%x is past the end of the file (%d bytes)", ErrTruncated, csPos, len(data))
	}
	img.Checksum = data[csPos]
	img.CalculatedChecksum = sum
	img.ChecksumValid = sum == img.Checksum
	img.Length = csPos + 1
	sh := sha256.Sum256(data[:csPos+1])
	img.CalculatedSHA256 = sh[:]
	if img.Extended.HashAppended {
		if len(data) < img.Length+sha256Len {
			return nil, fmt.Errorf("%w: the extended header says a SHA-256 is appended at 0x%x but the file ends at 0x%x", ErrTruncated, img.Length, len(data))
		}
		img.SHA256 = data[img.Length : img.Length+sha256Len]
		img.SHA256Valid = bytes.Equal(img.SHA256, img.CalculatedSHA256)
		img.Length += sha256Len
	}
	img.findDescriptors()
	return img, nil
}

func parseExtended(b []byte) Extended {
	var e Extended
	e.WPPin = b[0]
	copy(e.SPIDrive[:], b[1:4])
	e.ChipID = Chip(binary.LittleEndian.Uint16(b[4:6]))
	e.MinRev = b[6]
	e.MinRevFull = binary.LittleEndian.Uint16(b[7:9])
	e.MaxRevFull = binary.LittleEndian.Uint16(b[9:11])
	copy(e.Reserved[:], b[11:15])
	e.HashAppended = b[15] == 1
	return e
}

// appendExtended encodes e as the 16 extended-header bytes.
func appendExtended(dst []byte, e Extended) []byte {
	dst = append(dst, e.WPPin, e.SPIDrive[0], e.SPIDrive[1], e.SPIDrive[2])
	dst = binary.LittleEndian.AppendUint16(dst, uint16(e.ChipID))
	dst = append(dst, e.MinRev)
	dst = binary.LittleEndian.AppendUint16(dst, e.MinRevFull)
	dst = binary.LittleEndian.AppendUint16(dst, e.MaxRevFull)
	dst = append(dst, e.Reserved[:]...)
	if e.HashAppended {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// findDescriptors looks for the app descriptor at the start of the first
// DROM segment and, failing that, a bootloader descriptor at the start of
// a DRAM segment.
func (img *Image) findDescriptors() {
	chip := img.Extended.ChipID
	for i, s := range img.Segments {
		if !chip.Known() && i > 0 {
			break // without a memory map only the first segment can be trusted
		}
		if chip.Known() && !hasType(chip.MemoryTypes(s.LoadAddr), "DROM") {
			continue
		}
		if d, err := ParseAppDesc(s.Data); err == nil {
			img.AppDesc = d
		}
		break
	}
	if img.AppDesc != nil {
		return
	}
	for _, s := range img.Segments {
		if chip.Known() && !hasType(chip.MemoryTypes(s.LoadAddr), "DRAM") {
			continue
		}
		if d, err := ParseBootloaderDesc(s.Data); err == nil {
			img.BootloaderDesc = d
			return
		}
	}
}

func hasType(types []string, want string) bool {
	for _, t := range types {
		if t == want {
			return true
		}
	}
	return false
}

// Verify checks the checksum byte and, when one is appended, the SHA-256.
// Each failure is reported with the stored and calculated values; both are
// joined when both fail.
func (img *Image) Verify() error {
	var errs []error
	if !img.ChecksumValid {
		errs = append(errs, fmt.Errorf("%w: stored 0x%02x at file offset 0x%x, calculated 0x%02x over %d segments",
			ErrBadChecksum, img.Checksum, img.checksumOffset(), img.CalculatedChecksum, len(img.Segments)))
	}
	if img.Extended.HashAppended && !img.SHA256Valid {
		errs = append(errs, fmt.Errorf("%w: stored %x, calculated %x over bytes 0x0-0x%x",
			ErrBadHash, img.SHA256, img.CalculatedSHA256, img.checksumOffset()))
	}
	return errors.Join(errs...)
}

func (img *Image) checksumOffset() int {
	if img.Extended.HashAppended {
		return img.Length - sha256Len - 1
	}
	return img.Length - 1
}

// FlashFreqName is the header's flash frequency in esptool's spelling for
// the image's chip, e.g. "80m"; "" if the nibble means nothing for it.
func (img *Image) FlashFreqName() string { return img.Header.FlashFreq.FormatFreq(img.Extended.ChipID) }

// SupportsRevision reports whether a chip of revision rev (major*100+minor)
// may run this image, deciding between the full and the legacy revision
// fields as esptool does; when it may not, reason says why.
func (img *Image) SupportsRevision(rev int) (ok bool, reason string) {
	e := img.Extended
	useFull := true
	switch {
	case e.MaxRevFull == 0: // image predates the full fields
		useFull = false
	case e.MaxRevFull == MaxRevUnset && e.MinRevFull == 0 && e.MinRev != 0:
		useFull = false
	}
	if useFull {
		if rev >= int(e.MinRevFull) && rev <= int(e.MaxRevFull) {
			return true, ""
		}
		max := "max rev not set"
		if e.MaxRevFull != MaxRevUnset {
			max = FormatRevision(int(e.MaxRevFull))
		}
		return false, fmt.Sprintf("image requires chip revision in range [%s - %s], chip is %s",
			FormatRevision(int(e.MinRevFull)), max, FormatRevision(rev))
	}
	have := rev / 100
	if e.ChipID == ChipESP32C3 { // the C3's legacy field counts minor revisions
		have = rev % 100
	}
	if have >= int(e.MinRev) {
		return true, ""
	}
	return false, fmt.Sprintf("image requires chip revision %d or later (legacy min_rev), chip is %s", e.MinRev, FormatRevision(rev))
}

// FormatRevision writes a major*100+minor revision as "v3.1".
func FormatRevision(rev int) string { return fmt.Sprintf("v%d.%d", rev/100, rev%100) }
