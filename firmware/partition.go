package firmware

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
)

// Partition table layout constants (ESP-IDF esp_partition / gen_esp32part).
const (
	PartitionTableOffset  = 0x8000 // CONFIG_PARTITION_TABLE_OFFSET default
	PartitionTableSize    = 0x1000 // the table owns one flash sector
	PartitionTableMaxData = 0xC00  // entries + MD5 row must stay below this
	partitionEntrySize    = 32
	OTADataSize           = 0x2000 // data/ota must be exactly this size
	nvsMinWritableSize    = 0x3000 // a read/write NVS needs 3 sectors
)

// Entry magics.
var (
	partitionMagic = [2]byte{0xAA, 0x50}
	md5RowMagic    = [2]byte{0xEB, 0xEB}
)

// Errors callers branch on.
var (
	ErrPartitionTable = errors.New("bad partition table")
	ErrNoEndMarker    = errors.New("partition table has no end-of-table marker")
	ErrPartitionMD5   = errors.New("partition table MD5 mismatch")
)

// PartitionType is an entry's type byte.
type PartitionType uint8

// Partition types. Values 0x40-0xFE are free for custom use.
const (
	TypeApp            PartitionType = 0x00
	TypeData           PartitionType = 0x01
	TypeBootloader     PartitionType = 0x02
	TypePartitionTable PartitionType = 0x03
)

// Flag bits of an entry's flags word.
const (
	FlagEncrypted uint32 = 1 << 0
	FlagReadonly  uint32 = 1 << 1
)

// Partition is one 32-byte entry of the table.
type Partition struct {
	Label   string
	Type    PartitionType
	SubType uint8
	Offset  uint32
	Size    uint32
	Flags   uint32 // FlagEncrypted, FlagReadonly; other bits are kept as read
	// Line is the CSV line the entry came from, 0 for a binary table.
	Line int
}

// Encrypted reports the encrypted flag.
func (p Partition) Encrypted() bool { return p.Flags&FlagEncrypted != 0 }

// Readonly reports the readonly flag.
func (p Partition) Readonly() bool { return p.Flags&FlagReadonly != 0 }

// End is the first offset after the partition.
func (p Partition) End() uint64 { return uint64(p.Offset) + uint64(p.Size) }

// String describes the entry as "nvs (data/nvs) at 0x9000, 24K".
func (p Partition) String() string {
	return fmt.Sprintf("%s (%s/%s) at 0x%x, %s", p.Label, p.Type, SubtypeName(p.Type, p.SubType), p.Offset, formatSize(p.Size))
}

// where names the entry in messages: its CSV line when it has one.
func (p Partition) where() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: partition %q", p.Line, p.Label)
	}
	return fmt.Sprintf("partition %q", p.Label)
}

// PartitionTable is a parsed partition table.
type PartitionTable struct {
	Partitions []Partition
	// NoMD5 is set when the binary table had no MD5 row; MarshalBinary then
	// writes none either (gen_esp32part --disable-md5sum).
	NoMD5 bool
}

// ParseOptions loosen ParsePartitionTableWith for tables ESP-IDF's current
// tools refuse but old bootloaders accept.
type ParseOptions struct {
	// AllowMissingEnd accepts a table whose bytes end without the 32×0xFF
	// end marker, as if erased flash followed (tables from 2016-era ESP-IDF
	// kept as bare 96-byte files).
	AllowMissingEnd bool
	// NoVerify skips the layout checks (alignment, overlaps, unique labels).
	NoVerify bool
}

// ParsePartitionTable parses a binary partition table as ESP-IDF's
// gen_esp32part does: 32-byte entries, an optional MD5 row that must match,
// and a mandatory end marker; then checks the layout.
func ParsePartitionTable(data []byte) (PartitionTable, error) {
	return ParsePartitionTableWith(data, ParseOptions{})
}

// ParsePartitionTableWith is ParsePartitionTable with options.
func ParsePartitionTableWith(data []byte, opt ParseOptions) (PartitionTable, error) {
	var t PartitionTable
	t.NoMD5 = true
	h := md5.New()
	for off := 0; ; off += partitionEntrySize {
		if off == len(data) && opt.AllowMissingEnd {
			break
		}
		if off >= len(data) {
			return PartitionTable{}, fmt.Errorf("%w: the data ends at byte %d after %d entries without a row of 32 0xFF bytes; "+
				"ESP-IDF's gen_esp32part refuses such a table. Old 2016-era files stop right after the last entry with no MD5 row and no end marker; "+
				"a board reads erased flash (0xFF) after them, so to read one anyway use the lenient option (station partitions -lenient) and write it back with --to-bin",
				ErrNoEndMarker, len(data), len(t.Partitions))
		}
		row := data[off:min(off+partitionEntrySize, len(data))]
		if len(row) < partitionEntrySize {
			return PartitionTable{}, fmt.Errorf("%w: length %d is not a multiple of 32 bytes (short row at offset 0x%x)", ErrPartitionTable, len(data), off)
		}
		if allFF(row) {
			break
		}
		if row[0] == md5RowMagic[0] && row[1] == md5RowMagic[1] {
			sum := h.Sum(nil)
			if !bytes.Equal(row[16:], sum) {
				return PartitionTable{}, fmt.Errorf("%w: row at offset 0x%x holds %x, the %d entries before it hash to %x",
					ErrPartitionMD5, off, row[16:], len(t.Partitions), sum)
			}
			t.NoMD5 = false
			continue
		}
		if row[0] != partitionMagic[0] || row[1] != partitionMagic[1] {
			return PartitionTable{}, fmt.Errorf("%w: entry %d at offset 0x%x has magic %02X %02X, want AA 50",
				ErrPartitionTable, len(t.Partitions), off, row[0], row[1])
		}
		h.Write(row)
		t.Partitions = append(t.Partitions, decodeEntry(row))
	}
	if !opt.NoVerify {
		if err := t.Verify(); err != nil {
			return PartitionTable{}, err
		}
	}
	return t, nil
}

func decodeEntry(row []byte) Partition {
	return Partition{
		Type:    PartitionType(row[2]),
		SubType: row[3],
		Offset:  binary.LittleEndian.Uint32(row[4:]),
		Size:    binary.LittleEndian.Uint32(row[8:]),
		Label:   cString(row[12:28]),
		Flags:   binary.LittleEndian.Uint32(row[28:]),
	}
}

func allFF(b []byte) bool {
	for _, c := range b {
		if c != 0xFF {
			return false
		}
	}
	return true
}

// MarshalBinary encodes the table as gen_esp32part does: entries, the MD5
// row (unless NoMD5), then 0xFF up to 0xC00 bytes.
func (t PartitionTable) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, PartitionTableMaxData)
	for _, p := range t.Partitions {
		if len(p.Label) > 16 {
			return nil, fmt.Errorf("%w: %s: label is %d bytes, at most 16 fit", ErrPartitionTable, p.where(), len(p.Label))
		}
		out = append(out, partitionMagic[0], partitionMagic[1], byte(p.Type), p.SubType)
		out = binary.LittleEndian.AppendUint32(out, p.Offset)
		out = binary.LittleEndian.AppendUint32(out, p.Size)
		var label [16]byte
		copy(label[:], p.Label)
		out = append(out, label[:]...)
		out = binary.LittleEndian.AppendUint32(out, p.Flags)
	}
	if !t.NoMD5 {
		sum := md5.Sum(out)
		out = append(out, md5RowMagic[0], md5RowMagic[1])
		out = append(out, bytes.Repeat([]byte{0xFF}, 14)...)
		out = append(out, sum[:]...)
	}
	if len(out) >= PartitionTableMaxData {
		return nil, fmt.Errorf("%w: %d entries take %d bytes, the table must stay below %d", ErrPartitionTable, len(t.Partitions), len(out), PartitionTableMaxData)
	}
	for len(out) < PartitionTableMaxData {
		out = append(out, 0xFF)
	}
	return out, nil
}

// Find returns the partition with the label.
func (t PartitionTable) Find(label string) (Partition, bool) {
	for _, p := range t.Partitions {
		if p.Label == label {
			return p, true
		}
	}
	return Partition{}, false
}

// FindType returns the first partition of the type and subtype.
func (t PartitionTable) FindType(typ PartitionType, subtype uint8) (Partition, bool) {
	for _, p := range t.Partitions {
		if p.Type == typ && p.SubType == subtype {
			return p, true
		}
	}
	return Partition{}, false
}

// FirstApp returns the app the bootloader starts when no OTA data says
// otherwise: factory, else ota_0, ota_1 ... ota_15, else test.
func (t PartitionTable) FirstApp() (Partition, bool) {
	order := []uint8{SubtypeFactory}
	for i := uint8(0); i < 16; i++ {
		order = append(order, SubtypeOTA0+i)
	}
	order = append(order, SubtypeTest)
	for _, st := range order {
		if p, ok := t.FindType(TypeApp, st); ok {
			return p, true
		}
	}
	return Partition{}, false
}

// Apps returns every app partition, in table order.
func (t PartitionTable) Apps() []Partition {
	var out []Partition
	for _, p := range t.Partitions {
		if p.Type == TypeApp {
			out = append(out, p)
		}
	}
	return out
}

// End is the first offset after the highest partition: the flash size the
// table needs.
func (t PartitionTable) End() uint64 {
	var end uint64
	for _, p := range t.Partitions {
		end = max(end, p.End())
	}
	return end
}
