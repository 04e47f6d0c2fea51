package serialno

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrRange is matched (errors.Is) by every range error.
var ErrRange = errors.New("invalid sequence range")

// Range is an inclusive range of sequence numbers, First <= Last.
type Range struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

// ParseRange parses "1000-1999" (inclusive) or a single number "42".
func ParseRange(s string) (Range, error) {
	a, b, isPair := strings.Cut(strings.TrimSpace(s), "-")
	first, err := digits(strings.TrimSpace(a))
	if err != nil || a == "" {
		return Range{}, fmt.Errorf("serialno: range %q: first %q is not a number: %w", s, a, ErrRange)
	}
	last := first
	if isPair {
		if last, err = digits(strings.TrimSpace(b)); err != nil || strings.TrimSpace(b) == "" {
			return Range{}, fmt.Errorf("serialno: range %q: last %q is not a number: %w", s, b, ErrRange)
		}
	}
	r := Range{First: first, Last: last}
	return r, r.Validate()
}

// Validate reports a range whose First is after its Last.
func (r Range) Validate() error {
	if r.First > r.Last {
		return fmt.Errorf("serialno: range %s: first is after last: %w", r, ErrRange)
	}
	return nil
}

// String formats the range as ParseRange reads it.
func (r Range) String() string {
	return strconv.FormatUint(r.First, 10) + "-" + strconv.FormatUint(r.Last, 10)
}

// Len returns the number of sequence numbers in r (saturating at MaxUint64).
func (r Range) Len() uint64 {
	if r.First > r.Last {
		return 0
	}
	if r.First == 0 && r.Last == math.MaxUint64 {
		return math.MaxUint64
	}
	return r.Last - r.First + 1
}

// Contains reports whether seq lies in r.
func (r Range) Contains(seq uint64) bool { return seq >= r.First && seq <= r.Last }

// Overlaps reports whether r and o share a sequence number.
func (r Range) Overlaps(o Range) bool { return r.First <= o.Last && o.First <= r.Last }

// Block returns the i-th block (from 0) of size numbers, for a station that
// takes fixed-size blocks of a batch's range. The last block may be short.
func (r Range) Block(i, size uint64) (Range, error) {
	if size == 0 {
		return Range{}, fmt.Errorf("serialno: range %s: block size 0: %w", r, ErrRange)
	}
	if err := r.Validate(); err != nil {
		return Range{}, err
	}
	n := r.Len()
	if i >= n/size+boolU(n%size != 0) {
		return Range{}, fmt.Errorf("serialno: range %s: block %d of size %d is past the end: %w", r, i, size, ErrRange)
	}
	first := r.First + i*size
	last := r.Last
	if size-1 <= r.Last-first {
		last = first + size - 1
	}
	return Range{First: first, Last: last}, nil
}

// Split cuts r into n disjoint, adjacent blocks whose sizes differ by at most
// one, for n stations sharing a batch's range.
func (r Range) Split(n int) ([]Range, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if n < 1 || uint64(n) > r.Len() {
		return nil, fmt.Errorf("serialno: range %s: cannot split %d numbers into %d blocks: %w", r, r.Len(), n, ErrRange)
	}
	size, extra := r.Len()/uint64(n), r.Len()%uint64(n)
	out := make([]Range, 0, n)
	first := r.First
	for i := range uint64(n) {
		sz := size + boolU(i < extra)
		out = append(out, Range{First: first, Last: first + sz - 1})
		first += sz
	}
	return out, nil
}

// Overlapping returns the indexes of the first two ranges of rs that share a
// sequence number, and ok=false when all are disjoint.
func Overlapping(rs []Range) (i, j int, ok bool) {
	for i = range rs {
		for j = i + 1; j < len(rs); j++ {
			if rs[i].Overlaps(rs[j]) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

// CheckRange reports a range that the template cannot render.
func (t *Template) CheckRange(r Range) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Last > t.maxSeq {
		return fmt.Errorf("serialno: range %s: last %d does not fit %s (max %d): %w", r, r.Last, t.src, t.maxSeq, ErrSeqOverflow)
	}
	return nil
}

func boolU(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
