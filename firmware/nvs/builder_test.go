package nvs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func blobPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// goldenCases are small images checked by hand against the documented
// layout and against nvs_partition_gen.py's output for the same CSV.
var goldenCases = []struct {
	name    string
	entries []Entry
}{
	{"u8", []Entry{Uint("storage", "boot_count", U8, 7)}},
	{"string", []Entry{Str("storage", "name", "hello")}},
	{"blob_two_pages", []Entry{BlobEntry("storage", "big", blobPattern(5000))}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Build(tc.entries, 0x3000, BuildOptions{})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.name+".bin")
			if *update {
				if err := os.WriteFile(path, img, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(img, want) {
				t.Errorf("image differs from %s at byte %d", path, firstDiff(img, want))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	for _, f := range strings.Fields(s) {
		for i := 0; i+1 < len(f); i += 2 {
			var b byte
			for _, c := range f[i : i+2] {
				b <<= 4
				switch {
				case c >= '0' && c <= '9':
					b |= byte(c - '0')
				case c >= 'a' && c <= 'f':
					b |= byte(c-'a') + 10
				}
			}
			out = append(out, b)
		}
	}
	return out
}

// TestLayoutByHand spells out the first image from the NVS documentation:
// page header, bitmap, namespace entry and u8 entry.
func TestLayoutByHand(t *testing.T) {
	img, err := Build(goldenCases[0].entries, 0x3000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := hexBytes(t, `
		feffffff 00000000 feffffff ffffffff ffffffff ffffffff ffffffff 842dbab9
		faffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff
		000101ff 09a95007 73746f72 61676500 00000000 00000000 01ffffff ffffffff
		010101ff 202001a2 626f6f74 5f636f75 6e740000 00000000 07ffffff ffffffff`)
	if !bytes.Equal(img[:len(want)], want) {
		t.Fatalf("page 0 starts\n%x\nwant\n%x", img[:len(want)], want)
	}
	if len(img) != 0x3000 {
		t.Fatalf("image is %d bytes, want 0x3000", len(img))
	}
	if !allErased(img[len(want):]) {
		t.Error("bytes after the two entries are not all 0xFF")
	}
	// The header CRC covers bytes 4..28; the entry CRC bytes 0..4 and 8..32.
	if got := binary.LittleEndian.Uint32(img[28:]); got != headerCRC(img[:32]) {
		t.Errorf("header CRC 0x%08x", got)
	}
}

func TestStringSpan(t *testing.T) {
	for _, tc := range []struct {
		n    int // string length without NUL
		span int
	}{{0, 2}, {31, 2}, {32, 3}, {63, 3}, {64, 4}} {
		img, err := Build([]Entry{Str("ns", "s", strings.Repeat("x", tc.n))}, 0x3000, BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := int(img[firstEntry+EntrySize+2]); got != tc.span {
			t.Errorf("string of %d: span %d, want %d", tc.n, got, tc.span)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	many := make([]Entry, 0, 300)
	for i := range 300 {
		many = append(many, Uint(string(rune('a'+i%26))+strings.Repeat("k", i/26), "v", U8, 1))
	}
	for _, tc := range []struct {
		name    string
		entries []Entry
		size    int
		opt     BuildOptions
		want    error
		msg     string
	}{
		{"key too long", []Entry{Uint("ns", "sixteen_chars_xx", U8, 1)}, 0x3000, BuildOptions{}, ErrKeyTooLong, `nvs: key "sixteen_chars_xx": key longer than 15 characters: "sixteen_chars_xx" has 16`},
		{"namespace too long", []Entry{Uint("namespace_too_long", "k", U8, 1)}, 0x3000, BuildOptions{}, ErrKeyTooLong, `nvs: namespace "namespace_too_long": key longer than 15 characters`},
		{"string too large", []Entry{Str("ns", "s", strings.Repeat("x", 4000))}, 0x3000, BuildOptions{}, ErrValueTooLarge, "string of 4001 bytes (NUL included) exceeds 4000"},
		{"v1 string too large", []Entry{Str("ns", "s", strings.Repeat("x", 1984))}, 0x3000, BuildOptions{Version: Version1}, ErrValueTooLarge, "string of 1985 bytes (NUL included) exceeds 1984"},
		{"v1 blob too large", []Entry{BlobEntry("ns", "b", make([]byte, 1985))}, 0x3000, BuildOptions{Version: Version1}, ErrValueTooLarge, "blob of 1985 bytes exceeds 1984 in format version 1"},
		{"blob too large", []Entry{BlobEntry("ns", "b", make([]byte, MaxBlobLen+1))}, 0x100000, BuildOptions{}, ErrValueTooLarge, "blob of 508001 bytes exceeds nvs_flash's 508000"},
		{"size not multiple", nil, 0x3001, BuildOptions{}, ErrPartitionSize, "partition size 0x3001: bad partition size: must be a multiple of 4096"},
		{"size too small", nil, 0x2000, BuildOptions{}, ErrPartitionSize, "minimum is 0x3000 for a read/write NVS"},
		{"partition full", []Entry{BlobEntry("ns", "b", make([]byte, 9000))}, 0x3000, BuildOptions{}, ErrPartitionFull, "increase the partition size"},
		{"out of range", []Entry{Uint("ns", "k", U8, 256)}, 0x3000, BuildOptions{}, ErrValueRange, "256 does not fit u8"},
		{"signed out of range", []Entry{Int("ns", "k", I8, -129)}, 0x3000, BuildOptions{}, ErrValueRange, "-129 does not fit i8"},
		{"too many namespaces", many, 0x100000, BuildOptions{}, ErrTooManyNamespaces, "more than 254 namespaces"},
		{"bad type", []Entry{{Namespace: "ns", Key: "k", Type: 0x99}}, 0x3000, BuildOptions{}, ErrType, "unsupported entry type: type(0x99)"},
		{"bad version", nil, 0x3000, BuildOptions{Version: 3}, ErrType, "format version 0x03"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.entries, tc.size, tc.opt)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q lacks %q", err, tc.msg)
			}
			t.Log(err)
		})
	}
}

func TestNoNamespace(t *testing.T) {
	b, err := NewBuilder(0x3000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Add(Uint("", "k", U8, 1))
	if !errors.Is(err, ErrNoNamespace) {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

func TestReadOnlySizes(t *testing.T) {
	img, err := Build([]Entry{Uint("ns", "k", U8, 1)}, 0x2000, BuildOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	// Like the generator, a read-only image holds only the pages in use.
	if len(img) != PageSize {
		t.Errorf("read-only image is %d bytes, want %d", len(img), PageSize)
	}
	if _, err := Build(nil, 0, BuildOptions{ReadOnly: true}); !errors.Is(err, ErrPartitionSize) {
		t.Errorf("size 0: err = %v", err)
	}
}

// TestLongStringOnFreshPage: the generator fails on strings of 3969..4000
// bytes; nvs_flash stores them, so Builder puts them alone on a page.
func TestLongStringOnFreshPage(t *testing.T) {
	s := strings.Repeat("y", 3999)
	img, err := Build([]Entry{Str("ns", "s", s)}, 0x4000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, img)
	if got, err := p.String("ns", "s"); err != nil || got != s {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if p.Pages[1].Written != EntriesPerPage {
		t.Errorf("page 1 has %d written entries, want a full page", p.Pages[1].Written)
	}
}

// TestNamespaceRevisit: entries after a namespace is named again belong to
// it (the generator would file them under the latest namespace).
func TestNamespaceRevisit(t *testing.T) {
	img, err := Build([]Entry{
		Uint("first", "a", U8, 1),
		Uint("second", "b", U8, 2),
		Uint("first", "c", U8, 3),
	}, 0x3000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, img)
	if v, err := p.U8("first", "c"); err != nil || v != 3 {
		t.Errorf("first/c = %d, %v", v, err)
	}
	if _, ok := p.Get("second", "c"); ok {
		t.Error("c filed under second")
	}
	if got := p.Namespaces(); len(got) != 2 {
		t.Errorf("namespaces %v", got)
	}
}

func mustParse(t *testing.T, img []byte) *Partition {
	t.Helper()
	p, err := Parse(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Problems {
		t.Errorf("problem: %v", e)
	}
	return p
}
