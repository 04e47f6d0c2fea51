package serialno

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrTemplate is matched (errors.Is) by every template parse error.
var ErrTemplate = errors.New("invalid SN template")

// TemplateError says what is wrong with a template and where.
type TemplateError struct {
	Template string // the template text
	Pos      int    // byte offset of the problem
	Msg      string // what is wrong
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("serialno: template %q at offset %d: %s", e.Template, e.Pos, e.Msg)
}

// Is makes errors.Is(err, ErrTemplate) true.
func (e *TemplateError) Is(target error) bool { return target == ErrTemplate }

// Limits on field widths.
const (
	MaxSeqWidth = 19 // 10^19-1 still fits a uint64
	MaxLotWidth = 32
	maxTemplate = 128 // bytes of template text; SNs go on labels and into NVS
)

type elemKind int

const (
	elemText elemKind = iota
	elemYY
	elemYYYY
	elemMM
	elemDD
	elemWW
	elemDOY
	elemLot
	elemSeq
	elemCheck
)

// dateFields maps date field names to their kind and fixed width.
var dateFields = map[string]struct {
	kind  elemKind
	width int
}{
	"yy": {elemYY, 2}, "yyyy": {elemYYYY, 4}, "mm": {elemMM, 2},
	"dd": {elemDD, 2}, "ww": {elemWW, 2}, "doy": {elemDOY, 3},
}

// element is one piece of a template: fixed text or a field.
type element struct {
	kind  elemKind
	text  string    // elemText
	width int       // digits or characters; 0 for a variable-width lot
	check CheckKind // elemCheck
}

// Template is a parsed SN template; it is immutable and safe for concurrent use.
type Template struct {
	src      string
	elems    []element
	seqWidth int
	maxSeq   uint64
	check    CheckKind
	isoYear  bool // year fields are the ISO week-year (see package doc)
	hasDate  bool
	hasLot   bool
	varLot   bool // a {lot} without a width
}

// Parse parses and validates a template such as "SL-{yy}{ww}-{seq:06}{check:luhn}".
func Parse(template string) (*Template, error) {
	p := &parser{src: template, t: &Template{src: template}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.t, nil
}

// MustParse is Parse for templates fixed at compile time; it panics on error.
func MustParse(template string) *Template {
	t, err := Parse(template)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the template text.
func (t *Template) String() string { return t.src }

// SeqWidth returns the number of digits of the sequence field.
func (t *Template) SeqWidth() int { return t.seqWidth }

// MaxSeq returns the largest sequence number the template can render.
func (t *Template) MaxSeq() uint64 { return t.maxSeq }

// Check returns the template's check algorithm (CheckNone if none).
func (t *Template) Check() CheckKind { return t.check }

// NeedsLot reports whether Format needs Fields.Lot.
func (t *Template) NeedsLot() bool { return t.hasLot }

// NeedsDate reports whether Format needs Fields.Date.
func (t *Template) NeedsDate() bool { return t.hasDate }

type parser struct {
	src  string
	t    *Template
	seen map[string]bool
}

func (p *parser) fail(pos int, format string, a ...any) error {
	return &TemplateError{Template: p.src, Pos: pos, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) parse() error {
	if p.src == "" {
		return p.fail(0, "empty template")
	}
	if len(p.src) > maxTemplate {
		return p.fail(maxTemplate, "longer than %d bytes", maxTemplate)
	}
	p.seen = map[string]bool{}
	for i := 0; i < len(p.src); {
		c := p.src[i]
		switch {
		case c == '}':
			return p.fail(i, "'}' without a matching '{'")
		case c == '{':
			end := strings.IndexAny(p.src[i+1:], "{}")
			if end < 0 || p.src[i+1+end] == '{' {
				return p.fail(i, "'{' is not closed")
			}
			if p.t.check != CheckNone {
				return p.fail(i, "the check field must be the last element")
			}
			if err := p.field(i, p.src[i+1:i+1+end]); err != nil {
				return err
			}
			i += end + 2
		case c <= ' ' || c > '~':
			return p.fail(i, "fixed text may hold only printable ASCII without spaces (got %q)", c)
		default:
			if p.t.check != CheckNone {
				return p.fail(i, "the check field must be the last element")
			}
			j := i
			for j < len(p.src) && p.src[j] != '{' && p.src[j] != '}' && p.src[j] > ' ' && p.src[j] <= '~' {
				j++
			}
			p.t.elems = append(p.t.elems, element{kind: elemText, text: p.src[i:j]})
			i = j
		}
	}
	if p.t.seqWidth == 0 {
		return p.fail(len(p.src), "no {seq:N} field: every SN needs a sequence number")
	}
	p.t.isoYear = p.seen["ww"] && !p.seen["mm"] && !p.seen["dd"] && !p.seen["doy"]
	return nil
}

// field parses the inside of one {...} starting at pos.
func (p *parser) field(pos int, body string) error {
	name, arg, hasArg := strings.Cut(body, ":")
	if name == "" {
		return p.fail(pos, "empty field {%s}", body)
	}
	if p.seen[name] {
		return p.fail(pos, "field {%s} appears twice", name)
	}
	p.seen[name] = true
	if df, ok := dateFields[name]; ok {
		if hasArg {
			return p.fail(pos, "field {%s} takes no width", name)
		}
		p.t.hasDate = true
		p.t.elems = append(p.t.elems, element{kind: df.kind, width: df.width})
		return nil
	}
	switch name {
	case "seq":
		if !hasArg {
			return p.fail(pos, "{seq} needs a width, e.g. {seq:06}")
		}
		w, err := p.width(pos, arg, MaxSeqWidth)
		if err != nil {
			return err
		}
		p.t.seqWidth = w
		p.t.maxSeq = pow10(w) - 1
		p.t.elems = append(p.t.elems, element{kind: elemSeq, width: w})
	case "lot":
		w := 0
		if hasArg {
			var err error
			if w, err = p.width(pos, arg, MaxLotWidth); err != nil {
				return err
			}
		}
		p.t.hasLot = true
		p.t.varLot = w == 0
		p.t.elems = append(p.t.elems, element{kind: elemLot, width: w})
	case "check":
		kind := CheckKind(arg)
		if kind != CheckLuhn && kind != CheckMod37_36 {
			return p.fail(pos, "unknown check %q (want {check:luhn} or {check:mod37-36})", arg)
		}
		p.t.check = kind
		p.t.elems = append(p.t.elems, element{kind: elemCheck, width: 1, check: kind})
	default:
		return p.fail(pos, "unknown field {%s} (known: yy yyyy mm dd ww doy lot seq check)", name)
	}
	return nil
}

// width parses a field width in 1..max.
func (p *parser) width(pos int, arg string, max int) (int, error) {
	if arg == "" || len(arg) > 3 {
		return 0, p.fail(pos, "bad width %q", arg)
	}
	for _, c := range arg {
		if c < '0' || c > '9' {
			return 0, p.fail(pos, "width %q is not a number", arg)
		}
	}
	w, _ := strconv.Atoi(arg)
	if w < 1 || w > max {
		return 0, p.fail(pos, "width %d out of range 1..%d", w, max)
	}
	return w, nil
}

func pow10(n int) uint64 {
	v := uint64(1)
	for range n {
		v *= 10
	}
	return v
}
