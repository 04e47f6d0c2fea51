package serialno

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var day = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC) // ISO week 49, day 337

func TestFormat(t *testing.T) {
	tests := []struct {
		tmpl string
		seq  uint64
		f    Fields
		want string
	}{
		{"SL{seq:09}", 42, Fields{}, "SL000000042"},
		{"SL-{yy}{ww}-{seq:06}{check:luhn}", 42, Fields{Date: day}, "SL-2649-000042" + string(LuhnDigit("2649000042"))},
		{"{yyyy}{mm}{dd}{seq:04}", 7, Fields{Date: day}, "202612030007"},
		{"X{doy}{seq:3}", 1, Fields{Date: day}, "X337001"},
		{"{lot:4}{seq:05}{check:mod37-36}", 42, Fields{Lot: "A7K2"}, "A7K200042" + string(Mod37_36Char("A7K200042"))},
		{"{lot}/{seq:2}", 9, Fields{Lot: "L1"}, "L1/09"},
		{"N{seq:1}", 9, Fields{}, "N9"},
		{"{seq:19}", 9999999999999999999, Fields{}, "9999999999999999999"},
		// ISO week-year: 2027-01-01 is in week 53 of 2026.
		{"{yy}{ww}{seq:2}", 1, Fields{Date: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, "265301"},
		// ... but with a month field the year is the calendar year.
		{"{yy}{mm}{ww}{seq:2}", 1, Fields{Date: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, "27015301"},
	}
	for _, tc := range tests {
		tmpl, err := Parse(tc.tmpl)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.tmpl, err)
		}
		got, err := tmpl.Format(tc.seq, tc.f)
		if err != nil {
			t.Fatalf("%s.Format(%d): %v", tc.tmpl, tc.seq, err)
		}
		if got != tc.want {
			t.Errorf("%s.Format(%d) = %q, want %q", tc.tmpl, tc.seq, got, tc.want)
		}
		p, err := tmpl.ParseSN(got)
		if err != nil {
			t.Fatalf("%s.ParseSN(%q): %v", tc.tmpl, got, err)
		}
		if p.Seq != tc.seq || p.Lot != tc.f.Lot {
			t.Errorf("%s.ParseSN(%q) = %+v", tc.tmpl, got, p)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	tests := []struct {
		tmpl string
		seq  uint64
		f    Fields
		want error
	}{
		{"SL{seq:03}", 1000, Fields{}, ErrSeqOverflow},
		{"SL{yy}{seq:03}", 1, Fields{}, ErrNoDate},
		{"{lot:4}{seq:03}", 1, Fields{Lot: "ABC"}, ErrBadLot},
		{"{lot}{seq:03}", 1, Fields{}, ErrBadLot},
		{"{lot}{seq:03}", 1, Fields{Lot: "ab"}, ErrBadLot},
		{"{lot}{seq:03}", 1, Fields{Lot: strings.Repeat("A", 33)}, ErrBadLot},
	}
	for _, tc := range tests {
		_, err := MustParse(tc.tmpl).Format(tc.seq, tc.f)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s.Format(%d, %+v) = %v, want %v", tc.tmpl, tc.seq, tc.f, err, tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ tmpl, msg string }{
		{"", "empty"},
		{"SL", "no {seq:N}"},
		{"SL{seq}", "needs a width"},
		{"SL{seq:0}", "out of range"},
		{"SL{seq:20}", "out of range"},
		{"SL{seq:x}", "not a number"},
		{"SL{seq:}", "bad width"},
		{"SL{foo}{seq:3}", "unknown field {foo}"},
		{"SL{seq:3", "not closed"},
		{"SL{seq:3{yy}}", "not closed"},
		{"SL}{seq:3}", "without a matching"},
		{"SL{check:luhn}{seq:3}", "must be the last"},
		{"SL{seq:3}{check:luhn}X", "must be the last"},
		{"SL{seq:3}{check:crc}", "unknown check"},
		{"SL{seq:3}{seq:4}", "appears twice"},
		{"SL {seq:3}", "printable ASCII"},
		{"SL{yy:2}{seq:3}", "takes no width"},
		{"SL{lot:33}{seq:3}", "out of range"},
		{"{}{seq:3}", "empty field"},
		{strings.Repeat("A", 130) + "{seq:3}", "longer than"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.tmpl)
		if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Parse(%q) = %v, want an ErrTemplate mentioning %q", tc.tmpl, err, tc.msg)
		}
	}
}

func TestParseSNRejects(t *testing.T) {
	luhn := MustParse("SL-{yy}{ww}-{seq:06}{check:luhn}")
	good, _ := luhn.Format(42, Fields{Date: day})
	mod := MustParse("{lot:4}{seq:05}{check:mod37-36}")
	goodMod, _ := mod.Format(42, Fields{Lot: "A7K2"})
	tests := []struct {
		tmpl *Template
		sn   string
		want error
	}{
		{luhn, good[:len(good)-1] + string('0'+(good[len(good)-1]-'0'+1)%10), ErrBadCheck},
		{luhn, "SL-2649-000024" + good[len(good)-1:], ErrBadCheck}, // transposed digits
		{luhn, "SX" + good[2:], ErrMismatch},
		{luhn, good + "0", ErrMismatch},
		{luhn, good[:5], ErrMismatch},
		{luhn, "SL-2660-0000420", ErrMismatch}, // week 60
		{mod, strings.ToLower(goodMod), ErrMismatch},
		{mod, goodMod[:len(goodMod)-1] + "*", ErrBadCheck},
		{MustParse("{mm}{seq:2}"), "1301", ErrMismatch},
		{MustParse("{dd}{seq:2}"), "0001", ErrMismatch},
		{MustParse("{doy}{seq:2}"), "36701", ErrMismatch},
		{MustParse("A{seq:3}"), "A1x3", ErrMismatch},
		{MustParse("A{seq:3}"), "A+12", ErrMismatch},
		{MustParse("{lot}{seq:3}"), "123", ErrMismatch},
	}
	for _, tc := range tests {
		if _, err := tc.tmpl.ParseSN(tc.sn); !errors.Is(err, tc.want) {
			t.Errorf("%s.ParseSN(%q) = %v, want %v", tc.tmpl, tc.sn, err, tc.want)
		}
	}
}

func TestParseSNParts(t *testing.T) {
	tmpl := MustParse("{yyyy}-{mm}-{dd}/{doy}/{ww}/{lot}-{seq:4}{check:mod37-36}")
	sn, err := tmpl.Format(77, Fields{Date: day, Lot: "B12"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := tmpl.ParseSN(sn)
	if err != nil {
		t.Fatal(err)
	}
	want := Parts{Seq: 77, Lot: "B12", Year: 2026, Month: 12, Day: 3, Week: 49, DayOfYear: 337, Check: sn[len(sn)-1:]}
	if p != want {
		t.Errorf("ParseSN(%q) = %+v, want %+v", sn, p, want)
	}
	if !tmpl.NeedsLot() || !tmpl.NeedsDate() || tmpl.Check() != CheckMod37_36 || tmpl.SeqWidth() != 4 || tmpl.MaxSeq() != 9999 {
		t.Errorf("accessors wrong for %s", tmpl)
	}
}
