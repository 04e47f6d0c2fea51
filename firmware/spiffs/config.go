package spiffs

import (
	"errors"
	"fmt"
)

// Config mirrors spiffsgen.py's options; it must match how the firmware's
// SPIFFS is configured (menuconfig CONFIG_SPIFFS_*).
type Config struct {
	PageSize           int  // --page-size, CONFIG_SPIFFS_PAGE_SIZE (256)
	BlockSize          int  // --block-size, the flash sector size (4096)
	ObjNameLen         int  // --obj-name-len, CONFIG_SPIFFS_OBJ_NAME_LEN (32, NUL included)
	MetaLen            int  // --meta-len, CONFIG_SPIFFS_META_LENGTH (4)
	UseMagic           bool // --use-magic / --no-magic, CONFIG_SPIFFS_USE_MAGIC (on)
	UseMagicLen        bool // --use-magic-len / --no-magic-len, CONFIG_SPIFFS_USE_MAGIC_LENGTH (on)
	BigEndian          bool // --big-endian (off: ESP32s are little-endian)
	AlignedObjIxTables bool // --aligned-obj-ix-tables (off)
}

// DefaultConfig is spiffsgen's and ESP-IDF's default configuration.
func DefaultConfig() Config {
	return Config{PageSize: 256, BlockSize: 4096, ObjNameLen: 32, MetaLen: 4, UseMagic: true, UseMagicLen: true}
}

// Errors callers branch on.
var (
	// ErrConfig: the page, block or name sizes do not make a SPIFFS.
	ErrConfig = errors.New("bad SPIFFS configuration")
	// ErrNameTooLong: a path does not fit the object-name length.
	ErrNameTooLong = errors.New("object name too long")
	// ErrFull: the files do not fit the image size.
	ErrFull = errors.New("the image size has been exceeded")
	// ErrSize: the image size is not a positive multiple of the block size.
	ErrSize = errors.New("image size should be a multiple of block size")
	// ErrNotFound: no such file.
	ErrNotFound = errors.New("file not found")
	// ErrCorrupt: the image cannot be read with this configuration.
	ErrCorrupt = errors.New("not a SPIFFS image")
)

// Fixed field widths, as ESP-IDF's spiffs_config.h types them.
const (
	objIDLen    = 2
	spanIxLen   = 2
	pageIxLen   = 2
	blockIxLen  = 2
	flagUsed    = 1 << 0 // cleared once the page is in use
	flagFinal   = 1 << 1 // cleared once its header is final
	flagIndex   = 1 << 2 // cleared for index pages
	flagDeleted = 1 << 7 // cleared for deleted pages
	flagsData   = 0xFC
	flagsIndex  = 0xF8
	idxFlag     = 0x8000 // object id bit marking index pages
	typeFile    = 1
	freeID      = 0xFFFF
	deletedID   = 0
)

// geometry is what the layout derives from a Config.
type geometry struct {
	Config
	pagesPerBlock  int
	luPages        int // lookup pages at the start of each block
	usablePages    int // pages per block for objects
	luIDsPerPage   int
	dataHeaderLen  int // 5: obj id, span, flags
	dataContentLen int
	ixHeaderLen    int // index header page: aligned page header + size + type + name + meta
	ixHeadLim      int // data page numbers in the span 0 index page
	ixLim          int // data page numbers in later index pages
	pad            int // page header alignment padding (to 4 bytes)
	ixHeaderPad    int // extra padding with aligned object index tables
}

func (c Config) geometry() (geometry, error) {
	g := geometry{Config: c}
	if c.PageSize < 64 || c.PageSize&(c.PageSize-1) != 0 {
		return g, fmt.Errorf("spiffs: page size %d: %w: want a power of two of at least 64", c.PageSize, ErrConfig)
	}
	if c.BlockSize <= 0 || c.BlockSize%c.PageSize != 0 {
		return g, fmt.Errorf("spiffs: block size %d: %w: block size should be a multiple of page size %d", c.BlockSize, ErrConfig, c.PageSize)
	}
	if c.ObjNameLen < 2 || c.MetaLen < 0 {
		return g, fmt.Errorf("spiffs: obj-name-len %d, meta-len %d: %w", c.ObjNameLen, c.MetaLen, ErrConfig)
	}
	g.pagesPerBlock = c.BlockSize / c.PageSize
	g.luPages = (g.pagesPerBlock*objIDLen + c.PageSize - 1) / c.PageSize
	g.usablePages = g.pagesPerBlock - g.luPages
	g.luIDsPerPage = c.PageSize / objIDLen
	g.dataHeaderLen = objIDLen + spanIxLen + 1
	g.pad = (4 - g.dataHeaderLen%4) % 4
	g.dataContentLen = c.PageSize - g.dataHeaderLen
	g.ixHeaderLen = g.dataHeaderLen + g.pad + 4 + 1 + c.ObjNameLen + c.MetaLen
	if c.AlignedObjIxTables {
		aligned := (g.ixHeaderLen + pageIxLen - 1) &^ (pageIxLen - 1)
		g.ixHeaderPad = aligned - g.ixHeaderLen
		g.ixHeaderLen = aligned
	}
	g.ixHeadLim = (c.PageSize - g.ixHeaderLen) / blockIxLen
	g.ixLim = (c.PageSize - g.dataHeaderLen - g.pad) / blockIxLen
	if g.usablePages < 2 || g.ixHeadLim < 1 {
		return g, fmt.Errorf("spiffs: page size %d, block size %d, obj-name-len %d: %w: no room for objects", c.PageSize, c.BlockSize, c.ObjNameLen, ErrConfig)
	}
	return g, nil
}

// magic is the lookup-table magic of block bix in an image of blocks blocks.
func (g geometry) magic(bix, blocks int) uint32 {
	m := uint32(0x20140529) ^ uint32(g.PageSize)
	if g.UseMagicLen {
		m ^= uint32(blocks - bix)
	}
	return m & (2<<(8*objIDLen) - 1) // spiffsgen's mask keeps 17 bits
}

// CheckName reports whether a path fits the object-name length, naming the
// settings to raise when it does not.
func (c Config) CheckName(name string) error {
	if len(name) > c.ObjNameLen-1 {
		return fmt.Errorf("spiffs: %q is %d bytes but object names hold at most %d (obj-name-len %d includes the NUL): %w; "+
			"build the firmware with CONFIG_SPIFFS_OBJ_NAME_LEN of at least %d and pass the same value as --obj-name-len",
			name, len(name), c.ObjNameLen-1, c.ObjNameLen, ErrNameTooLong, len(name)+1)
	}
	return nil
}
