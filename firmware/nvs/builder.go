package nvs

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// BuildOptions tune a Builder.
type BuildOptions struct {
	// Version is Version2 (the default, multi-page blobs) or Version1.
	Version byte
	// ReadOnly permits partitions of 0x1000 and 0x2000 bytes, which
	// nvs_flash only opens when the partition table flags them readonly.
	// Like the generator, such images hold only the pages in use: no empty
	// pages and no spare page follow.
	ReadOnly bool
	// Key, when set, encrypts the image for CONFIG_NVS_ENCRYPTION as
	// `nvs_partition_gen.py encrypt` does.
	Key *Key
}

// Builder writes a fresh NVS image page by page with exactly the layout
// ESP-IDF's nvs_partition_gen.py chooses: the same page breaks, the same
// chunking of blobs, the same erased bytes, the same trailing empty pages
// and spare page. Use Namespace, then Add entries; Bytes finishes the image.
//
// One difference is deliberate: when a namespace is named again after
// another one, the generator files the following entries under the most
// recently created namespace; Builder files them under the namespace named,
// which is what nvs_flash on the board then reads.
type Builder struct {
	key       *Key
	version   byte
	readOnly  bool
	remaining int // bytes still available for data pages
	pages     [][]byte
	entryNum  int // next free entry on the current page
	nsIndex   map[string]uint8
	nsCount   int
	curNS     uint8
	done      bool
}

// NewBuilder checks the partition size as the generator does and starts
// the first page.
func NewBuilder(size int, opt BuildOptions) (*Builder, error) {
	if opt.Version == 0 {
		opt.Version = Version2
	}
	if opt.Version != Version1 && opt.Version != Version2 {
		return nil, fmt.Errorf("nvs: format version 0x%02x: %w (use 1 or 2)", opt.Version, ErrType)
	}
	if size%PageSize != 0 || size <= 0 {
		return nil, fmt.Errorf("nvs: partition size 0x%x: %w: must be a multiple of 4096", size, ErrPartitionSize)
	}
	if opt.Key != nil {
		if _, err := newXTS(*opt.Key); err != nil {
			return nil, err
		}
	}
	b := &Builder{key: opt.Key, version: opt.Version, nsIndex: map[string]uint8{}}
	switch {
	case size >= MinPartitionSize:
		b.remaining = size - PageSize // the spare page nvs_flash keeps
	case opt.ReadOnly:
		b.readOnly = true
		b.remaining = size
	default:
		return nil, fmt.Errorf("nvs: partition size 0x%x: %w: minimum is 0x3000 for a read/write NVS "+
			"(0x1000 for a partition the partition table flags readonly: BuildOptions.ReadOnly, station nvs generate --read-only)", size, ErrPartitionSize)
	}
	if err := b.newPage(); err != nil {
		return nil, fmt.Errorf("nvs: %w", err)
	}
	return b, nil
}

// newPage marks the current page full and starts the next one, failing
// when the partition has no page left.
func (b *Builder) newPage() error {
	if n := len(b.pages); n > 0 {
		p := b.pages[n-1]
		if PageState(binary.LittleEndian.Uint32(p)) == PageActive {
			binary.LittleEndian.PutUint32(p, uint32(PageFull))
		}
	}
	if b.remaining <= 0 {
		return fmt.Errorf("page %d: %w", len(b.pages), ErrPartitionFull)
	}
	b.remaining -= PageSize
	p := erased(PageSize)
	h := makeHeader(PageActive, uint32(len(b.pages)), b.version)
	copy(p, h[:])
	b.pages = append(b.pages, p)
	b.entryNum = 0
	return nil
}

func erased(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = 0xFF
	}
	return p
}

// put copies an entry header and its payload into the current page and
// marks the entries written in the state bitmap.
func (b *Builder) put(e [EntrySize]byte, payload []byte) {
	p := b.pages[len(b.pages)-1]
	off := firstEntry + b.entryNum*EntrySize
	copy(p[off:], e[:])
	copy(p[off+EntrySize:], payload)
	n := 1 + (len(payload)+EntrySize-1)/EntrySize
	for i := 0; i < n; i++ {
		bit := 2 * b.entryNum
		p[bitmapOffset+bit/8] &^= 1 << (bit % 8)
		b.entryNum++
	}
}

// Namespace makes the following entries belong to name, writing the
// namespace entry the first time name is used.
func (b *Builder) Namespace(name string) error {
	if err := b.namespace(name); err != nil {
		return fmt.Errorf("nvs: namespace %q: %w", name, err)
	}
	return nil
}

func (b *Builder) namespace(name string) error {
	if err := checkKey(name); err != nil {
		return err
	}
	if idx, ok := b.nsIndex[name]; ok {
		b.curNS = idx
		return nil
	}
	if b.nsCount >= 254 {
		return ErrTooManyNamespaces
	}
	b.nsCount++
	idx := uint8(b.nsCount)
	if b.entryNum >= EntriesPerPage {
		if err := b.newPage(); err != nil {
			return err
		}
	}
	b.put(makeEntry(0, U8, 1, chunkAny, name, intData(U8, uint64(idx))), nil)
	b.nsIndex[name] = idx
	b.curNS = idx
	return nil
}

func checkKey(k string) error {
	if len(k) > MaxKeyLen {
		return fmt.Errorf("%w: %q has %d", ErrKeyTooLong, k, len(k))
	}
	if k == "" {
		return fmt.Errorf("%w: empty key", ErrEncoding)
	}
	return nil
}

// Add writes one entry in the current namespace; e.Namespace is ignored.
func (b *Builder) Add(e Entry) error {
	if err := b.add(e); err != nil {
		return fmt.Errorf("nvs: key %q: %w", e.Key, err)
	}
	return nil
}

func (b *Builder) add(e Entry) error {
	if b.done {
		return errors.New("builder already finished")
	}
	if err := checkKey(e.Key); err != nil {
		return err
	}
	if b.curNS == 0 {
		return fmt.Errorf("%w (add a namespace first)", ErrNoNamespace)
	}
	switch {
	case e.Type.IsInt():
		return b.addInt(e)
	case e.Type == String:
		return b.addString(e)
	case e.Type.normal() == Blob:
		return b.addBlob(e)
	}
	return fmt.Errorf("%w: %s", ErrType, e.Type)
}

func (b *Builder) addInt(e Entry) error {
	if err := e.checkInt(); err != nil {
		return err
	}
	if b.entryNum >= EntriesPerPage {
		if err := b.newPage(); err != nil {
			return err
		}
	}
	b.put(makeEntry(b.curNS, e.Type, 1, chunkAny, e.Key, intData(e.Type, e.Bits)), nil)
	return nil
}

// addString stores the string with its NUL in one page. The generator
// moves to a new page when the string would exactly fill the current one
// (it tests >= against the entry count), and so does Builder; a string of
// more than 3968 bytes, which the generator then fails on, is written alone
// on a fresh page as nvs_flash would.
func (b *Builder) addString(e Entry) error {
	data := append(append([]byte(nil), e.Data...), 0)
	limit := MaxStringLen
	if b.version == Version1 {
		limit = MaxBlobV1Len // the generator applies the blob limit to version 1 strings
	}
	if len(data) > limit {
		return fmt.Errorf("%w: string of %d bytes (NUL included) exceeds %d", ErrValueTooLarge, len(data), limit)
	}
	return b.addSinglePage(e.Key, String, data)
}

func (b *Builder) addSinglePage(key string, t Type, data []byte) error {
	span := spanFor(len(data))
	if b.entryNum >= EntriesPerPage || (b.entryNum+span >= EntriesPerPage && b.entryNum > 0) {
		if err := b.newPage(); err != nil {
			return err
		}
	}
	b.put(makeEntry(b.curNS, t, uint8(span), chunkAny, key, varData(data)), data)
	return nil
}

// addBlob stores a blob: in version 1 whole in one page, in version 2 as
// chunks filling the tail of each page (keeping one entry for the index),
// followed by the blob index, breaking pages exactly where the generator
// does. That includes an empty chunk when a page has only its last entry
// free.
func (b *Builder) addBlob(e Entry) error {
	data := e.Data
	if b.version == Version1 {
		if len(data) > MaxBlobV1Len {
			return fmt.Errorf("%w: blob of %d bytes exceeds %d in format version 1", ErrValueTooLarge, len(data), MaxBlobV1Len)
		}
		return b.addSinglePage(e.Key, BlobV1, data)
	}
	if len(data) > MaxBlobLen {
		return fmt.Errorf("%w: blob of %d bytes exceeds nvs_flash's %d", ErrValueTooLarge, len(data), MaxBlobLen)
	}
	if b.entryNum >= EntriesPerPage {
		if err := b.newPage(); err != nil {
			return err
		}
	}
	chunks := 0
	for off := 0; ; {
		tailroom := (EntriesPerPage - b.entryNum - 1) * EntrySize
		n := min(tailroom, len(data)-off)
		chunk := data[off : off+n]
		b.put(makeEntry(b.curNS, BlobData, uint8(spanFor(n)), uint8(chunks), e.Key, varData(chunk)), chunk)
		chunks++
		off += n
		if off < len(data) || tailroom-n < EntrySize {
			if err := b.newPage(); err != nil {
				return err
			}
		}
		if off == len(data) {
			break
		}
	}
	b.put(makeEntry(b.curNS, BlobIdx, 1, chunkAny, e.Key, indexData(uint32(len(data)), uint8(chunks), 0)), nil)
	return nil
}

// Bytes finishes the image: the pages written, then (for a read/write
// partition) empty pages up to the size, the last one being the spare page.
// The last page written stays active. Bytes may be called once.
func (b *Builder) Bytes() []byte {
	b.done = true
	out := make([]byte, 0, len(b.pages)*PageSize+b.remaining+PageSize)
	for _, p := range b.pages {
		out = append(out, p...)
	}
	if !b.readOnly {
		out = append(out, erased(b.remaining+PageSize)...)
	}
	b.remaining = 0
	if b.key != nil {
		_ = cryptImage(out, *b.key, false) // the key was checked by NewBuilder
	}
	return out
}

// Build writes entries into a fresh image of size bytes, switching
// namespace whenever an entry's Namespace differs from the previous one.
func Build(entries []Entry, size int, opt BuildOptions) ([]byte, error) {
	b, err := NewBuilder(size, opt)
	if err != nil {
		return nil, err
	}
	cur := ""
	for i, e := range entries {
		if i == 0 || e.Namespace != cur {
			if err := b.Namespace(e.Namespace); err != nil {
				return nil, err
			}
			cur = e.Namespace
		}
		if err := b.Add(e); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}
