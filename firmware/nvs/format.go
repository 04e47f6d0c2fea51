package nvs

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Geometry of an NVS page, fixed by nvs_flash.
const (
	PageSize       = 4096 // one flash sector
	EntrySize      = 32
	EntriesPerPage = 126
	headerSize     = 32
	bitmapOffset   = 32
	firstEntry     = 64
	// MaxKeyLen is the longest key or namespace name (the 16th byte is the NUL).
	MaxKeyLen = 15
	// MaxStringLen is the largest string nvs_flash stores, NUL included.
	MaxStringLen = 4000
	// MaxBlobV1Len is the largest blob a version 1 partition holds (one page).
	MaxBlobV1Len = 1984
	// MaxBlobLen is the largest version 2 blob nvs_flash reads back:
	// 127 chunks (one chunk-index half) of 4000 bytes.
	MaxBlobLen = 508000
	// MinPartitionSize is the smallest read/write partition: two pages plus
	// the spare page nvs_flash keeps free.
	MinPartitionSize = 3 * PageSize
	// MinReadOnlySize is the smallest partition flagged readonly.
	MinReadOnlySize = PageSize
	chunkAny        = 0xFF
	maxChunkData    = (EntriesPerPage - 1) * EntrySize // 4000
	verOffset1      = 0x80                             // second chunk-index half
)

// Format versions as the page header stores them.
const (
	Version1 byte = 0xFF // blobs in one page
	Version2 byte = 0xFE // multi-page blobs
)

// Type is an entry's data type code.
type Type uint8

// Entry types. Signed integers have bit 4 set; the low nibble is the width.
const (
	U8       Type = 0x01
	I8       Type = 0x11
	U16      Type = 0x02
	I16      Type = 0x12
	U32      Type = 0x04
	I32      Type = 0x14
	U64      Type = 0x08
	I64      Type = 0x18
	String   Type = 0x21
	BlobV1   Type = 0x41 // whole blob in one page (format version 1)
	BlobData Type = 0x42 // one chunk of a version 2 blob
	BlobIdx  Type = 0x48 // index tying a version 2 blob's chunks together
	// Blob is what readers and writers call any blob, whichever way it is stored.
	Blob = BlobV1
)

var typeNames = map[Type]string{
	U8: "u8", I8: "i8", U16: "u16", I16: "i16", U32: "u32", I32: "i32", U64: "u64", I64: "i64",
	String: "string", BlobV1: "blob", BlobData: "blob_data", BlobIdx: "blob_index",
}

// String names the type as nvs_partition_gen's encodings do.
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type(0x%02x)", uint8(t))
}

// IsInt reports whether t is one of the eight integer types.
func (t Type) IsInt() bool {
	switch t {
	case U8, I8, U16, I16, U32, I32, U64, I64:
		return true
	}
	return false
}

// signed reports whether an integer type is signed.
func (t Type) signed() bool { return t&0x10 != 0 }

// width is an integer type's size in bytes.
func (t Type) width() int { return int(t & 0x0F) }

// PageState is the first word of a page header; each step clears bits.
type PageState uint32

// Page states as nvs_flash writes them.
const (
	PageEmpty   PageState = 0xFFFFFFFF
	PageActive  PageState = 0xFFFFFFFE
	PageFull    PageState = 0xFFFFFFFC
	PageFreeing PageState = 0xFFFFFFF8
	PageCorrupt PageState = 0xFFFFFFF0
	PageInvalid PageState = 0
)

// String names the state.
func (s PageState) String() string {
	switch s {
	case PageEmpty:
		return "empty"
	case PageActive:
		return "active"
	case PageFull:
		return "full"
	case PageFreeing:
		return "freeing"
	case PageCorrupt:
		return "corrupt"
	case PageInvalid:
		return "invalid"
	}
	return fmt.Sprintf("state(0x%08x)", uint32(s))
}

// EntryState is an entry's two bits in the page's state bitmap.
type EntryState uint8

// Entry states.
const (
	EntryEmpty   EntryState = 3 // 0b11
	EntryWritten EntryState = 2 // 0b10
	EntryIllegal EntryState = 1 // 0b01
	EntryErased  EntryState = 0 // 0b00
)

// String names the state.
func (s EntryState) String() string {
	return [...]string{"erased", "illegal", "written", "empty"}[s&3]
}

// crc is the CRC32 nvs_flash uses everywhere: IEEE, register seeded with
// 0xFFFFFFFF and no final inversion (esp_rom_crc32_le(0xffffffff, ...)).
func crc(b []byte) uint32 { return crc32.Update(0xFFFFFFFF, crc32.IEEETable, b) }

// entryCRC is an entry's CRC over bytes 0..4 and 8..32 (the CRC field skipped).
func entryCRC(e []byte) uint32 {
	var buf [28]byte
	copy(buf[:4], e[:4])
	copy(buf[4:], e[8:32])
	return crc(buf[:])
}

// headerCRC is a page header's CRC over bytes 4..28.
func headerCRC(h []byte) uint32 { return crc(h[4:28]) }

// makeHeader returns a page header in the given state.
func makeHeader(state PageState, seq uint32, version byte) [headerSize]byte {
	var h [headerSize]byte
	for i := range h {
		h[i] = 0xFF
	}
	binary.LittleEndian.PutUint32(h[0:], uint32(state))
	binary.LittleEndian.PutUint32(h[4:], seq)
	h[8] = version
	binary.LittleEndian.PutUint32(h[28:], headerCRC(h[:]))
	return h
}

// makeEntry returns an entry header with its CRC set; data is the 8-byte
// data field.
func makeEntry(ns uint8, t Type, span, chunk uint8, key string, data [8]byte) [EntrySize]byte {
	var e [EntrySize]byte
	e[0], e[1], e[2], e[3] = ns, uint8(t), span, chunk
	copy(e[8:24], key) // the rest of the key field stays NUL
	copy(e[24:], data[:])
	binary.LittleEndian.PutUint32(e[4:], entryCRC(e[:]))
	return e
}

// varData is the data field of a string or blob chunk: size, reserved
// 0xFFFF, CRC32 of the payload.
func varData(payload []byte) [8]byte {
	var d [8]byte
	binary.LittleEndian.PutUint16(d[0:], uint16(len(payload)))
	d[2], d[3] = 0xFF, 0xFF
	binary.LittleEndian.PutUint32(d[4:], crc(payload))
	return d
}

// indexData is the data field of a blob index: total size, chunk count,
// first chunk index, reserved 0xFFFF.
func indexData(size uint32, count, start uint8) [8]byte {
	var d [8]byte
	binary.LittleEndian.PutUint32(d[0:], size)
	d[4], d[5], d[6], d[7] = count, start, 0xFF, 0xFF
	return d
}

// intData is the data field of an integer: little-endian value in the low
// bytes, the rest left erased (0xFF) as both the generator and nvs_flash do.
func intData(t Type, bits uint64) [8]byte {
	d := [8]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	for i := 0; i < t.width(); i++ {
		d[i] = byte(bits >> (8 * i))
	}
	return d
}

// spanFor is how many entries a payload of n bytes takes with its header.
func spanFor(n int) int { return 1 + (n+EntrySize-1)/EntrySize }
