package spiffs

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is one file of an image: its full SPIFFS path and contents.
type File struct {
	Name string // "/provisioning/claim_certificate.pem"
	Data []byte
}

// page kinds in a block under construction.
type pageKind uint8

const (
	kindIndex pageKind = iota + 1
	kindData
)

// bpage is one object page placed in a block.
type bpage struct {
	kind    pageKind
	objID   uint16
	span    uint16
	ix      *ixPage // kindIndex
	content []byte  // kindData
}

// ixPage is an object index page being filled with data page numbers.
type ixPage struct {
	span  uint16
	size  uint32
	name  string
	pages []uint16
	lim   int
}

type block struct {
	pages []bpage // object pages after the lookup pages
}

// Builder lays files out exactly as spiffsgen.py does: objects in the order
// added, object ids from 1, each file's index header page then its data
// pages filling the current block, a new index page when the index is
// full, a new block when the block is.
type Builder struct {
	g      geometry
	size   int
	blocks []*block
	nextID uint16
	bo     binary.ByteOrder
}

// NewBuilder starts an image of size bytes.
func NewBuilder(size int, cfg Config) (*Builder, error) {
	g, err := cfg.geometry()
	if err != nil {
		return nil, err
	}
	if size <= 0 || size%cfg.BlockSize != 0 {
		return nil, fmt.Errorf("spiffs: image size %d: %w %d", size, ErrSize, cfg.BlockSize)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if cfg.BigEndian {
		bo = binary.BigEndian
	}
	return &Builder{g: g, size: size, nextID: 1, bo: bo}, nil
}

func (b *Builder) blockCount() int { return b.size / b.g.BlockSize }

func (b *Builder) newBlock() (*block, error) {
	if len(b.blocks) >= b.blockCount() {
		return nil, fmt.Errorf("%w (%d bytes); give a larger size", ErrFull, b.size)
	}
	blk := &block{}
	b.blocks = append(b.blocks, blk)
	return blk, nil
}

func (b *Builder) remaining(blk *block) int { return b.g.usablePages - len(blk.pages) }

// absPage is the image-wide page number of the next page placed in the
// last block.
func (b *Builder) absPage(blk *block) uint16 {
	return uint16((len(b.blocks)-1)*b.g.pagesPerBlock + b.g.luPages + len(blk.pages))
}

// Add appends a file.
func (b *Builder) Add(f File) error {
	if err := b.g.CheckName(f.Name); err != nil {
		return err
	}
	id := b.nextID
	var blk *block
	if n := len(b.blocks); n > 0 && b.remaining(b.blocks[n-1]) > 0 {
		blk = b.blocks[n-1]
	} else {
		var err error
		if blk, err = b.newBlock(); err != nil {
			return fmt.Errorf("spiffs: add %s: %w", f.Name, err)
		}
	}
	ixSpan := uint16(0)
	newIx := func() *ixPage {
		ix := &ixPage{span: ixSpan, size: uint32(len(f.Data)), name: f.Name, lim: b.g.ixLim}
		if ixSpan == 0 {
			ix.lim = b.g.ixHeadLim
		}
		blk.pages = append(blk.pages, bpage{kind: kindIndex, objID: id, span: ixSpan, ix: ix})
		ixSpan++
		return ix
	}
	ix := newIx()
	dataSpan := uint16(0)
	for off := 0; off < len(f.Data); {
		if b.remaining(blk) == 0 {
			var err error
			if blk, err = b.newBlock(); err != nil {
				return fmt.Errorf("spiffs: add %s: %w", f.Name, err)
			}
			continue
		}
		if len(ix.pages) >= ix.lim {
			ix = newIx()
			continue
		}
		end := min(off+b.g.dataContentLen, len(f.Data))
		ix.pages = append(ix.pages, b.absPage(blk))
		blk.pages = append(blk.pages, bpage{kind: kindData, objID: id, span: dataSpan, content: f.Data[off:end]})
		dataSpan++
		off = end
	}
	b.nextID++
	return nil
}

// Bytes renders the image: used blocks, then (with magic) formatted empty
// blocks, or erased bytes without it.
func (b *Builder) Bytes() ([]byte, error) {
	out := make([]byte, 0, b.size)
	for bix := 0; bix < b.blockCount(); bix++ {
		if bix >= len(b.blocks) && !b.g.UseMagic {
			break
		}
		blk := &block{}
		if bix < len(b.blocks) {
			blk = b.blocks[bix]
		}
		img, err := b.renderBlock(bix, blk)
		if err != nil {
			return nil, err
		}
		out = append(out, img...)
	}
	for len(out) < b.size {
		out = append(out, 0xFF)
	}
	return out, nil
}

func (b *Builder) renderBlock(bix int, blk *block) ([]byte, error) {
	g := b.g
	img := erased(g.BlockSize)
	lu := img[:g.luPages*g.PageSize]
	for i, p := range blk.pages {
		id := p.objID
		if p.kind == kindIndex {
			id |= idxFlag
		}
		b.bo.PutUint16(lu[i*objIDLen:], id)
	}
	if g.UseMagic {
		// The last lookup page's second-to-last slot, if that page has at
		// least two slots unused (spiffsgen's rule).
		lastStart := (g.luPages - 1) * g.luIDsPerPage
		if used := len(blk.pages) - lastStart; g.luIDsPerPage-max(used, 0) >= 2 {
			m := g.magic(bix, b.blockCount())
			if m > 0xFFFF {
				return nil, fmt.Errorf("spiffs: block %d: magic 0x%x does not fit an object id: %w", bix, m, ErrConfig)
			}
			b.bo.PutUint16(lu[(lastStart+g.luIDsPerPage-2)*objIDLen:], uint16(m))
		}
	}
	for i, p := range blk.pages {
		pg := img[(g.luPages+i)*g.PageSize : (g.luPages+i+1)*g.PageSize]
		if p.kind == kindData {
			b.bo.PutUint16(pg[0:], p.objID)
			b.bo.PutUint16(pg[2:], p.span)
			pg[4] = flagsData
			copy(pg[g.dataHeaderLen:], p.content)
			continue
		}
		b.renderIndex(pg, p)
	}
	return img, nil
}

func (b *Builder) renderIndex(pg []byte, p bpage) {
	g := b.g
	b.bo.PutUint16(pg[0:], p.objID|idxFlag)
	b.bo.PutUint16(pg[2:], p.span)
	pg[4] = flagsIndex
	at := g.dataHeaderLen + g.pad
	if p.span == 0 {
		b.bo.PutUint32(pg[at:], p.ix.size)
		pg[at+4] = typeFile
		at += 5
		n := copy(pg[at:], p.ix.name)
		zeros := g.ObjNameLen - n + g.MetaLen + g.ixHeaderPad
		for i := 0; i < zeros; i++ {
			pg[at+n+i] = 0
		}
		at += n + zeros
	}
	for _, pix := range p.ix.pages {
		b.bo.PutUint16(pg[at:], pix)
		at += pageIxLen
	}
}

func erased(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xFF
	}
	return b
}

// Build writes files, in order, into an image of size bytes.
func Build(files []File, size int, cfg Config) ([]byte, error) {
	b, err := NewBuilder(size, cfg)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := b.Add(f); err != nil {
			return nil, err
		}
	}
	return b.Bytes()
}

// ReadDir collects the regular files under dir as SPIFFS files named
// "/" + their path relative to dir, visiting like spiffsgen's os.walk (a
// directory's files, then its subdirectories) but in sorted order, so the
// image does not depend on the order the OS lists entries in.
// Symbolic links are followed only with followLinks.
func ReadDir(dir string, followLinks bool) ([]File, error) {
	var files []File
	var walk func(rel string) error
	walk = func(rel string) error {
		ents, err := os.ReadDir(filepath.Join(dir, rel))
		if err != nil {
			return fmt.Errorf("spiffs: read directory: %w", err)
		}
		var subdirs []string
		for _, e := range ents { // os.ReadDir sorts them by name
			n := e.Name()
			p := filepath.Join(dir, rel, n)
			isDir, regular := e.IsDir(), e.Type().IsRegular()
			if e.Type()&fs.ModeSymlink != 0 {
				fi, err := os.Stat(p)
				if err != nil {
					return fmt.Errorf("spiffs: %w", err)
				}
				if fi.IsDir() && !followLinks {
					continue
				}
				isDir, regular = fi.IsDir(), fi.Mode().IsRegular()
			}
			switch {
			case isDir:
				subdirs = append(subdirs, filepath.Join(rel, n))
			case regular:
				data, err := os.ReadFile(p)
				if err != nil {
					return fmt.Errorf("spiffs: %w", err)
				}
				files = append(files, File{Name: "/" + filepath.ToSlash(filepath.Join(rel, n)), Data: data})
			}
		}
		for _, s := range subdirs {
			if err := walk(s); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	for i := range files {
		files[i].Name = strings.ReplaceAll(files[i].Name, "//", "/")
	}
	return files, nil
}
