package serialno

import (
	"errors"
	"testing"
	"time"
)

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"SL{seq:09}", "SL-{yy}{ww}-{seq:06}{check:luhn}", "{lot}{seq:3}{check:mod37-36}",
		"{", "}", "{seq:0}", "{yyyy}{mm}{dd}{doy}{seq:19}", "a{lot:32}b{seq:1}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrTemplate) {
				t.Fatalf("Parse(%q) error %v is not ErrTemplate", s, err)
			}
			return
		}
		if tmpl.String() != s {
			t.Fatalf("String() = %q, want %q", tmpl.String(), s)
		}
		sn, err := tmpl.Format(tmpl.MaxSeq(), Fields{Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Lot: "LOT1"})
		if err != nil {
			return // a {lot:N} with N != 4
		}
		if _, err := tmpl.ParseSN(sn); err != nil {
			t.Fatalf("%s: ParseSN(Format(...)) = %v", s, err)
		}
	})
}

func FuzzParseSN(f *testing.F) {
	templates := []*Template{
		MustParse("SL-{yy}{ww}-{seq:06}{check:luhn}"),
		MustParse("{lot}-{seq:05}{check:mod37-36}"),
		MustParse("{yyyy}{mm}{dd}{doy}{seq:04}"),
	}
	f.Add(uint8(0), uint64(42), int64(0), "A", "SL-2649-0000428")
	f.Add(uint8(1), uint64(99999), int64(1e9), "ZZ9", "ZZ9-99999K")
	f.Add(uint8(2), uint64(0), int64(-1e9), "", "2026120333700001")
	f.Fuzz(func(t *testing.T, which uint8, seq uint64, unix int64, lot, sn string) {
		tmpl := templates[int(which)%len(templates)]
		// Any input: ParseSN must not panic, and what it accepts re-formats.
		if p, err := tmpl.ParseSN(sn); err == nil {
			if p.Seq > tmpl.MaxSeq() {
				t.Fatalf("ParseSN(%q) seq %d past max", sn, p.Seq)
			}
		}
		// Round trip: whatever Format renders, ParseSN gives back.
		date := time.Unix(unix%(1<<34), 0).UTC() // years before 2000 are refused
		out, err := tmpl.Format(seq, Fields{Date: date, Lot: lot})
		if err != nil {
			return
		}
		p, err := tmpl.ParseSN(out)
		if err != nil {
			t.Fatalf("%s: ParseSN(%q) = %v", tmpl, out, err)
		}
		if p.Seq != seq || (tmpl.NeedsLot() && p.Lot != lot) {
			t.Fatalf("%s: round trip %d/%q -> %+v", tmpl, seq, lot, p)
		}
	})
}
