package firmware

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidBundle is matched (errors.Is) by every *ValidationError.
var ErrInvalidBundle = errors.New("bundle is not fit to flash")

// ProblemKind classifies a validation problem so callers can branch on it.
type ProblemKind string

// Problem kinds.
const (
	ProblemMissing        ProblemKind = "missing"         // a file could not be read
	ProblemChanged        ProblemKind = "changed"         // SHA-256 differs from the manifest
	ProblemOverlap        ProblemKind = "overlap"         // two regions share flash
	ProblemImage          ProblemKind = "image"           // an image's checksum/hash is wrong or it does not parse
	ProblemChip           ProblemKind = "chip"            // image or bundle built for another chip
	ProblemRevision       ProblemKind = "revision"        // chip revision outside the image's range
	ProblemBootloader     ProblemKind = "bootloader"      // bootloader at the wrong offset for the chip
	ProblemAppPartition   ProblemKind = "app-partition"   // app not at (or too big for) an app partition
	ProblemTooLarge       ProblemKind = "too-large"       // bundle or table beyond the board's flash
	ProblemFlashSettings  ProblemKind = "flash-settings"  // settings disagree with the bootloader header
	ProblemPartitionTable ProblemKind = "partition-table" // the table region does not parse
)

// Problem is one reason a bundle is unfit.
type Problem struct {
	Kind   ProblemKind
	Region string // the region's name, "" for the bundle as a whole
	Msg    string
}

// String returns the problem's message.
func (p Problem) String() string { return p.Msg }

// ValidationError lists every problem Validate found.
type ValidationError struct {
	Source   string
	Problems []Problem
}

// Error lists the problems, one per line under a count.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bundle %s: %d problem", e.Source, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Msg)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidBundle) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidBundle }

// Has reports whether a problem of the kind was found.
func (e *ValidationError) Has(k ProblemKind) bool {
	for _, p := range e.Problems {
		if p.Kind == k {
			return true
		}
	}
	return false
}

// Target is the board a bundle is checked against.
type Target struct {
	// Chip is the chip's esptool name ("esp32s3"); "" skips the chip,
	// revision and bootloader-offset checks unless the bundle names a chip.
	Chip string
	// Revision is major*100+minor as the ROM reports it; negative skips the
	// revision check.
	Revision int
	// FlashSize is the detected flash size in bytes; 0 skips the size check.
	FlashSize uint32
}

// Validate checks the bundle against a board before anything is written
// and returns a *ValidationError listing every problem, or nil: files that
// are missing or changed since the manifest was signed off, overlapping
// regions, corrupt images or images with more segments than the
// bootloader loads, images (or the bundle) for another chip or outside the
// chip's revision, a bootloader not at the chip's bootloader offset, an app
// not at the start of a 64 KiB-aligned app partition or larger than it, a
// bundle, table, flash-size setting or bootloader header larger than the
// board's flash, and flash settings that disagree with the bootloader's
// header.
func (b *Bundle) Validate(target Target) error {
	v := &validator{b: b, t: target}
	v.run()
	if len(v.problems) == 0 {
		return nil
	}
	src := b.Source
	if src == "" {
		src = "(unnamed)"
	}
	return &ValidationError{Source: src, Problems: v.problems}
}

type validator struct {
	b        *Bundle
	t        Target
	chip     Chip
	haveChip bool
	problems []Problem
}

func (v *validator) add(k ProblemKind, region, format string, a ...any) {
	v.problems = append(v.problems, Problem{Kind: k, Region: region, Msg: fmt.Sprintf(format, a...)})
}

func (v *validator) run() {
	v.checkChip()
	images := v.checkFiles()
	v.checkOverlaps()
	if v.b.tableErr != nil {
		v.add(ProblemPartitionTable, "partition-table", "partition table: %v", v.b.tableErr)
	}
	for i, img := range images {
		if img != nil {
			v.checkImage(&v.b.Regions[i], img)
		}
	}
	v.checkSize()
}

// checkChip settles which chip the bundle is checked for.
func (v *validator) checkChip() {
	var bundleChip Chip
	haveBundle := false
	if v.b.Chip != "" {
		c, err := ChipByName(v.b.Chip)
		if err != nil {
			v.add(ProblemChip, "", "bundle chip: %v", err)
		} else {
			bundleChip, haveBundle = c, true
		}
	}
	if v.t.Chip != "" {
		c, err := ChipByName(v.t.Chip)
		if err != nil {
			v.add(ProblemChip, "", "board chip: %v", err)
			return
		}
		v.chip, v.haveChip = c, true
		if haveBundle && bundleChip != c {
			v.add(ProblemChip, "", "bundle is built for %s, the board is %s", bundleChip.DisplayName(), c.DisplayName())
		}
		return
	}
	v.chip, v.haveChip = bundleChip, haveBundle
}

// checkFiles reports unreadable and changed files and returns the parsed
// image of each region that is one (nil otherwise).
func (v *validator) checkFiles() []*Image {
	images := make([]*Image, len(v.b.Regions))
	for i := range v.b.Regions {
		r := &v.b.Regions[i]
		if r.Err != nil {
			v.add(ProblemMissing, r.Name, "%s: file %s cannot be read: %v", r.label(), r.Path, r.Err)
			continue
		}
		if r.ExpectedSHA256 != "" {
			if got := hex.EncodeToString(r.SHA256[:]); got != r.ExpectedSHA256 {
				v.add(ProblemChanged, r.Name, "%s: %s changed since the manifest was signed off: expected SHA-256 %s, file has %s",
					r.label(), r.Path, r.ExpectedSHA256, got)
			}
		}
		if len(r.Data) == 0 || r.Data[0] != ImageMagic {
			continue
		}
		img, err := ParseImage(r.Data)
		if err != nil {
			if r.Name == "bootloader" || r.Name == "app" {
				v.add(ProblemImage, r.Name, "%s: %s: %v", r.label(), r.Path, err)
			}
			continue
		}
		if err := img.Verify(); err != nil {
			v.add(ProblemImage, r.Name, "%s: %s is corrupt: %v", r.label(), r.Path, strings.ReplaceAll(err.Error(), "\n", "; "))
		}
		if n := len(img.Segments); n > maxImageSegments {
			v.add(ProblemImage, r.Name, "%s: %s has %d segments, ESP-IDF's bootloader loads at most %d", r.label(), r.Path, n, maxImageSegments)
		}
		images[i] = img
	}
	return images
}

func (v *validator) checkOverlaps() {
	rs := v.b.Regions // sorted by offset at load
	for i := 1; i < len(rs); i++ {
		for j := 0; j < i; j++ {
			a, c := rs[j], rs[i]
			if len(a.Data) == 0 || len(c.Data) == 0 {
				continue
			}
			if uint64(c.Offset) < a.End() && uint64(a.Offset) < c.End() {
				v.add(ProblemOverlap, c.Name, "%s (0x%x-0x%x, %s) overlaps %s (0x%x-0x%x, %s)",
					c.label(), c.Offset, c.End()-1, c.Path, a.label(), a.Offset, a.End()-1, a.Path)
			}
		}
	}
}

// isBootloader decides whether an image region is the second-stage
// bootloader: by name, or an image without an app descriptor that sits
// below the partition table.
func isBootloader(r *Region, img *Image) bool {
	if r.Name == "bootloader" {
		return true
	}
	return img.AppDesc == nil && r.Offset < PartitionTableOffset
}

func (v *validator) checkImage(r *Region, img *Image) {
	if v.haveChip {
		if img.Extended.ChipID != v.chip {
			v.add(ProblemChip, r.Name, "%s: %s is an image for %s (chip id %d), the board is %s (chip id %d)",
				r.label(), r.Path, img.Extended.ChipID.DisplayName(), uint16(img.Extended.ChipID), v.chip.DisplayName(), uint16(v.chip))
		} else if v.t.Chip != "" && v.t.Revision >= 0 {
			if ok, why := img.SupportsRevision(v.t.Revision); !ok {
				v.add(ProblemRevision, r.Name, "%s: %s: %s", r.label(), r.Path, why)
			}
		}
	}
	if isBootloader(r, img) {
		v.checkBootloader(r, img)
		return
	}
	if img.AppDesc != nil || r.Name == "app" {
		v.checkApp(r)
	}
}

func (v *validator) checkBootloader(r *Region, img *Image) {
	if v.haveChip {
		if want, _ := v.chip.BootloaderOffset(); r.Offset != want {
			v.add(ProblemBootloader, r.Name, "%s: the %s ROM loads the bootloader from 0x%x, not 0x%x",
				r.label(), v.chip.DisplayName(), want, r.Offset)
		}
	}
	chip := img.Extended.ChipID
	sizeSetting := v.b.FlashSize
	if isKeep(sizeSetting) || strings.EqualFold(sizeSetting, "detect") {
		// The header's size is what the bootloader will assume.
		if hs := img.Header.FlashSize; v.t.FlashSize != 0 && hs.Valid() && hs.Bytes() > v.t.FlashSize {
			v.add(ProblemTooLarge, r.Name, "%s: header says %s flash, the board has %s", r.label(), hs, sizeName(v.t.FlashSize))
		}
	}
	if s := v.b.FlashMode; !isKeep(s) {
		if m, err := ParseFlashMode(s); err != nil {
			v.add(ProblemFlashSettings, r.Name, "bundle flash mode: %v", err)
		} else if m != img.Header.FlashMode {
			v.add(ProblemFlashSettings, r.Name, "%s: header says flash mode %s, the bundle's flash settings say %s", r.label(), img.Header.FlashMode, m)
		}
	}
	if s := v.b.FlashSize; !isKeep(s) && !strings.EqualFold(s, "detect") {
		if fs, err := ParseFlashSize(s); err != nil {
			v.add(ProblemFlashSettings, r.Name, "bundle flash size: %v", err)
		} else if fs != img.Header.FlashSize {
			v.add(ProblemFlashSettings, r.Name, "%s: header says flash size %s, the bundle's flash settings say %s", r.label(), img.Header.FlashSize, fs)
		}
	}
	if s := v.b.FlashFreq; !isKeep(s) {
		if f, err := ParseFlashFreq(chip, s); err != nil {
			v.add(ProblemFlashSettings, r.Name, "bundle flash frequency: %v", err)
		} else if f != img.Header.FlashFreq {
			v.add(ProblemFlashSettings, r.Name, "%s: header says flash frequency %s, the bundle's flash settings say %s",
				r.label(), orDefault(img.FlashFreqName(), fmt.Sprintf("code 0x%x", uint8(img.Header.FlashFreq))), s)
		}
	}
}

func (v *validator) checkApp(r *Region) {
	if r.Offset%0x10000 != 0 {
		v.add(ProblemAppPartition, r.Name, "%s: apps must start on a 64 KiB boundary (the MMU maps flash in 64 KiB pages)", r.label())
	}
	t := v.b.PartitionTable
	if t == nil {
		return
	}
	for _, p := range t.Apps() {
		if p.Offset == r.Offset {
			if uint64(len(r.Data)) > uint64(p.Size) {
				v.add(ProblemAppPartition, r.Name, "%s: %s is %d bytes, app partition %q holds only %d", r.label(), r.Path, len(r.Data), p.Label, p.Size)
			}
			return
		}
	}
	var apps []string
	for _, p := range t.Apps() {
		apps = append(apps, fmt.Sprintf("%s at 0x%x", p.Label, p.Offset))
	}
	have := "the table has no app partitions"
	if len(apps) > 0 {
		have = "app partitions: " + strings.Join(apps, ", ")
	}
	v.add(ProblemAppPartition, r.Name, "%s: no app partition starts there (%s)", r.label(), have)
}

func (v *validator) checkSize() {
	flash := uint64(v.t.FlashSize)
	if flash == 0 {
		return
	}
	for _, r := range v.b.Regions {
		if r.End() > flash {
			v.add(ProblemTooLarge, r.Name, "%s: ends at 0x%x, beyond the board's %s flash (0x%x bytes)", r.label(), r.End(), sizeName(v.t.FlashSize), flash)
		}
	}
	if t := v.b.PartitionTable; t != nil && t.End() > flash {
		v.add(ProblemTooLarge, "partition-table", "partition table needs 0x%x bytes of flash, the board has %s (0x%x)", t.End(), sizeName(v.t.FlashSize), flash)
	}
	if s := v.b.FlashSize; !isKeep(s) && !strings.EqualFold(s, "detect") {
		if fs, err := ParseFlashSize(s); err == nil && uint64(fs.Bytes()) > flash {
			v.add(ProblemTooLarge, "", "bundle flash size setting %s is larger than the board's %s flash", fs, sizeName(v.t.FlashSize))
		}
	}
}

func sizeName(n uint32) string {
	if s, ok := FlashSizeForBytes(n); ok {
		return s.String()
	}
	return fmt.Sprintf("%d-byte", n)
}
