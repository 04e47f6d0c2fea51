package spiffs

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// Entry is a file found in an image.
type Entry struct {
	Name  string
	ObjID uint16
	Size  int
	Data  []byte // nil when the file could not be read whole
	Err   error  // why Data is missing or short
}

// FS is a parsed image.
type FS struct {
	Files    []Entry // sorted by name
	Blocks   int
	Problems []error // bad magic, missing or mismatched pages
}

// Parse reads an image made with cfg. Problems with single files or blocks
// are recorded, not fatal; an image whose size is not a whole number of
// blocks, or a bad cfg, is an error.
func Parse(img []byte, cfg Config) (*FS, error) {
	g, err := cfg.geometry()
	if err != nil {
		return nil, err
	}
	if len(img) == 0 || len(img)%cfg.BlockSize != 0 {
		return nil, fmt.Errorf("spiffs: image of %d bytes: %w: want a multiple of the %d-byte block", len(img), ErrCorrupt, cfg.BlockSize)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if cfg.BigEndian {
		bo = binary.BigEndian
	}
	fs := &FS{Blocks: len(img) / cfg.BlockSize}
	badMagic, firstBad := 0, ""
	heads := map[uint16]int{}              // object id -> page of its span 0 index
	ixPages := map[uint16]map[uint16]int{} // object id -> span -> page
	for bix := 0; bix < fs.Blocks; bix++ {
		base := bix * g.pagesPerBlock
		lu := img[bix*g.BlockSize : bix*g.BlockSize+g.luPages*g.PageSize]
		if g.UseMagic {
			slot := (g.luPages-1)*g.luIDsPerPage + g.luIDsPerPage - 2
			if slot >= g.usablePages {
				if got, want := bo.Uint16(lu[slot*objIDLen:]), g.magic(bix, fs.Blocks); uint32(got) != want {
					if badMagic == 0 {
						firstBad = fmt.Sprintf("block %d has 0x%04x, want 0x%04x", bix, got, want)
					}
					badMagic++
				}
			}
		}
		for i := 0; i < g.usablePages; i++ {
			id := bo.Uint16(lu[i*objIDLen:])
			if id == freeID || id == deletedID || id&idxFlag == 0 {
				continue
			}
			page := base + g.luPages + i
			pg := img[page*g.PageSize : (page+1)*g.PageSize]
			hid, span, flags := bo.Uint16(pg), bo.Uint16(pg[2:]), pg[4]
			if hid != id || flags&(flagUsed|flagFinal|flagIndex) != 0 || flags&flagDeleted == 0 {
				if flags&flagDeleted != 0 {
					fs.Problems = append(fs.Problems, fmt.Errorf("page %d: lookup says index of object %d, page says id 0x%04x flags 0x%02x (wrong --page-size?)", page, id&^idxFlag, hid, flags))
				}
				continue
			}
			obj := id &^ idxFlag
			if ixPages[obj] == nil {
				ixPages[obj] = map[uint16]int{}
			}
			ixPages[obj][span] = page
			if span == 0 {
				heads[obj] = page
			}
		}
	}
	if badMagic > 0 {
		fs.Problems = append(fs.Problems, fmt.Errorf("magic wrong in %d of %d blocks (%s): the image was made with other "+
			"--page-size, --block-size, --no-magic or --no-magic-len options, or for another partition size", badMagic, fs.Blocks, firstBad))
	}
	for obj, head := range heads {
		fs.Files = append(fs.Files, readFile(img, g, bo, obj, head, ixPages[obj]))
	}
	sort.Slice(fs.Files, func(i, j int) bool { return fs.Files[i].Name < fs.Files[j].Name })
	for _, f := range fs.Files {
		if f.Err != nil {
			fs.Problems = append(fs.Problems, f.Err)
		}
	}
	return fs, nil
}

func readFile(img []byte, g geometry, bo binary.ByteOrder, obj uint16, head int, ix map[uint16]int) Entry {
	pg := img[head*g.PageSize : (head+1)*g.PageSize]
	at := g.dataHeaderLen + g.pad
	size := bo.Uint32(pg[at:])
	name := cstring(pg[at+5 : at+5+g.ObjNameLen])
	e := Entry{Name: name, ObjID: obj}
	if size == 0xFFFFFFFF {
		e.Err = fmt.Errorf("%s: size not written (file never closed)", name)
		return e
	}
	if pg[at+4] != typeFile {
		e.Err = fmt.Errorf("%s: object type %d is not a file", name, pg[at+4])
		return e
	}
	e.Size = int(size)
	if e.Size > len(img) {
		e.Err = fmt.Errorf("%s: size %d exceeds the image", name, e.Size)
		return e
	}
	data := make([]byte, 0, e.Size)
	for span := 0; len(data) < e.Size; span++ {
		ixSpan, slot := 0, span
		first := g.ixHeaderLen
		if span >= g.ixHeadLim {
			ixSpan = 1 + (span-g.ixHeadLim)/g.ixLim
			slot = (span - g.ixHeadLim) % g.ixLim
			first = g.dataHeaderLen + g.pad
		}
		ixPage, ok := ix[uint16(ixSpan)]
		if !ok {
			e.Err = fmt.Errorf("%s: index page %d missing", name, ixSpan)
			return e
		}
		ipg := img[ixPage*g.PageSize : (ixPage+1)*g.PageSize]
		pix := int(bo.Uint16(ipg[first+slot*pageIxLen:]))
		if pix*g.PageSize >= len(img) || pix%g.pagesPerBlock < g.luPages {
			e.Err = fmt.Errorf("%s: data page %d points at page %d, outside the objects (wrong --obj-name-len, --meta-len or --aligned-obj-ix-tables?)", name, span, pix)
			return e
		}
		dpg := img[pix*g.PageSize : (pix+1)*g.PageSize]
		if bo.Uint16(dpg) != obj || int(bo.Uint16(dpg[2:])) != span || dpg[4]&(flagUsed|flagFinal) != 0 || dpg[4]&flagIndex == 0 {
			e.Err = fmt.Errorf("%s: page %d is not data page %d of the file", name, pix, span)
			return e
		}
		n := min(g.dataContentLen, e.Size-len(data))
		data = append(data, dpg[g.dataHeaderLen:g.dataHeaderLen+n]...)
	}
	e.Data = data
	return e
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Open returns the contents of the file named name.
func (fs *FS) Open(name string) ([]byte, error) {
	for _, f := range fs.Files {
		if f.Name == name {
			if f.Err != nil {
				return nil, fmt.Errorf("spiffs: %w", f.Err)
			}
			return f.Data, nil
		}
	}
	return nil, fmt.Errorf("spiffs: %s: %w", name, ErrNotFound)
}

// Read parses an image from r.
func Read(r io.Reader, cfg Config) (*FS, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20+1))
	if err != nil {
		return nil, fmt.Errorf("spiffs: read image: %w", err)
	}
	if len(data) > 64<<20 {
		return nil, fmt.Errorf("spiffs: image larger than 64 MiB: %w", ErrCorrupt)
	}
	return Parse(data, cfg)
}
