package firmware

import (
	"errors"
	"fmt"
	"strings"
)

// ErrFlashSetting is wrapped by every failure to parse or encode a flash
// mode, size or frequency.
var ErrFlashSetting = errors.New("bad flash setting")

// Keep is the esptool value for a flash setting that must be left as the
// image has it; "detect" (size only) is treated the same by this package.
const Keep = "keep"

// FlashMode is the SPI flash mode byte of an image header (byte 2).
type FlashMode uint8

// Flash modes, in header encoding.
const (
	FlashQIO  FlashMode = 0
	FlashQOUT FlashMode = 1
	FlashDIO  FlashMode = 2
	FlashDOUT FlashMode = 3
)

var flashModeNames = []string{"qio", "qout", "dio", "dout"}

// String returns esptool's spelling ("dio"), or "mode N" when out of range.
func (m FlashMode) String() string {
	if int(m) < len(flashModeNames) {
		return flashModeNames[m]
	}
	return fmt.Sprintf("mode %d", uint8(m))
}

// Valid reports whether the mode is one of the four the ROM knows.
func (m FlashMode) Valid() bool { return int(m) < len(flashModeNames) }

// ParseFlashMode parses "qio", "qout", "dio" or "dout" (any case).
func ParseFlashMode(s string) (FlashMode, error) {
	for i, n := range flashModeNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return FlashMode(i), nil
		}
	}
	return 0, fmt.Errorf("%w: flash mode %q (want qio, qout, dio or dout)", ErrFlashSetting, s)
}

// FlashSize is the high nibble of header byte 3: 0 = 1 MB, 1 = 2 MB, ...
// 7 = 128 MB on every ESP32-family chip.
type FlashSize uint8

// Flash sizes, in header encoding.
const (
	Flash1MB   FlashSize = 0
	Flash2MB   FlashSize = 1
	Flash4MB   FlashSize = 2
	Flash8MB   FlashSize = 3
	Flash16MB  FlashSize = 4
	Flash32MB  FlashSize = 5
	Flash64MB  FlashSize = 6
	Flash128MB FlashSize = 7
)

// Valid reports whether the code names a size (0..7).
func (s FlashSize) Valid() bool { return s <= Flash128MB }

// Bytes returns the size in bytes, or 0 for an invalid code.
func (s FlashSize) Bytes() uint32 {
	if !s.Valid() {
		return 0
	}
	return 1 << (20 + uint(s))
}

// String returns esptool's spelling ("4MB"), or "size code N".
func (s FlashSize) String() string {
	if !s.Valid() {
		return fmt.Sprintf("size code %d", uint8(s))
	}
	return fmt.Sprintf("%dMB", 1<<uint(s))
}

// ParseFlashSize parses esptool's "4MB" (also "4M", "4mb").
func ParseFlashSize(str string) (FlashSize, error) {
	t := strings.ToUpper(strings.TrimSpace(str))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "M")
	for s := Flash1MB; s <= Flash128MB; s++ {
		if t == fmt.Sprint(1<<uint(s)) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w: flash size %q (want 1MB, 2MB, 4MB ... 128MB)", ErrFlashSetting, str)
}

// FlashSizeForBytes returns the code for an exact power-of-two size.
func FlashSizeForBytes(n uint32) (FlashSize, bool) {
	for s := Flash1MB; s <= Flash128MB; s++ {
		if s.Bytes() == n {
			return s, true
		}
	}
	return 0, false
}

// FlashFreq is the low nibble of header byte 3. Its meaning depends on the
// chip: 0xF is 80 MHz on the ESP32 but 60 MHz on the C2 and 48 MHz on the H2.
type FlashFreq uint8

// freqCode maps esptool's frequency spelling to a header nibble.
type freqCode struct {
	name string
	code FlashFreq
}

var (
	freqsESP32   = []freqCode{{"80m", 0xF}, {"40m", 0x0}, {"26m", 0x1}, {"20m", 0x2}}
	freqsESP32C2 = []freqCode{{"60m", 0xF}, {"30m", 0x0}, {"20m", 0x1}, {"15m", 0x2}}
	freqsESP32H2 = []freqCode{{"48m", 0xF}, {"24m", 0x0}, {"16m", 0x1}, {"12m", 0x2}}
	freqsESP32C5 = []freqCode{{"80m", 0xF}, {"40m", 0x0}, {"20m", 0x2}}
	// The C6 ROM misreads the 80 MHz divider, so ESP-IDF and esptool write
	// 0 for both 80 and 40 MHz; a 0 nibble reads back as "80m".
	freqsESP32C6 = []freqCode{{"80m", 0x0}, {"40m", 0x0}, {"20m", 0x2}}
)

func freqTable(c Chip) []freqCode {
	if ci, ok := c.info(); ok {
		return ci.freqs
	}
	return freqsESP32
}

// FormatFreq returns esptool's spelling of the nibble for the chip ("80m"),
// or "" when the chip has no frequency with that code.
func (f FlashFreq) FormatFreq(c Chip) string {
	for _, fc := range freqTable(c) {
		if fc.code == f {
			return fc.name
		}
	}
	return ""
}

// ParseFlashFreq parses esptool's "80m" (also "80MHz", "80") for the chip.
func ParseFlashFreq(c Chip, s string) (FlashFreq, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "hz"), "m") + "m"
	names := make([]string, 0, 4)
	for _, fc := range freqTable(c) {
		if fc.name == t {
			return fc.code, nil
		}
		names = append(names, fc.name)
	}
	return 0, fmt.Errorf("%w: flash frequency %q for %s (want %s)", ErrFlashSetting, s, c, strings.Join(names, ", "))
}
