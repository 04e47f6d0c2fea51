package flasher

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
)

// Region is one image to write: a name for messages ("bootloader", "app"),
// its flash offset and its bytes.
type Region struct {
	Name   string
	Offset uint32
	Data   []byte
}

// WriteOptions choose how regions are written.
type WriteOptions struct {
	Compress bool // FLASH_DEFL_* with zlib level 9; otherwise plain FLASH_*
	// FastCompress compresses at zlib level 1 instead: for data written
	// once (a board's own factory data), where level 9 costs the host four
	// times the CPU to save a few dozen bytes of link time.
	FastCompress  bool
	Verify        bool // SPI_FLASH_MD5 after writing each region
	SkipUnchanged bool // skip a region whose flash MD5 already matches
	// SegmentSize splits each region into independently begun (and, when
	// compressing, independently compressed) pieces, so that recovering
	// from a lost block resends one segment, not the region. Default
	// 64 KiB; it must be a multiple of 4 KiB. Deflate's window is 32 KiB,
	// so segments of 64 KiB and more cost almost nothing in compression.
	SegmentSize uint32
	// BlockSize is the FLASH_DATA / FLASH_DEFL_DATA block: 0x400 (what
	// esptool sends the ROM), 0x800 or 0x1000. The ESP32 and C3 ROMs accept
	// all three (and refuse 0x4000); bigger blocks cost fewer round trips,
	// which is what limits ROM-mode speed. 0 chooses automatically: 0x1000,
	// falling back to 0x400 for the rest of the write if a chip's ROM refuses
	// the first BEGIN with "invalid message".
	BlockSize uint32
}

// AutoBlockSize is the block size WriteOptions.BlockSize 0 tries first;
// FallbackBlockSize is what it falls back to.
const (
	AutoBlockSize     = 0x1000
	FallbackBlockSize = 0x400
)

// DefaultSegmentSize is the default WriteOptions.SegmentSize.
const DefaultSegmentSize = 64 << 10

const (
	sectorSize = 0x1000
	blockSize  = 0x400 // esptool's FLASH_DATA / FLASH_DEFL_DATA block for the ROM
)

// WritePlan is a set of regions prepared for the wire: aligned, split into
// segments, compressed, with digests and per-block timeouts worked out.
// It is immutable, so one plan can be written to many boards at once
// without compressing the firmware again for each.
type WritePlan struct {
	opt     WriteOptions
	regions []planRegion

	// auto plans keep their source so the fallback block size can be
	// prepared once, on first need, and shared by every board.
	auto     bool
	src      []Region
	fallOnce sync.Once
	fall     *WritePlan
	fallErr  error
}

type planRegion struct {
	name     string
	offset   uint32   // as asked
	md5      [16]byte // of the data as asked (for SkipUnchanged)
	size     uint32   // as asked
	start    uint32   // aligned down to a sector
	image    []byte   // 0xFF padding + data: what is written at start
	imageMD5 [16]byte
	segments []planSegment
	blocks   int // over all segments
	wire     int // data bytes sent in blocks (compressed or padded)
}

type planSegment struct {
	addr     uint32 // flash address
	raw      []byte // uncompressed bytes (a slice of image)
	blocks   [][]byte
	inflated []int // uncompressed bytes each block expands to (compressed only)
	first    int   // index of the first block in the region
}

// PrepareWrite checks and prepares regions. Regions must not overlap; they
// are written in offset order. As esptool does without its stub, a region
// that does not start on a 4 KiB sector is extended down to one with 0xFF
// bytes, because the ROM refuses an unaligned FLASH_BEGIN.
func PrepareWrite(regions []Region, o WriteOptions) (*WritePlan, error) {
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	auto := o.BlockSize == 0
	switch o.BlockSize {
	case 0:
		o.BlockSize = AutoBlockSize
	case 0x400, 0x800, 0x1000:
	default:
		return nil, fmt.Errorf("block size 0x%x: the ROM takes 0x400, 0x800 or 0x1000", o.BlockSize)
	}
	if o.SegmentSize%sectorSize != 0 {
		return nil, fmt.Errorf("segment size %d is not a multiple of 4 KiB", o.SegmentSize)
	}
	rs := append([]Region(nil), regions...)
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Offset < rs[j].Offset })
	p := &WritePlan{opt: o, auto: auto, src: rs}
	for i, r := range rs {
		if len(r.Data) == 0 {
			return nil, fmt.Errorf("region %s at 0x%x is empty", regionName(r), r.Offset)
		}
		end := uint64(r.Offset) + uint64(len(r.Data))
		if end > 1<<32 {
			return nil, fmt.Errorf("region %s at 0x%x: %d bytes run past 4 GiB", regionName(r), r.Offset, len(r.Data))
		}
		if i > 0 {
			prev := rs[i-1]
			if uint64(prev.Offset)+uint64(len(prev.Data)) > uint64(r.Offset) {
				return nil, fmt.Errorf("regions %s (0x%x+%d) and %s (0x%x) overlap", regionName(prev), prev.Offset, len(prev.Data), regionName(r), r.Offset)
			}
			// Alignment pads down into the sector; that must not clobber the previous region.
			if prevEnd := uint64(prev.Offset) + uint64(len(prev.Data)); prevEnd > uint64(r.Offset&^(sectorSize-1)) {
				return nil, fmt.Errorf("region %s at 0x%x shares a 4 KiB sector with %s; the ROM erases whole sectors, so start it on a sector boundary", regionName(r), r.Offset, regionName(prev))
			}
		}
		pr, err := prepareRegion(r, o)
		if err != nil {
			return nil, err
		}
		p.regions = append(p.regions, pr)
	}
	return p, nil
}

// fallback returns the plan prepared with FallbackBlockSize, building it
// on first use.
func (p *WritePlan) fallback() (*WritePlan, error) {
	p.fallOnce.Do(func() {
		o := p.opt
		o.BlockSize = FallbackBlockSize
		p.fall, p.fallErr = PrepareWrite(p.src, o)
	})
	return p.fall, p.fallErr
}

func regionName(r Region) string {
	if r.Name != "" {
		return r.Name
	}
	return fmt.Sprintf("0x%x", r.Offset)
}

func prepareRegion(r Region, o WriteOptions) (planRegion, error) {
	pad := r.Offset % sectorSize
	img := make([]byte, int(pad)+len(r.Data))
	for i := range img[:pad] {
		img[i] = 0xFF
	}
	copy(img[pad:], r.Data)
	pr := planRegion{
		name: regionName(r), offset: r.Offset, size: uint32(len(r.Data)),
		md5: md5.Sum(r.Data), start: r.Offset - pad, image: img, imageMD5: md5.Sum(img),
	}
	for off := 0; off < len(img); off += int(o.SegmentSize) {
		raw := img[off:min(off+int(o.SegmentSize), len(img))]
		s := planSegment{addr: pr.start + uint32(off), raw: raw, first: pr.blocks}
		if o.Compress {
			comp, err := deflate(raw, o.FastCompress)
			if err != nil {
				return pr, fmt.Errorf("compress %s: %w", pr.name, err)
			}
			s.blocks = split(comp, int(o.BlockSize), false)
			if s.inflated, err = inflatedPerBlock(comp, int(o.BlockSize), len(s.blocks)); err != nil {
				return pr, fmt.Errorf("compress %s: check: %w", pr.name, err)
			}
		} else {
			s.blocks = split(raw, int(o.BlockSize), true)
		}
		for _, b := range s.blocks {
			pr.wire += len(b)
		}
		pr.blocks += len(s.blocks)
		pr.segments = append(pr.segments, s)
	}
	return pr, nil
}

// split cuts p into blocks of n bytes; with pad the last is filled to n
// with 0xFF (erased flash), as the plain FLASH_DATA path needs.
func split(p []byte, n int, pad bool) [][]byte {
	var out [][]byte
	for off := 0; off < len(p); off += n {
		b := p[off:min(off+n, len(p))]
		if pad && len(b) < n {
			full := bytes.Repeat([]byte{0xFF}, n)
			copy(full, b)
			b = full
		}
		out = append(out, b)
	}
	return out
}

// zlibWriters keep level-9 and level-1 compressors for reuse: building one
// allocates about a megabyte of tables, which dwarfed compressing a board's
// small factory-data region on a busy station.
var zlibWriters = [2]sync.Pool{
	{New: func() any { zw, _ := zlib.NewWriterLevel(io.Discard, zlib.BestCompression); return zw }},
	{New: func() any { zw, _ := zlib.NewWriterLevel(io.Discard, zlib.BestSpeed); return zw }},
}

func deflate(p []byte, fast bool) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(p)/2 + 64)
	pool := &zlibWriters[0]
	if fast {
		pool = &zlibWriters[1]
	}
	zw := pool.Get().(*zlib.Writer)
	defer pool.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(p); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// countingReader serves p byte by byte, so the inflater (which uses
// ReadByte when it can) never reads ahead and pos is exactly the compressed
// bytes consumed so far.
type countingReader struct {
	p   []byte
	pos int
}

func (r *countingReader) ReadByte() (byte, error) {
	if r.pos >= len(r.p) {
		return 0, io.EOF
	}
	r.pos++
	return r.p[r.pos-1], nil
}

func (r *countingReader) Read(b []byte) (int, error) {
	if r.pos >= len(r.p) {
		return 0, io.EOF
	}
	n := copy(b, r.p[r.pos:])
	r.pos += n
	return n, nil
}

// inflatedPerBlock estimates how many bytes each compressed block inflates
// to, to scale its timeout as esptool does (40 s per inflated MB): a block
// of zeros can expand a thousandfold. The estimate is granular to 256 bytes.
func inflatedPerBlock(comp []byte, bs, n int) ([]int, error) {
	cr := &countingReader{p: comp}
	zr, err := zlib.NewReader(cr)
	if err != nil {
		return nil, err
	}
	upTo := make([]int, n) // inflated total when block k had been consumed
	buf := make([]byte, 256)
	total := 0
	for {
		m, err := zr.Read(buf)
		total += m
		if cr.pos > 0 {
			k := min((cr.pos-1)/bs, n-1)
			upTo[k] = max(upTo[k], total)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]int, n)
	prev := 0
	for k := range upTo {
		if upTo[k] < prev {
			upTo[k] = prev
		}
		out[k] = upTo[k] - prev + 256
		prev = upTo[k]
	}
	return out, nil
}

// Bytes returns the raw and on-the-wire byte counts of the plan.
func (p *WritePlan) Bytes() (raw, wire int) {
	for _, r := range p.regions {
		raw += len(r.image)
		wire += r.wire
	}
	return raw, wire
}
