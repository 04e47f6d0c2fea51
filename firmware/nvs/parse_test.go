package nvs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"testing/iotest"
)

// randomEntries makes n entries of random types across a few namespaces,
// with sizes chosen to land on page and entry boundaries.
func randomEntries(r *rand.Rand, n int) []Entry {
	nss := []string{"alpha", "b", "fctry", "storage_long_15"}
	types := []Type{U8, I8, U16, I16, U32, I32, U64, I64, String, Blob}
	sizes := []int{0, 1, 31, 32, 33, 63, 64, 3967, 3968, 3969, 4000, 8000}
	var es []Entry
	seen := map[string]bool{}
	for len(es) < n {
		ns := nss[r.Intn(len(nss))]
		key := fmt.Sprintf("k%d_%d", r.Intn(1000), len(es))
		if seen[ns+"/"+key] {
			continue
		}
		seen[ns+"/"+key] = true
		t := types[r.Intn(len(types))]
		e := Entry{Namespace: ns, Key: key, Type: t}
		switch {
		case t.IsInt():
			w := uint(t.width()) * 8
			e.Bits = r.Uint64()
			if w < 64 {
				e.Bits &= 1<<w - 1
				if t.signed() && e.Bits&(1<<(w-1)) != 0 {
					e.Bits |= ^uint64(0) << w // sign-extend so checkInt accepts it
				}
			}
		case t == String:
			sz := sizes[r.Intn(len(sizes))]
			if sz > 3999 {
				sz = r.Intn(3999)
			}
			s := make([]byte, sz)
			for i := range s {
				s[i] = byte('a' + r.Intn(26))
			}
			e.Data = s
		default:
			sz := sizes[r.Intn(len(sizes))]
			if r.Intn(4) == 0 {
				sz = r.Intn(20000)
			}
			e.Data = make([]byte, sz)
			r.Read(e.Data)
		}
		es = append(es, e)
	}
	return es
}

func TestRoundTripRandom(t *testing.T) {
	for seed := int64(1); seed <= 60; seed++ {
		r := rand.New(rand.NewSource(seed))
		es := randomEntries(r, 1+r.Intn(60))
		img, err := Build(es, 0x80000, BuildOptions{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		p := mustParse(t, img)
		checkEntries(t, fmt.Sprintf("seed %d", seed), p, es)
	}
}

func checkEntries(t *testing.T, what string, p *Partition, es []Entry) {
	t.Helper()
	if got := len(p.Entries()); got != len(es) {
		t.Errorf("%s: %d live entries, wrote %d", what, got, len(es))
	}
	for _, e := range es {
		got, ok := p.Get(e.Namespace, e.Key)
		if !ok {
			t.Errorf("%s: %s/%s missing", what, e.Namespace, e.Key)
			continue
		}
		if got.Type != e.Type || got.Uint64() != e.Uint64() || !bytes.Equal(got.Data, e.Data) {
			t.Errorf("%s: %s/%s = %s %s, wrote %s %s", what, e.Namespace, e.Key, got.Type, got.valueString(), e.Type, e.valueString())
		}
	}
}

// TestRoundTripTightSizes builds each random set at the smallest size that
// holds it, so page breaks land everywhere.
func TestRoundTripTightSizes(t *testing.T) {
	for seed := int64(100); seed < 130; seed++ {
		r := rand.New(rand.NewSource(seed))
		es := randomEntries(r, 1+r.Intn(40))
		var img []byte
		var err error
		size := MinPartitionSize
		for ; size <= 0x100000; size += PageSize {
			if img, err = Build(es, size, BuildOptions{}); err == nil {
				break
			}
			if !errors.Is(err, ErrPartitionFull) {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}
		if err != nil {
			t.Fatalf("seed %d: never fits: %v", seed, err)
		}
		checkEntries(t, fmt.Sprintf("seed %d size 0x%x", seed, size), mustParse(t, img), es)
	}
}

func TestTypedAccessors(t *testing.T) {
	img, err := Build([]Entry{
		Uint("n", "u8", U8, 200), Int("n", "i8", I8, -5), Uint("n", "u16", U16, 65535), Int("n", "i16", I16, -300),
		Uint("n", "u32", U32, 1<<31), Int("n", "i32", I32, -1<<31), Uint("n", "u64", U64, 1<<63), Int("n", "i64", I64, -1<<63),
		Str("n", "s", "text"), BlobEntry("n", "b", []byte{1, 2, 3}),
	}, 0x3000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Read(iotest.OneByteReader(bytes.NewReader(img)))
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want any, err error) {
		t.Helper()
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", name, got, err, want)
		}
	}
	u8, err := p.U8("n", "u8")
	check("u8", u8, uint8(200), err)
	i8, err := p.I8("n", "i8")
	check("i8", i8, int8(-5), err)
	u16, err := p.U16("n", "u16")
	check("u16", u16, uint16(65535), err)
	i16, err := p.I16("n", "i16")
	check("i16", i16, int16(-300), err)
	u32, err := p.U32("n", "u32")
	check("u32", u32, uint32(1<<31), err)
	i32, err := p.I32("n", "i32")
	check("i32", i32, int32(-1<<31), err)
	u64, err := p.U64("n", "u64")
	check("u64", u64, uint64(1<<63), err)
	i64, err := p.I64("n", "i64")
	check("i64", i64, int64(-1<<63), err)
	s, err := p.String("n", "s")
	check("s", s, "text", err)
	b, err := p.Blob("n", "b")
	check("b", string(b), "\x01\x02\x03", err)

	if _, err := p.U32("n", "u8"); !errors.Is(err, ErrTypeMismatch) {
		t.Errorf("u32 of a u8: %v", err)
	} else {
		t.Log(err)
	}
	if _, err := p.String("n", "none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing key: %v", err)
	} else {
		t.Log(err)
	}
}

func TestParseReportsCRCErrors(t *testing.T) {
	img, err := Build([]Entry{Uint("ns", "a", U8, 1), Str("ns", "s", "hello"), Uint("ns", "b", U8, 2)}, 0x3000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(img)
	bad[firstEntry+EntrySize+24] ^= 1 // u8 a's value: entry CRC now wrong
	bad[firstEntry+3*EntrySize] ^= 1  // the string payload: data CRC wrong
	p, err := Parse(bad)
	if err != nil {
		t.Fatal(err)
	}
	var crcs []*CRCError
	for _, e := range p.Problems {
		var ce *CRCError
		if errors.As(e, &ce) {
			crcs = append(crcs, ce)
		}
		t.Log(e)
	}
	if len(crcs) != 2 || crcs[0].What != "entry" || crcs[1].What != "data" {
		t.Fatalf("CRC problems %v", p.Problems)
	}
	if _, ok := p.Get("ns", "a"); ok {
		t.Error("entry with a bad CRC is live")
	}
	if _, ok := p.Get("ns", "s"); ok {
		t.Error("string with a bad data CRC is live")
	}
	if v, err := p.U8("ns", "b"); err != nil || v != 2 {
		t.Errorf("b = %d, %v", v, err)
	}

	hdr := bytes.Clone(img)
	hdr[4] = 9 // sequence number: header CRC wrong, page ignored
	p, _ = Parse(hdr)
	if p.Pages[0].InUse() || len(p.Entries()) != 0 || !strings.Contains(p.Problems[0].Error(), "header CRC") {
		t.Errorf("bad header: pages %+v problems %v", p.Pages[0], p.Problems)
	}
}

func TestParsePageStates(t *testing.T) {
	img, err := Build([]Entry{BlobEntry("ns", "b", blobPattern(6000))}, 0x4000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, img)
	want := []PageState{PageFull, PageActive, PageEmpty, PageEmpty}
	for i, st := range want {
		if p.Pages[i].State != st {
			t.Errorf("page %d is %s, want %s", i, p.Pages[i].State, st)
		}
	}
	// A FREEING page still counts; a CORRUPT one and an unknown state do not.
	for _, tc := range []struct {
		state PageState
		live  bool
	}{{PageFreeing, true}, {PageCorrupt, false}, {PageInvalid, false}, {0x12345678, false}} {
		b := bytes.Clone(img)
		binary.LittleEndian.PutUint32(b, uint32(tc.state))
		binary.LittleEndian.PutUint32(b[PageSize:], uint32(tc.state))
		p, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.Get("ns", "b"); ok != tc.live {
			t.Errorf("pages %s: blob live = %v, want %v (%v)", tc.state, ok, tc.live, p.Problems)
		}
	}
	// An "empty" page that is not erased is corrupt.
	b := bytes.Clone(img)
	b[3*PageSize+100] = 0
	p, _ = Parse(b)
	if p.Pages[3].State != PageCorrupt {
		t.Errorf("dirty empty page reads %s", p.Pages[3].State)
	}
}

func TestParseErasedAndMissingChunk(t *testing.T) {
	img, err := Build([]Entry{BlobEntry("ns", "b", blobPattern(6000)), Uint("ns", "x", U8, 1)}, 0x4000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, img)
	var chunk1 Item
	for _, it := range p.Items {
		if it.Type == BlobData && it.Chunk == 1 {
			chunk1 = it
		}
	}
	// Erase chunk 1's entries in the bitmap: the blob loses a chunk.
	b := bytes.Clone(img)
	pg := b[chunk1.Page*PageSize:]
	for i := chunk1.Index; i < chunk1.Index+int(chunk1.Span); i++ {
		pg[bitmapOffset+2*i/8] &^= 3 << (2 * i % 8)
	}
	p, err = Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Get("ns", "b"); ok {
		t.Error("blob with an erased chunk is live")
	}
	if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Error(), "chunk 2 of 2 missing") {
		t.Errorf("problems %v", p.Problems)
	}
	erased := 0
	for _, it := range p.Items {
		if it.State == EntryErased {
			erased++
		}
	}
	if erased != 1 || p.Pages[chunk1.Page].Erased != int(chunk1.Span) {
		t.Errorf("erased items %d, page erased entries %d", erased, p.Pages[chunk1.Page].Erased)
	}
}

func TestParseBadSize(t *testing.T) {
	for _, n := range []int{0, 100, PageSize + 1} {
		_, err := Parse(make([]byte, n))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%d bytes: %v", n, err)
		} else {
			t.Log(err)
		}
	}
}

func TestParseV1Blob(t *testing.T) {
	img, err := Build([]Entry{BlobEntry("ns", "b", []byte("legacy")), Str("ns", "s", "v1")}, 0x3000, BuildOptions{Version: Version1})
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, img)
	if b, err := p.Blob("ns", "b"); err != nil || string(b) != "legacy" {
		t.Errorf("v1 blob %q, %v", b, err)
	}
	if p.Pages[0].Version != Version1 {
		t.Errorf("version 0x%02x", p.Pages[0].Version)
	}
}
