package board

import (
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Flash geometry.
const (
	SectorSize = 4096      // smallest erase unit
	BlockSize  = 64 * 1024 // large erase unit
	PageSize   = 256       // largest single program operation
)

// ErrFlashRange reports an access outside the flash chip.
var ErrFlashRange = errors.New("board: flash access out of range")

// ErrFlashAlign reports an erase that is not on 4 KiB sector boundaries.
var ErrFlashAlign = errors.New("board: flash erase not sector-aligned")

// nor is a NOR flash array: erase sets bytes to 0xFF, programming ANDs.
// Storage is sparse (a nil 64 KiB chunk is erased), so 64 idle boards cost
// almost no memory; with a state file every change is written through.
type nor struct {
	mu     sync.Mutex
	size   uint32
	chunks [][]byte
	file   *os.File
}

func newNOR(size uint32) *nor {
	return &nor{size: size, chunks: make([][]byte, (size+BlockSize-1)/BlockSize)}
}

// openNOR loads (or creates, erased) the flash image file at path.
func openNOR(size uint32, path string) (*nor, error) {
	f := newNOR(size)
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("board: open flash state %s: %w", path, err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("board: stat flash state %s: %w", path, err)
	}
	if st.Size() == 0 {
		ff := make([]byte, BlockSize)
		for i := range ff {
			ff[i] = 0xFF
		}
		for off := int64(0); off < int64(size); off += BlockSize {
			if _, err := fh.WriteAt(ff, off); err != nil {
				fh.Close()
				return nil, fmt.Errorf("board: initialise flash state %s: %w", path, err)
			}
		}
	} else if st.Size() != int64(size) {
		fh.Close()
		return nil, fmt.Errorf("board: flash state %s is %d bytes, the chip has %d (delete it or use another --state dir)", path, st.Size(), size)
	}
	buf := make([]byte, BlockSize)
	for i := range f.chunks {
		if _, err := fh.ReadAt(buf, int64(i)*BlockSize); err != nil && err != io.EOF {
			fh.Close()
			return nil, fmt.Errorf("board: read flash state %s: %w", path, err)
		}
		if !allFF(buf) {
			f.chunks[i] = append([]byte(nil), buf...)
		}
	}
	f.file = fh
	return f, nil
}

func allFF(b []byte) bool {
	for _, c := range b {
		if c != 0xFF {
			return false
		}
	}
	return true
}

func (f *nor) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.file == nil {
		return nil
	}
	err := f.file.Close()
	f.file = nil
	return err
}

// readAt copies flash contents at off into p; bytes past the end read 0xFF.
func (f *nor) readAt(p []byte, off uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range p {
		a := uint64(off) + uint64(i)
		if a >= uint64(f.size) {
			p[i] = 0xFF
			continue
		}
		c := f.chunks[a/BlockSize]
		if c == nil {
			p[i] = 0xFF
		} else {
			p[i] = c[a%BlockSize]
		}
	}
}

func (f *nor) inRange(off, n uint32) bool {
	return uint64(off)+uint64(n) <= uint64(f.size)
}

// erase sets [off, off+n) to 0xFF; both must be sector multiples.
func (f *nor) erase(off, n uint32) error {
	if off%SectorSize != 0 || n%SectorSize != 0 {
		return fmt.Errorf("%w: 0x%x+0x%x", ErrFlashAlign, off, n)
	}
	if !f.inRange(off, n) {
		return fmt.Errorf("%w: erase 0x%x+0x%x, size 0x%x", ErrFlashRange, off, n, f.size)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for a := off; a < off+n; {
		ci := a / BlockSize
		if a%BlockSize == 0 && off+n-a >= BlockSize {
			f.chunks[ci] = nil
			a += BlockSize
			continue
		}
		if c := f.chunks[ci]; c != nil {
			s := a % BlockSize
			for i := s; i < s+SectorSize; i++ {
				c[i] = 0xFF
			}
		}
		a += SectorSize
	}
	return f.persist(off, n)
}

// program ANDs data into flash at off: NOR cells only go from 1 to 0.
func (f *nor) program(off uint32, data []byte) error {
	if !f.inRange(off, uint32(len(data))) {
		return fmt.Errorf("%w: program 0x%x+0x%x, size 0x%x", ErrFlashRange, off, len(data), f.size)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, b := range data {
		a := off + uint32(i)
		ci := a / BlockSize
		c := f.chunks[ci]
		if c == nil {
			if b == 0xFF {
				continue
			}
			c = make([]byte, BlockSize)
			for j := range c {
				c[j] = 0xFF
			}
			f.chunks[ci] = c
		}
		c[a%BlockSize] &= b
	}
	return f.persist(off, uint32(len(data)))
}

// persist writes [off, off+n) through to the state file; f.mu is held.
func (f *nor) persist(off, n uint32) error {
	if f.file == nil || n == 0 {
		return nil
	}
	buf := make([]byte, 0, n)
	for a := off; a < off+n; a++ {
		c := f.chunks[a/BlockSize]
		if c == nil {
			buf = append(buf, 0xFF)
		} else {
			buf = append(buf, c[a%BlockSize])
		}
	}
	if _, err := f.file.WriteAt(buf, int64(off)); err != nil {
		return fmt.Errorf("board: write flash state: %w", err)
	}
	return nil
}

// md5Sum hashes [off, off+n).
func (f *nor) md5Sum(off, n uint32) [16]byte {
	h := md5.New()
	buf := make([]byte, 4096)
	for done := uint32(0); done < n; {
		k := min(n-done, uint32(len(buf)))
		f.readAt(buf[:k], off+done)
		h.Write(buf[:k])
		done += k
	}
	var s [16]byte
	copy(s[:], h.Sum(nil))
	return s
}

// Size implements Flash.
func (f *nor) Size() uint32 { return f.size }

// ReadAt implements Flash.
func (f *nor) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(f.size) {
		return 0, io.EOF
	}
	n := len(p)
	if off+int64(n) > int64(f.size) {
		n = int(int64(f.size) - off)
	}
	f.readAt(p[:n], uint32(off))
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Erase implements Flash.
func (f *nor) Erase(off, size uint32) error { return f.erase(off, size) }

// Program implements Flash.
func (f *nor) Program(off uint32, data []byte) error { return f.program(off, data) }
