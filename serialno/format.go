package serialno

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors returned by Format and ParseSN, matched with errors.Is.
var (
	ErrSeqOverflow = errors.New("sequence number does not fit the template")
	ErrBadLot      = errors.New("bad lot code")
	ErrNoDate      = errors.New("template needs a date in 2000..9999")
	ErrMismatch    = errors.New("SN does not match the template")
	ErrBadCheck    = errors.New("SN check character is wrong")
)

// Fields are the values a template's date and lot fields render.
type Fields struct {
	Date time.Time // rendered in its own location; pass UTC or factory time
	Lot  string    // the batch's lot code, [A-Z0-9]
}

// Parts are the values read back from an SN by ParseSN. Date parts that the
// template lacks are zero.
type Parts struct {
	Seq       uint64
	Lot       string
	Year      int // 4-digit year ({yy} reads as 20yy)
	Month     int
	Day       int
	Week      int
	DayOfYear int
	Check     string // the check character, if the template has one
}

// Format renders sequence number seq with fields f.
func (t *Template) Format(seq uint64, f Fields) (string, error) {
	if seq > t.maxSeq {
		return "", fmt.Errorf("serialno: format %s: seq %d > %d: %w", t.src, seq, t.maxSeq, ErrSeqOverflow)
	}
	if t.hasDate && f.Date.IsZero() {
		return "", fmt.Errorf("serialno: format %s: %w", t.src, ErrNoDate)
	}
	year := f.Date.Year()
	if t.isoYear {
		year, _ = f.Date.ISOWeek()
	}
	if t.hasDate && (year < 2000 || year > 9999) {
		return "", fmt.Errorf("serialno: format %s: year %d outside 2000..9999: %w", t.src, year, ErrNoDate)
	}
	var b strings.Builder
	for _, e := range t.elems {
		switch e.kind {
		case elemText:
			b.WriteString(e.text)
		case elemYY:
			pad(&b, uint64(year%100), 2)
		case elemYYYY:
			pad(&b, uint64(year), 4)
		case elemMM:
			pad(&b, uint64(f.Date.Month()), 2)
		case elemDD:
			pad(&b, uint64(f.Date.Day()), 2)
		case elemWW:
			_, w := f.Date.ISOWeek()
			pad(&b, uint64(w), 2)
		case elemDOY:
			pad(&b, uint64(f.Date.YearDay()), 3)
		case elemLot:
			if err := checkLot(f.Lot, e.width); err != nil {
				return "", fmt.Errorf("serialno: format %s: %w", t.src, err)
			}
			b.WriteString(f.Lot)
		case elemSeq:
			pad(&b, seq, e.width)
		case elemCheck:
			c, err := checkChar(e.check, b.String())
			if err != nil {
				return "", err
			}
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// checkLot validates a lot code for a lot field of width w (0 = variable).
func checkLot(lot string, w int) error {
	if lot == "" {
		return fmt.Errorf("%w: empty (the template has a {lot} field)", ErrBadLot)
	}
	if w > 0 && len(lot) != w {
		return fmt.Errorf("%w: %q is %d characters, the template wants %d", ErrBadLot, lot, len(lot), w)
	}
	if len(lot) > MaxLotWidth {
		return fmt.Errorf("%w: %q is longer than %d characters", ErrBadLot, lot, MaxLotWidth)
	}
	for i := 0; i < len(lot); i++ {
		if c := lot[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("%w: %q: only 0-9 and A-Z are allowed", ErrBadLot, lot)
		}
	}
	return nil
}

func pad(b *strings.Builder, v uint64, w int) {
	s := strconv.FormatUint(v, 10)
	for i := len(s); i < w; i++ {
		b.WriteByte('0')
	}
	b.WriteString(s)
}

// fixedWidth returns the length of an SN minus a variable-width lot.
func (t *Template) fixedWidth() int {
	n := 0
	for _, e := range t.elems {
		if e.kind == elemText {
			n += len(e.text)
		} else {
			n += e.width
		}
	}
	return n
}

// ParseSN reads sn back into its parts, checking fixed text, field ranges
// and the check character.
func (t *Template) ParseSN(sn string) (Parts, error) {
	var p Parts
	fail := func(pos int, format string, a ...any) (Parts, error) {
		return Parts{}, fmt.Errorf("serialno: SN %q at offset %d: %s: %w", sn, pos, fmt.Sprintf(format, a...), ErrMismatch)
	}
	lotLen := len(sn) - t.fixedWidth()
	if !t.varLot && lotLen != 0 || t.varLot && (lotLen < 1 || lotLen > MaxLotWidth) {
		return fail(0, "length %d does not fit template %s", len(sn), t.src)
	}
	i := 0
	for _, e := range t.elems {
		w := e.width
		if e.kind == elemLot && w == 0 {
			w = lotLen
		}
		if e.kind == elemText {
			w = len(e.text)
		}
		if i+w > len(sn) {
			return fail(i, "too short for template %s", t.src)
		}
		part := sn[i : i+w]
		switch e.kind {
		case elemText:
			if part != e.text {
				return fail(i, "want %q", e.text)
			}
		case elemLot:
			if err := checkLot(part, e.width); err != nil {
				return fail(i, "%v", err)
			}
			p.Lot = part
		case elemCheck:
			// Exact match: a lower-case letter is not the character Format writes.
			if want, _ := checkChar(e.check, sn[:i]); part != string(want) {
				return Parts{}, fmt.Errorf("serialno: SN %q: check %s is %q, want %q: %w", sn, e.check, part, string(want), ErrBadCheck)
			}
			p.Check = part
		default:
			v, err := digits(part)
			if err != nil {
				return fail(i, "want %d digits", w)
			}
			if err := p.set(e.kind, v); err != nil {
				return fail(i, "%v", err)
			}
		}
		i += w
	}
	return p, nil
}

// set stores a numeric field value after a range check.
func (p *Parts) set(k elemKind, v uint64) error {
	bad := func(name string, lo, hi uint64) error {
		if v < lo || v > hi {
			return fmt.Errorf("%s %d out of range %d..%d", name, v, lo, hi)
		}
		return nil
	}
	var err error
	switch k {
	case elemSeq:
		p.Seq = v
	case elemYY:
		p.Year = 2000 + int(v)
	case elemYYYY:
		p.Year = int(v)
	case elemMM:
		err, p.Month = bad("month", 1, 12), int(v)
	case elemDD:
		err, p.Day = bad("day", 1, 31), int(v)
	case elemWW:
		err, p.Week = bad("week", 1, 53), int(v)
	case elemDOY:
		err, p.DayOfYear = bad("day of year", 1, 366), int(v)
	}
	return err
}

// digits parses an all-digit string (no sign, no spaces).
func digits(s string) (uint64, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseUint(s, 10, 64)
}
