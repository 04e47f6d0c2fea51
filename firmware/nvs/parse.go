package nvs

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// PageInfo describes one page of a parsed partition.
type PageInfo struct {
	Number   int       // position in the partition, from 0
	State    PageState // as read; an unreadable page reads as PageCorrupt
	Seq      uint32    // sequence number (pages in use only)
	Version  byte      // Version1 or Version2
	HeaderOK bool      // header CRC matches (pages in use only)
	Written  int       // entries in state written
	Erased   int       // entries in state erased (or illegal)
	Free     int       // empty entries
	NextFree int       // first entry after the last one in use: where nvs_flash writes next
	Problem  string    // why the page was ignored, if it was
}

// InUse reports whether nvs_flash counts the page as holding entries.
func (p PageInfo) InUse() bool {
	return p.HeaderOK && (p.State == PageActive || p.State == PageFull || p.State == PageFreeing)
}

// Item is one entry header found on a page, written or erased, with its
// payload (the span-1 entries after it) for strings and blob chunks.
type Item struct {
	Page    int // page number
	Index   int // entry index within the page
	State   EntryState
	NS      uint8 // namespace index; 0 for namespace entries themselves
	Type    Type
	Span    uint8 // entries this item occupies, header included
	Chunk   uint8 // blob chunk index, 0xFF for everything else
	Key     string
	Data    [8]byte // the entry's data field
	Payload []byte  // strings (NUL included), blob chunks and version 1 blobs
	Err     error   // a CRC or layout problem; such an item is not used
}

// size is the payload size stored in a variable-length item.
func (it Item) size() int { return int(binary.LittleEndian.Uint16(it.Data[:2])) }

// Partition is a parsed NVS image: its pages, every entry found, the live
// key-value pairs and the problems seen on the way.
type Partition struct {
	Pages    []PageInfo
	Items    []Item  // in page sequence order, then entry order
	Problems []error // CRC errors and layout problems; never fatal
	nsNames  map[uint8]string
	nsOrder  []string
	live     []Entry
}

// Parse reads an NVS image. Only an image that is not a whole number of
// pages, or has none, is an error: everything else that is wrong (a bad
// CRC, a half-written entry, a page in an unknown state) is recorded in
// Problems and skipped, as nvs_flash skips it.
func Parse(data []byte) (*Partition, error) {
	if len(data) < PageSize || len(data)%PageSize != 0 {
		return nil, fmt.Errorf("nvs: image of %d bytes: %w: size must be a non-zero multiple of 4096", len(data), ErrCorrupt)
	}
	p := &Partition{nsNames: map[uint8]string{}}
	var used []int
	for n := 0; n < len(data)/PageSize; n++ {
		info := p.readHeader(n, data[n*PageSize:(n+1)*PageSize])
		p.Pages = append(p.Pages, info)
		if info.InUse() {
			used = append(used, n)
		}
	}
	sort.SliceStable(used, func(i, j int) bool { return p.Pages[used[i]].Seq < p.Pages[used[j]].Seq })
	for _, n := range used {
		p.readEntries(&p.Pages[n], data[n*PageSize:(n+1)*PageSize])
	}
	p.resolve()
	return p, nil
}

func (p *Partition) readHeader(n int, pg []byte) PageInfo {
	info := PageInfo{Number: n, State: PageState(binary.LittleEndian.Uint32(pg))}
	info.Seq = binary.LittleEndian.Uint32(pg[4:])
	info.Version = pg[8]
	switch info.State {
	case PageEmpty:
		info.Seq, info.Version = 0, 0
		info.Free = EntriesPerPage
		if !allErased(pg) {
			info.State = PageCorrupt
			info.Problem = "state empty but page not erased"
			p.Problems = append(p.Problems, fmt.Errorf("page %d: state empty but page not erased", n))
		}
		return info
	case PageActive, PageFull, PageFreeing:
	default:
		info.Problem = "page state " + info.State.String()
		if info.State != PageCorrupt && info.State != PageInvalid {
			p.Problems = append(p.Problems, fmt.Errorf("page %d: unknown state 0x%08x", n, uint32(info.State)))
		}
		return info
	}
	if got, want := binary.LittleEndian.Uint32(pg[28:]), headerCRC(pg); got != want {
		info.Problem = "header CRC mismatch"
		p.Problems = append(p.Problems, &CRCError{Page: n, Entry: -1, What: "header", Stored: got, Actual: want})
		return info
	}
	if info.Version != Version1 && info.Version != Version2 {
		info.Problem = fmt.Sprintf("unknown format version 0x%02x", info.Version)
		p.Problems = append(p.Problems, fmt.Errorf("page %d: %s", n, info.Problem))
		return info
	}
	info.HeaderOK = true
	return info
}

func allErased(b []byte) bool {
	for _, c := range b {
		if c != 0xFF {
			return false
		}
	}
	return true
}

// entryState reads entry i's two bits from a page's bitmap.
func entryState(pg []byte, i int) EntryState {
	bit := 2 * i
	return EntryState(pg[bitmapOffset+bit/8]>>(bit%8)) & 3
}

func (p *Partition) readEntries(info *PageInfo, pg []byte) {
	for i := 0; i < EntriesPerPage; i++ {
		switch entryState(pg, i) {
		case EntryEmpty:
			info.Free++
		case EntryWritten:
			info.Written++
			info.NextFree = i + 1
		default:
			info.Erased++
			info.NextFree = i + 1
		}
	}
	for i := 0; i < EntriesPerPage; {
		st := entryState(pg, i)
		if st == EntryEmpty {
			i++
			continue
		}
		it, skip := p.readItem(info.Number, pg, i, st)
		if it != nil {
			p.Items = append(p.Items, *it)
		}
		i += skip
	}
}

// readItem decodes the entry at i and returns how many entries to skip.
// Erased entries are only reported when their header still checks out.
func (p *Partition) readItem(page int, pg []byte, i int, st EntryState) (*Item, int) {
	e := pg[firstEntry+i*EntrySize : firstEntry+(i+1)*EntrySize]
	it := Item{Page: page, Index: i, State: st, NS: e[0], Type: Type(e[1]), Span: e[2], Chunk: e[3], Key: cString(e[8:24])}
	copy(it.Data[:], e[24:])
	stored, actual := binary.LittleEndian.Uint32(e[4:]), entryCRC(e)
	okCRC := stored == actual
	span := int(it.Span)
	if st != EntryWritten {
		if !okCRC || span < 1 || i+span > EntriesPerPage {
			return nil, 1
		}
		it.Payload = payload(pg, it)
		return &it, span
	}
	if !okCRC {
		it.Err = &CRCError{Page: page, Entry: i, What: "entry", Stored: stored, Actual: actual}
		p.Problems = append(p.Problems, it.Err)
		return &it, 1
	}
	if span < 1 || i+span > EntriesPerPage {
		it.Err = fmt.Errorf("page %d entry %d: key %q: span %d runs past the page", page, i, it.Key, span)
		p.Problems = append(p.Problems, it.Err)
		return &it, 1
	}
	switch it.Type {
	case String, BlobV1, BlobData:
		if it.size() > (span-1)*EntrySize {
			it.Err = fmt.Errorf("page %d entry %d: key %q: size %d exceeds span %d", page, i, it.Key, it.size(), span)
			p.Problems = append(p.Problems, it.Err)
			return &it, span
		}
		for j := i + 1; j < i+span; j++ {
			if entryState(pg, j) != EntryWritten {
				it.Err = fmt.Errorf("page %d entry %d: key %q: data entry %d is %s", page, i, it.Key, j, entryState(pg, j))
				p.Problems = append(p.Problems, it.Err)
				return &it, span
			}
		}
		it.Payload = payload(pg, it)
		if got, want := binary.LittleEndian.Uint32(it.Data[4:]), crc(it.Payload); got != want {
			it.Err = &CRCError{Page: page, Entry: i, What: "data", Stored: got, Actual: want}
			p.Problems = append(p.Problems, it.Err)
		}
	case BlobIdx, U8, I8, U16, I16, U32, I32, U64, I64:
	default:
		it.Err = fmt.Errorf("page %d entry %d: key %q: unknown type 0x%02x", page, i, it.Key, uint8(it.Type))
		p.Problems = append(p.Problems, it.Err)
	}
	return &it, span
}

func payload(pg []byte, it Item) []byte {
	switch it.Type {
	case String, BlobV1, BlobData:
	default:
		return nil
	}
	n := min(it.size(), (int(it.Span)-1)*EntrySize)
	off := firstEntry + (it.Index+1)*EntrySize
	return append([]byte(nil), pg[off:off+n]...)
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Read parses an NVS image from r (a file or a flash dump).
func Read(r io.Reader) (*Partition, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImage+1))
	if err != nil {
		return nil, fmt.Errorf("nvs: read image: %w", err)
	}
	if len(data) > maxImage {
		return nil, fmt.Errorf("nvs: image larger than %d bytes: %w", maxImage, ErrCorrupt)
	}
	return Parse(data)
}

// maxImage bounds what Read accepts: no NVS partition is larger than a
// 16 MiB flash chip.
const maxImage = 16 << 20
