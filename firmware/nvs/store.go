package nvs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Flash is the NOR flash a Store changes in place: erased bytes read 0xFF,
// Erase works on whole 4 KiB sectors and Program can only clear bits.
// The virtual board's Flash satisfies it.
type Flash interface {
	ReadAt(p []byte, off int64) (int, error)
	// Erase sets [off, off+size) to 0xFF; both are multiples of 4 KiB.
	Erase(off, size uint32) error
	// Program ANDs data into flash at off.
	Program(off uint32, data []byte) error
}

// errPageFull says the current page cannot take an item; the caller moves on.
var errPageFull = errors.New("page full")

// Store changes an NVS partition in place the way ESP-IDF's nvs_flash does,
// so that what it leaves behind is what a board's own library would: a new
// value goes into the next free entries of the active page before the old
// entries are marked erased; a page that cannot take an item is marked full
// and the next free page becomes active with the next sequence number; when
// only the spare page is left, the page with the most erased entries is
// marked freeing, its live entries copied to a fresh page and its sector
// erased. A Store is not safe for concurrent use.
type Store struct {
	f       Flash
	base    uint32
	img     []byte // mirror of the partition, kept in step with every write
	part    *Partition
	used    []int // pages in use, oldest first; the last is the current page
	free    []int // pages available, in the order nvs_flash takes them
	nextSeq uint32
	pending bool // the current page is activated but has no header yet
	curSeq  uint32
}

// Open loads the partition at [offset, offset+size) of f, finishing a page
// reclaim that power loss interrupted, as nvs_flash_init does.
func Open(f Flash, offset, size uint32) (*Store, error) {
	if size%PageSize != 0 || size < MinPartitionSize {
		return nil, fmt.Errorf("nvs: open partition at 0x%x: size 0x%x: %w: must be a multiple of 4096 and at least 0x3000", offset, size, ErrPartitionSize)
	}
	s := &Store{f: f, base: offset, img: make([]byte, size)}
	if _, err := f.ReadAt(s.img, int64(offset)); err != nil {
		return nil, fmt.Errorf("nvs: read partition at 0x%x: %w", offset, err)
	}
	if err := s.reparse(); err != nil {
		return nil, err
	}
	for _, pg := range s.part.Pages {
		if !pg.InUse() {
			s.free = append(s.free, pg.Number)
		}
	}
	for _, n := range s.pagesBySeq() {
		s.used = append(s.used, n)
		s.nextSeq = s.part.Pages[n].Seq + 1
	}
	if len(s.used) == 0 {
		if err := s.activate(); err != nil {
			return nil, err
		}
	}
	if err := s.recoverFreeing(); err != nil {
		return nil, err
	}
	if len(s.free) == 0 {
		return nil, fmt.Errorf("nvs: open partition at 0x%x: %w", offset, ErrNoFreePages)
	}
	return s, nil
}

func (s *Store) pagesBySeq() []int {
	var out []int
	for _, it := range s.part.Pages {
		if it.InUse() {
			out = append(out, it.Number)
		}
	}
	// Parse already orders items by sequence; order pages the same way.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && s.part.Pages[out[j]].Seq < s.part.Pages[out[j-1]].Seq; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// recoverFreeing completes a reclaim cut short: the page being freed is
// copied again to a fresh page and erased.
func (s *Store) recoverFreeing() error {
	for i, n := range s.used {
		if PageState(binary.LittleEndian.Uint32(s.page(n))) != PageFreeing {
			continue
		}
		last := s.used[len(s.used)-1]
		if last != n && PageState(binary.LittleEndian.Uint32(s.page(last))) == PageActive {
			if err := s.erasePage(last); err != nil {
				return err
			}
			s.used = s.used[:len(s.used)-1]
			s.free = append(s.free, last)
		}
		return s.relocate(i)
	}
	return nil
}

// Partition is the partition as it now stands.
func (s *Store) Partition() *Partition { return s.part }

// Bytes is a copy of the partition's current contents.
func (s *Store) Bytes() []byte { return bytes.Clone(s.img) }

func (s *Store) reparse() error {
	p, err := Parse(s.img)
	if err != nil {
		return err
	}
	s.part = p
	return nil
}

func (s *Store) page(n int) []byte { return s.img[n*PageSize : (n+1)*PageSize] }
func (s *Store) current() int      { return s.used[len(s.used)-1] }

// program writes data at off within the partition, in flash and mirror.
func (s *Store) program(off int, data []byte) error {
	if err := s.f.Program(s.base+uint32(off), data); err != nil {
		return fmt.Errorf("nvs: program flash at 0x%x: %w", s.base+uint32(off), err)
	}
	for i, b := range data {
		s.img[off+i] &= b
	}
	return nil
}

func (s *Store) erasePage(n int) error {
	if err := s.f.Erase(s.base+uint32(n*PageSize), PageSize); err != nil {
		return fmt.Errorf("nvs: erase page %d at 0x%x: %w", n, s.base+uint32(n*PageSize), err)
	}
	copy(s.page(n), erased(PageSize))
	return nil
}

func (s *Store) setState(n int, st PageState) error {
	var w [4]byte
	binary.LittleEndian.PutUint32(w[:], uint32(st))
	return s.program(n*PageSize, w[:])
}

// setEntryState clears entry i's bitmap bits down to st.
func (s *Store) setEntryState(n, i int, st EntryState) error {
	bit := 2 * i
	off := n*PageSize + bitmapOffset + bit/8
	cur := s.img[off]
	next := cur &^ (3 << (bit % 8)) // both bits cleared ...
	next |= byte(st) << (bit % 8)   // ... then the state's ones kept
	next &= cur                     // never ask flash to set a bit
	if next == cur {
		return nil
	}
	return s.program(off, []byte{next})
}

// activate makes the first free page current. Its header is written with
// the first entry, as nvs_flash initialises pages lazily.
func (s *Store) activate() error {
	if len(s.free) == 0 {
		return ErrNotEnoughSpace
	}
	n := s.free[0]
	if !allErased(s.page(n)) {
		if err := s.erasePage(n); err != nil {
			return err
		}
	}
	s.free = s.free[1:]
	s.used = append(s.used, n)
	s.pending, s.curSeq = true, s.nextSeq
	s.nextSeq++
	return nil
}

func (s *Store) initCurrent() error {
	if !s.pending {
		return nil
	}
	h := makeHeader(PageActive, s.curSeq, Version2)
	if err := s.program(s.current()*PageSize, h[:]); err != nil {
		return err
	}
	s.pending = false
	return nil
}

func (s *Store) isFull(n int) bool {
	return PageState(binary.LittleEndian.Uint32(s.page(n))) == PageFull
}

// nextFree is the first entry after the last one in use on page n.
func (s *Store) nextFree(n int) int {
	pg := s.page(n)
	for i := EntriesPerPage - 1; i >= 0; i-- {
		if entryState(pg, i) != EntryEmpty {
			return i + 1
		}
	}
	return 0
}

// tailroom is how many payload bytes a variable-length item can still
// carry on page n (one entry goes to its header).
func (s *Store) tailroom(n int) int {
	if n == s.current() && s.pending {
		return maxChunkData
	}
	if s.isFull(n) {
		return 0
	}
	if f := s.nextFree(n); f < EntriesPerPage-1 {
		return (EntriesPerPage - f - 1) * EntrySize
	}
	return 0
}

// writeItem writes one item (header and payload entries) at the current
// page's next free entry, or reports errPageFull.
func (s *Store) writeItem(hdr [EntrySize]byte, payload []byte) error {
	if err := s.initCurrent(); err != nil {
		return err
	}
	n := s.current()
	if s.isFull(n) {
		return errPageFull
	}
	span := 1 + (len(payload)+EntrySize-1)/EntrySize
	at, err := s.cleanSlots(n, s.nextFree(n), span)
	if err != nil {
		return err
	}
	if at+span > EntriesPerPage {
		return errPageFull
	}
	off := n*PageSize + firstEntry + at*EntrySize
	if err := s.program(off, hdr[:]); err != nil {
		return err
	}
	if err := s.setEntryState(n, at, EntryWritten); err != nil {
		return err
	}
	if len(payload) > 0 {
		buf := erased((span - 1) * EntrySize)
		copy(buf, payload)
		if err := s.program(off+EntrySize, buf); err != nil {
			return err
		}
		for i := at + 1; i < at+span; i++ {
			if err := s.setEntryState(n, i, EntryWritten); err != nil {
				return err
			}
		}
	}
	return nil
}

// cleanSlots finds span entries from at on page n that are really erased.
// An entry whose state bit says empty but whose bytes are not (power lost
// between writing an entry and marking it written) is marked erased and
// skipped, as nvs_flash does when it loads such a page.
func (s *Store) cleanSlots(n, at, span int) (int, error) {
	pg := s.page(n)
	for i := at; i < at+span && i < EntriesPerPage; i++ {
		off := firstEntry + i*EntrySize
		if allErased(pg[off : off+EntrySize]) {
			continue
		}
		if err := s.setEntryState(n, i, EntryErased); err != nil {
			return 0, err
		}
		at = i + 1
	}
	return at, nil
}

// nextPage marks the current page full and moves to a new one, reclaiming
// the page with the most erased entries when only the spare is left.
func (s *Store) nextPage() error {
	if cur := s.current(); !s.isFull(cur) {
		if err := s.initCurrent(); err != nil {
			return err
		}
		if err := s.setState(cur, PageFull); err != nil {
			return err
		}
	}
	if len(s.free) == 0 {
		return ErrNotEnoughSpace
	}
	if len(s.free) >= 2 {
		return s.activate()
	}
	victim, most := -1, 0
	for i, n := range s.used {
		if unused := EntriesPerPage - s.writtenCount(n); unused > most {
			victim, most = i, unused
		}
	}
	if victim < 0 {
		return ErrNotEnoughSpace
	}
	n := s.used[victim]
	if err := s.setState(n, PageFreeing); err != nil {
		return err
	}
	return s.relocate(victim)
}

// relocate copies the live entries of the page at s.used[i], already marked
// freeing, to a freshly activated page, then erases it and returns it to the
// free list. A power cut anywhere in here leaves a freeing page that
// recoverFreeing finishes.
func (s *Store) relocate(i int) error {
	n := s.used[i]
	if err := s.activate(); err != nil {
		return err
	}
	if err := s.copyPage(n, s.current()); err != nil {
		return err
	}
	if err := s.erasePage(n); err != nil {
		return err
	}
	s.used = append(s.used[:i:i], s.used[i+1:]...)
	s.free = append(s.free, n)
	return s.reparse()
}

func (s *Store) writtenCount(n int) int {
	c := 0
	pg := s.page(n)
	for i := 0; i < EntriesPerPage; i++ {
		if entryState(pg, i) == EntryWritten {
			c++
		}
	}
	return c
}

// copyPage copies page from's live items, entry for entry, to page to.
func (s *Store) copyPage(from, to int) error {
	if err := s.reparse(); err != nil {
		return err
	}
	pg := s.page(from)
	for _, it := range s.part.Items {
		if it.Page != from || it.State != EntryWritten || it.Err != nil {
			continue
		}
		var hdr [EntrySize]byte
		copy(hdr[:], pg[firstEntry+it.Index*EntrySize:])
		start := firstEntry + (it.Index+1)*EntrySize
		body := pg[start : start+(int(it.Span)-1)*EntrySize]
		if err := s.writeItem(hdr, bytes.Clone(body)); err != nil {
			return fmt.Errorf("nvs: copy page %d to page %d: %w", from, to, err)
		}
	}
	return nil
}
