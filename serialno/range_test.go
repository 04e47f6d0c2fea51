package serialno

import (
	"errors"
	"testing"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		want Range
		err  bool
	}{
		{"1000-1999", Range{1000, 1999}, false},
		{" 5 - 7 ", Range{5, 7}, false},
		{"42", Range{42, 42}, false},
		{"0-18446744073709551615", Range{0, 1<<64 - 1}, false},
		{"2000-1999", Range{}, true},
		{"-5", Range{}, true},
		{"5-", Range{}, true},
		{"a-b", Range{}, true},
		{"+1-2", Range{}, true},
		{"", Range{}, true},
		{"1-2-3", Range{}, true},
	}
	for _, tc := range tests {
		got, err := ParseRange(tc.in)
		if tc.err {
			if !errors.Is(err, ErrRange) {
				t.Errorf("ParseRange(%q) = %v, %v; want ErrRange", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRange(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, _ := ParseRange(got.String()); back != got {
			t.Errorf("String round trip %v -> %v", got, back)
		}
	}
}

func TestRangeLenContainsOverlaps(t *testing.T) {
	r := Range{1000, 1999}
	if r.Len() != 1000 || !r.Contains(1000) || !r.Contains(1999) || r.Contains(2000) || r.Contains(999) {
		t.Errorf("Len/Contains wrong for %v", r)
	}
	if (Range{0, 1<<64 - 1}).Len() != 1<<64-1 {
		t.Error("full range Len must saturate")
	}
	if !r.Overlaps(Range{1999, 3000}) || r.Overlaps(Range{2000, 3000}) || !r.Overlaps(Range{1200, 1300}) {
		t.Error("Overlaps wrong")
	}
	if i, j, ok := Overlapping([]Range{{0, 9}, {10, 19}, {30, 39}, {15, 25}}); !ok || i != 1 || j != 3 {
		t.Errorf("Overlapping = %d, %d, %v; want 1, 3, true", i, j, ok)
	}
	if _, _, ok := Overlapping([]Range{{0, 9}, {10, 19}}); ok {
		t.Error("disjoint ranges reported as overlapping")
	}
}

func TestSplit(t *testing.T) {
	r := Range{1000, 1999}
	for _, n := range []int{1, 3, 7, 1000} {
		parts, err := r.Split(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != n || parts[0].First != r.First || parts[n-1].Last != r.Last {
			t.Fatalf("Split(%d) = %v", n, parts)
		}
		var total uint64
		for i, p := range parts {
			total += p.Len()
			if i > 0 && p.First != parts[i-1].Last+1 {
				t.Fatalf("Split(%d): gap or overlap at %d: %v", n, i, parts)
			}
			if d := p.Len() - parts[n-1].Len(); d > 1 {
				t.Fatalf("Split(%d): uneven %v", n, parts)
			}
		}
		if total != r.Len() {
			t.Fatalf("Split(%d) covers %d, want %d", n, total, r.Len())
		}
		if _, _, ok := Overlapping(parts); ok {
			t.Fatalf("Split(%d) overlaps", n)
		}
	}
	for _, n := range []int{0, -1, 1001} {
		if _, err := r.Split(n); !errors.Is(err, ErrRange) {
			t.Errorf("Split(%d) err = %v", n, err)
		}
	}
}

func TestBlock(t *testing.T) {
	r := Range{100, 349}
	tests := []struct {
		i, size uint64
		want    Range
		err     bool
	}{
		{0, 100, Range{100, 199}, false},
		{2, 100, Range{300, 349}, false},
		{3, 100, Range{}, true},
		{0, 0, Range{}, true},
		{0, 1000, Range{100, 349}, false},
	}
	for _, tc := range tests {
		got, err := r.Block(tc.i, tc.size)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Block(%d, %d) = %v, %v; want %v, err=%v", tc.i, tc.size, got, err, tc.want, tc.err)
		}
	}
	full := Range{0, 1<<64 - 1}
	if b, err := full.Block(0, 1<<63); err != nil || b.Last != 1<<63-1 {
		t.Errorf("Block on full range = %v, %v", b, err)
	}
}

func TestCheckRange(t *testing.T) {
	tmpl := MustParse("SL{seq:03}")
	if err := tmpl.CheckRange(Range{1, 999}); err != nil {
		t.Error(err)
	}
	if err := tmpl.CheckRange(Range{1, 1000}); !errors.Is(err, ErrSeqOverflow) {
		t.Errorf("CheckRange past width = %v", err)
	}
}
