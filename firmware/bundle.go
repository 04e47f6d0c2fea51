package firmware

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Bundle is everything one batch writes into a board: regions of flash and
// the settings they are written with.
type Bundle struct {
	Chip      string // esptool chip name ("esp32s3"); "" when the source does not say
	FlashMode string // "dio", ..., or "keep"/"" to leave the bootloader header as built
	FlashSize string // "4MB", ..., or "keep"/"detect"/""
	FlashFreq string // "80m", ..., or "keep"/""
	Regions   []Region
	// PartitionTable is the parsed table of the region at 0x8000 (or named
	// "partition-table"), nil if the bundle has none or it does not parse.
	PartitionTable *PartitionTable
	// Source says where the bundle came from, for messages.
	Source string

	tableErr error // why the partition table region did not parse
}

// Region is one file written at one flash offset.
type Region struct {
	Name      string // "bootloader", "partition-table", "app", "otadata", or the file's base name
	Offset    uint32
	Path      string // as resolved on this machine
	Data      []byte // nil when the file could not be read (see Err)
	SHA256    [32]byte
	Encrypted bool // plaintext file the flasher encrypts as it writes (esptool --encrypt-files)
	// ExpectedSHA256 is the hash the manifest was signed off with, lower-case
	// hex; "" when the source has none.
	ExpectedSHA256 string
	// Err records why the file could not be read; Validate reports it.
	Err error
}

// End is the first offset after the region.
func (r Region) End() uint64 { return uint64(r.Offset) + uint64(len(r.Data)) }

func (r Region) label() string { return fmt.Sprintf("%s at 0x%x", r.Name, r.Offset) }

// LoadBuildDir loads the bundle "idf.py flash" would write, from an ESP-IDF
// build directory (or a project directory with build/ inside) through its
// flasher_args.json.
func LoadBuildDir(dir string) (*Bundle, error) {
	path := filepath.Join(dir, "flasher_args.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		alt := filepath.Join(dir, "build", "flasher_args.json")
		if d2, err2 := os.ReadFile(alt); err2 == nil {
			path, data, err = alt, d2, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load ESP-IDF build dir: %w (run idf.py build first)", err)
	}
	fa, err := ParseFlasherArgs(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return FromFlasherArgs(fa, filepath.Dir(path), path), nil
}

// FromFlasherArgs builds a bundle from parsed flasher_args.json whose paths
// are relative to buildDir; source names it in messages.
func FromFlasherArgs(fa *FlasherArgs, buildDir, source string) *Bundle {
	b := &Bundle{
		Chip:      fa.Extra.Chip,
		FlashMode: fa.FlashSettings.FlashMode,
		FlashSize: fa.FlashSettings.FlashSize,
		FlashFreq: fa.FlashSettings.FlashFreq,
		Source:    source,
	}
	for off, rel := range fa.FlashFiles {
		r := Region{Offset: off, Path: resolve(buildDir, rel), Name: strings.TrimSuffix(filepath.Base(rel), ".bin")}
		if name, a, ok := fa.artifactName(off, rel); ok {
			r.Name, r.Encrypted = name, a.Encrypted
		}
		b.Regions = append(b.Regions, r)
	}
	b.load()
	return b
}

// FromPairs builds a bundle from esptool-style "OFFSET FILE" pairs, e.g.
// {"0x1000", "bootloader.bin", "0x8000", "partitions.bin", "0x10000",
// "app.bin"}. Relative paths are taken from dir. Chip and flash settings are
// left empty for the caller to set.
func FromPairs(args []string, dir string) (*Bundle, error) {
	if len(args) == 0 || len(args)%2 != 0 {
		return nil, fmt.Errorf("bundle from arguments: want OFFSET FILE pairs, got %d arguments", len(args))
	}
	b := &Bundle{Source: "command line"}
	for i := 0; i < len(args); i += 2 {
		off, err := parseOffset(args[i])
		if err != nil {
			return nil, fmt.Errorf("bundle from arguments: pair %d (%q %q): offset %w", i/2+1, args[i], args[i+1], err)
		}
		b.Regions = append(b.Regions, Region{Offset: off, Path: resolve(dir, args[i+1]), Name: regionNameFor(off, args[i+1])})
	}
	b.load()
	return b, nil
}

func regionNameFor(off uint32, path string) string {
	if off == PartitionTableOffset {
		return "partition-table"
	}
	return strings.TrimSuffix(filepath.Base(path), ".bin")
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}

// load sorts the regions, reads their files, hashes them and parses the
// partition table. Failures are kept for Validate, not returned, so that
// one report can list every problem.
func (b *Bundle) load() {
	sort.SliceStable(b.Regions, func(i, j int) bool { return b.Regions[i].Offset < b.Regions[j].Offset })
	for i := range b.Regions {
		r := &b.Regions[i]
		data, err := os.ReadFile(r.Path)
		if err != nil {
			r.Err = err
			continue
		}
		r.Data = data
		r.SHA256 = sha256.Sum256(data)
	}
	b.parseTable()
}

func (b *Bundle) parseTable() {
	b.PartitionTable, b.tableErr = nil, nil
	for _, r := range b.Regions {
		if r.Data == nil || (r.Name != "partition-table" && r.Offset != PartitionTableOffset) {
			continue
		}
		if !bytes.HasPrefix(r.Data, partitionMagic[:]) {
			if r.Name == "partition-table" {
				b.tableErr = fmt.Errorf("%w: %s does not start with AA 50", ErrPartitionTable, r.Path)
			}
			continue
		}
		t, err := ParsePartitionTable(r.Data)
		if err != nil {
			b.tableErr = fmt.Errorf("%s (%s): %w", r.label(), r.Path, err)
			return
		}
		b.PartitionTable = &t
		return
	}
}

// Region returns the region with the name.
func (b *Bundle) Region(name string) (*Region, bool) {
	for i := range b.Regions {
		if b.Regions[i].Name == name {
			return &b.Regions[i], true
		}
	}
	return nil, false
}

// Size is the first flash offset after the last region.
func (b *Bundle) Size() uint64 {
	var end uint64
	for _, r := range b.Regions {
		end = max(end, r.End())
	}
	return end
}

// AppDesc returns the descriptor of the app the board will boot: the
// image at the table's first app partition, else the first region that
// carries an app descriptor. Nil if there is none.
func (b *Bundle) AppDesc() *AppDesc {
	if b.PartitionTable != nil {
		if p, ok := b.PartitionTable.FirstApp(); ok {
			for _, r := range b.Regions {
				if r.Offset == p.Offset {
					if img, err := ParseImage(r.Data); err == nil && img.AppDesc != nil {
						return img.AppDesc
					}
				}
			}
		}
	}
	for _, r := range b.Regions {
		if img, err := ParseImage(r.Data); err == nil && img.AppDesc != nil {
			return img.AppDesc
		}
	}
	return nil
}

// Hash is a stable SHA-256 over the regions' offsets and content hashes in
// offset order, for the audit log: equal bundles hash equal wherever their
// files live. Each region contributes its offset (4 bytes, little-endian)
// and its SHA-256.
func (b *Bundle) Hash() [32]byte {
	rs := append([]Region(nil), b.Regions...)
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Offset < rs[j].Offset })
	h := sha256.New()
	for _, r := range rs {
		var off [4]byte
		binary.LittleEndian.PutUint32(off[:], r.Offset)
		h.Write(off[:])
		h.Write(r.SHA256[:])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// HashHex is Hash in lower-case hex.
func (b *Bundle) HashHex() string {
	h := b.Hash()
	return hex.EncodeToString(h[:])
}
