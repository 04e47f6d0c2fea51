package firmware

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrBuild is wrapped by every builder failure.
var ErrBuild = errors.New("build image")

// MinBuildSize is the smallest image the builder makes.
const MinBuildSize = 1024

// Caps on an app's RAM-loaded segments, so they stay inside every chip's
// internal SRAM whatever the image size.
const (
	maxAppDRAM = 32 << 10
	maxAppIRAM = 64 << 10
)

// AppSpec describes an app image for BuildApp. Zero fields take ESP-IDF's
// defaults.
type AppSpec struct {
	Chip          Chip
	Size          int       // total file size in bytes; rounded up to 16, at least MinBuildSize
	Version       string    // esp_app_desc_t.version; default "1.0.0"
	ProjectName   string    // default "fleetline-app"
	IDFVersion    string    // default "v5.2.1"
	BuildTime     time.Time // default 2024-01-02 03:04:05 UTC
	SecureVersion uint32
	MinRev        int    // major*100+minor; default 0
	MaxRev        int    // major*100+minor; 0 means no upper bound (0xFFFF)
	FlashMode     string // "qio", "qout", "dio", "dout"; default "dio"
	FlashSize     string // "1MB".."128MB"; default "4MB"
	FlashFreq     string // as esptool spells it for the chip; default the chip's 0 nibble ("40m" on ESP32)
	Seed          uint64 // content is a pure function of the spec, so equal specs give equal bytes
}

// BootloaderSpec describes a second-stage bootloader image for
// BuildBootloader.
type BootloaderSpec struct {
	Chip       Chip
	Size       int    // total file size; default 0x5000 (20 KiB), rounded up to 16
	Version    uint32 // esp_bootloader_desc_t.version; default 1
	IDFVersion string // default "v5.2.1"
	BuildTime  time.Time
	MinRev     int
	MaxRev     int
	FlashMode  string
	FlashSize  string
	FlashFreq  string
	Seed       uint64
}

var defaultBuildTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// header builds the common and extended headers shared by both builders.
func buildHeaders(chip Chip, mode, size, freq string, minRev, maxRev int) (Header, Extended, error) {
	if !chip.Known() {
		return Header{}, Extended{}, fmt.Errorf("%w: %s is not a chip this builder knows", ErrBuild, chip)
	}
	if mode == "" {
		mode = "dio"
	}
	if size == "" {
		size = "4MB"
	}
	m, err := ParseFlashMode(mode)
	if err != nil {
		return Header{}, Extended{}, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	s, err := ParseFlashSize(size)
	if err != nil {
		return Header{}, Extended{}, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	var f FlashFreq
	if freq != "" {
		if f, err = ParseFlashFreq(chip, freq); err != nil {
			return Header{}, Extended{}, fmt.Errorf("%w: %w", ErrBuild, err)
		}
	}
	if minRev < 0 || minRev > 0xFFFF || maxRev < 0 || maxRev > 0xFFFF {
		return Header{}, Extended{}, fmt.Errorf("%w: revision range %d-%d is outside 0-65535", ErrBuild, minRev, maxRev)
	}
	max := uint16(maxRev)
	if maxRev == 0 {
		max = MaxRevUnset
	}
	if int(max) < minRev {
		return Header{}, Extended{}, fmt.Errorf("%w: max revision %s is below min revision %s", ErrBuild, FormatRevision(maxRev), FormatRevision(minRev))
	}
	legacy := minRev / 100
	if chip == ChipESP32C3 {
		legacy = minRev % 100
	}
	h := Header{Magic: ImageMagic, FlashMode: m, FlashSize: s, FlashFreq: f}
	e := Extended{WPPin: WPPinDisabled, ChipID: chip, MinRev: byte(legacy), MinRevFull: uint16(minRev), MaxRevFull: max, HashAppended: true}
	return h, e, nil
}

// split divides the payload budget of an image of total bytes with nseg
// segments into segment lengths (multiples of 4) by the given weights. The
// image is header (24) + segment headers + payload, padded so the checksum
// ends a 16-byte block, then the 32-byte hash.
func split(total, nseg int, weights []int) ([]int, error) {
	payload := total - sha256Len - imageHeadersLen - nseg*segHeaderLen - 1
	payload &^= 3
	if payload < 0 {
		return nil, fmt.Errorf("%w: size %d is too small", ErrBuild, total)
	}
	sum := 0
	for _, w := range weights {
		sum += w
	}
	lens := make([]int, len(weights))
	used := 0
	for i, w := range weights[:len(weights)-1] {
		lens[i] = payload * w / sum &^ 3
		used += lens[i]
	}
	lens[len(lens)-1] = payload - used
	return lens, nil
}

func roundSize(size, def int) (int, error) {
	if size == 0 {
		size = def
	}
	if size < MinBuildSize {
		return 0, fmt.Errorf("%w: size %d is below the minimum of %d bytes", ErrBuild, size, MinBuildSize)
	}
	if size > 64<<20 {
		return 0, fmt.Errorf("%w: size %d is larger than 64 MiB", ErrBuild, size)
	}
	return (size + 15) &^ 15, nil
}

// BuildApp makes a valid app image: DROM (the app descriptor at file offset
// 0x20, then string tables and constants), DRAM, IRAM and IROM segments at
// the chip's addresses, with flash-mapped segments congruent to their load
// address modulo the 64 KiB MMU page as the bootloader requires, the
// checksum and the appended SHA-256. The result is exactly spec.Size bytes
// (rounded up to 16).
func BuildApp(spec AppSpec) ([]byte, error) {
	size, err := roundSize(spec.Size, 256<<10)
	if err != nil {
		return nil, err
	}
	h, ext, err := buildHeaders(spec.Chip, spec.FlashMode, spec.FlashSize, spec.FlashFreq, spec.MinRev, spec.MaxRev)
	if err != nil {
		return nil, err
	}
	ci, _ := spec.Chip.info()
	lens, err := split(size, 4, []int{28, 6, 14, 52})
	if err != nil {
		return nil, err
	}
	// Internal RAM is small (tens of KiB); whatever a big image needs
	// beyond that lives in flash, split between code and constants.
	if extra := lens[1] - maxAppDRAM; extra > 0 {
		lens[1], lens[3] = maxAppDRAM, lens[3]+extra
	}
	if extra := lens[2] - maxAppIRAM; extra > 0 {
		lens[2] = maxAppIRAM
		toDROM := extra * 35 / 100 &^ 3
		lens[0], lens[3] = lens[0]+toDROM, lens[3]+extra-toDROM
	}
	if need := AppDescSize + 64; lens[0] < need && lens[3]-(need-lens[0]) >= 64 {
		lens[3] -= need - lens[0] // small images: the descriptor comes first
		lens[0] = need
	}
	if lens[0] < AppDescSize+64 {
		return nil, fmt.Errorf("%w: size %d leaves no room for the app descriptor", ErrBuild, spec.Size)
	}
	f := newFiller(spec.Seed, spec.Chip)
	drom := make([]byte, AppDescSize, lens[0])
	drom = f.mix(drom, lens[0]-AppDescSize, 10, 55, 25)
	dram := f.mix(nil, lens[1], 5, 20, 25)
	iram := f.mix(nil, lens[2], 85, 5, 10)
	irom := f.mix(nil, lens[3], 75, 10, 15)

	desc := AppDesc{
		Magic:          AppDescMagic,
		SecureVersion:  spec.SecureVersion,
		Version:        orDefault(spec.Version, "1.0.0"),
		ProjectName:    orDefault(spec.ProjectName, "fleetline-app"),
		IDFVersion:     orDefault(spec.IDFVersion, "v5.2.1"),
		MMUPageSize:    16,
		MaxEfuseBlkRev: 199,
	}
	bt := spec.BuildTime
	if bt.IsZero() {
		bt = defaultBuildTime
	}
	desc.Date, desc.Time = bt.Format("Jan _2 2006"), bt.Format("15:04:05")
	// The ELF hash stands for the linked program: hash what was generated.
	eh := sha256.New()
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], spec.Seed)
	eh.Write(seed[:])
	for _, s := range [][]byte{drom[AppDescSize:], dram, iram, irom} {
		eh.Write(s)
	}
	copy(desc.ELFSHA256[:], eh.Sum(nil))
	db, err := desc.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	copy(drom, db)

	segs := []Segment{
		{LoadAddr: ci.drom + appDescOffset, Data: drom},
		{LoadAddr: ci.dram, Data: dram},
		{LoadAddr: ci.iram, Data: iram},
	}
	// IROM's data lands at this file offset; give it the load address in
	// the same position within a 64 KiB page, past the DROM pages when both
	// windows share one address range.
	iromOff := imageHeadersLen + 4*segHeaderLen + lens[0] + lens[1] + lens[2]
	base := ci.irom
	if ci.irom == ci.drom {
		base += uint32(appDescOffset+lens[0]+0xFFFF) &^ 0xFFFF
	}
	segs = append(segs, Segment{LoadAddr: base + uint32(iromOff)&0xFFFF, Data: irom})
	h.Entry = ci.iram + uint32(lens[2]/2)&^3
	out, err := EncodeImage(h, ext, segs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	if len(out) != size {
		return nil, fmt.Errorf("%w: laid out %d bytes, wanted %d (builder bug)", ErrBuild, len(out), size)
	}
	return out, nil
}

// BuildBootloader makes a valid second-stage bootloader image: a DRAM
// segment starting with the esp_bootloader_desc_t, two IRAM segments at the
// chip's bootloader addresses, checksum and appended SHA-256. Write it at
// the chip's BootloaderOffset.
func BuildBootloader(spec BootloaderSpec) ([]byte, error) {
	size, err := roundSize(spec.Size, 0x5000)
	if err != nil {
		return nil, err
	}
	h, ext, err := buildHeaders(spec.Chip, spec.FlashMode, spec.FlashSize, spec.FlashFreq, spec.MinRev, spec.MaxRev)
	if err != nil {
		return nil, err
	}
	ci, _ := spec.Chip.info()
	lens, err := split(size, 3, []int{25, 55, 20})
	if err != nil {
		return nil, err
	}
	if lens[0] < BootloaderDescSize+16 {
		return nil, fmt.Errorf("%w: size %d leaves no room for the bootloader descriptor", ErrBuild, spec.Size)
	}
	bt := spec.BuildTime
	if bt.IsZero() {
		bt = defaultBuildTime
	}
	ver := spec.Version
	if ver == 0 {
		ver = 1
	}
	desc := BootloaderDesc{Version: ver, IDFVersion: orDefault(spec.IDFVersion, "v5.2.1"), DateTime: bt.Format("Jan _2 2006 15:04:05")}
	db, err := desc.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	f := newFiller(spec.Seed^0xB007, spec.Chip)
	dram := append(db, f.mix(nil, lens[0]-len(db), 5, 60, 15)...)
	code1 := f.mix(nil, lens[1], 85, 5, 10)
	code2 := f.mix(nil, lens[2], 85, 5, 10)
	segs := []Segment{
		{LoadAddr: ci.bootDRAM, Data: dram},
		{LoadAddr: ci.bootIRAM, Data: code1},
		{LoadAddr: ci.bootIRAM + uint32(lens[1]+0xFF)&^0xFF, Data: code2},
	}
	h.Entry = segs[2].LoadAddr + uint32(lens[2]/4)&^3
	out, err := EncodeImage(h, ext, segs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	if len(out) != size {
		return nil, fmt.Errorf("%w: laid out %d bytes, wanted %d (builder bug)", ErrBuild, len(out), size)
	}
	return out, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
