package nvs

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// norFlash is a fake NOR chip that fails the test when asked to program a
// 0 bit to 1 without an erase, which real flash silently gets wrong.
type norFlash struct {
	t        *testing.T
	mem      []byte
	erases   int
	programs int
}

func newNOR(t *testing.T, size int) *norFlash {
	return &norFlash{t: t, mem: erased(size)}
}

func (f *norFlash) Size() uint32 { return uint32(len(f.mem)) }

func (f *norFlash) ReadAt(p []byte, off int64) (int, error) {
	return copy(p, f.mem[off:]), nil
}

func (f *norFlash) Erase(off, size uint32) error {
	if off%PageSize != 0 || size%PageSize != 0 {
		f.t.Fatalf("erase 0x%x+0x%x not sector aligned", off, size)
	}
	copy(f.mem[off:off+size], erased(int(size)))
	f.erases++
	return nil
}

func (f *norFlash) Program(off uint32, data []byte) error {
	for i, b := range data {
		if cur := f.mem[int(off)+i]; b&^cur != 0 {
			f.t.Fatalf("program at 0x%x: 0x%02x over 0x%02x would set bits without an erase", int(off)+i, b, cur)
		}
		f.mem[int(off)+i] &= b
	}
	f.programs++
	return nil
}

const testBase = 0x9000

func openFactory(t *testing.T, size int) (*norFlash, *Store) {
	t.Helper()
	img, err := BuildFactoryNVS(FactoryData{ClaimCertPEM: bytes.Repeat(testCertPEM, 30), ClaimKeyPEM: testKeyPEM(t), SN: "SN1", Template: "T"}, size)
	if err != nil {
		t.Fatal(err)
	}
	f := newNOR(t, 0x40000)
	copy(f.mem[testBase:], img)
	s, err := Open(f, testBase, uint32(size))
	if err != nil {
		t.Fatal(err)
	}
	return f, s
}

// TestProvisioningFlow is what the factory firmware does on first boot:
// store the device credentials, then erase the claim credentials.
func TestProvisioningFlow(t *testing.T) {
	f, s := openFactory(t, 0x6000)
	devKey := testKeyPEM(t)
	devCert := bytes.Repeat([]byte("device certificate line\n"), 60)
	for _, err := range []error{
		s.SetBlob(DefaultNamespace, KeyDeviceCert, devCert),
		s.SetBlob(DefaultNamespace, KeyDeviceKey, devKey),
		s.SetString(DefaultNamespace, KeyThingName, "thing-SN1"),
		s.Erase(DefaultNamespace, KeyClaimCert),
		s.Erase(DefaultNamespace, KeyClaimKey),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Read back from the flash itself, as the next boot would.
	p := mustParse(t, f.mem[testBase:testBase+0x6000])
	fd, err := ReadFactory(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if fd.SN != "SN1" || fd.ClaimCertPEM != nil || fd.ClaimKeyPEM != nil {
		t.Errorf("factory data after provisioning: SN %q, cert %d bytes, key %d bytes", fd.SN, len(fd.ClaimCertPEM), len(fd.ClaimKeyPEM))
	}
	dc, err := ReadDevice(p, "")
	if err != nil || !bytes.Equal(dc.CertPEM, devCert) || !bytes.Equal(dc.KeyPEM, devKey) || dc.ThingName != "thing-SN1" {
		t.Errorf("device credentials: %v", err)
	}
	if f.erases != 0 {
		t.Errorf("%d sector erases for a few writes in a roomy partition", f.erases)
	}
	if err := s.Erase(DefaultNamespace, KeyClaimKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("second erase: %v", err)
	} else {
		t.Log(err)
	}
	if err := s.Erase("nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("erase in a missing namespace: %v", err)
	}
}

func TestSetMarksOldErasedAndPagesFull(t *testing.T) {
	f := newNOR(t, 0x10000)
	s, err := Open(f, 0, 0x4000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint("app", "count", U32, 1); err != nil {
		t.Fatal(err)
	}
	p := s.Partition()
	if p.Pages[0].State != PageActive || p.Pages[0].Seq != 0 || p.Pages[0].Written != 2 {
		t.Fatalf("first page %+v", p.Pages[0])
	}
	programs := f.programs
	if err := s.SetUint("app", "count", U32, 1); err != nil || f.programs != programs {
		t.Errorf("same value rewrote flash (%d programs), %v", f.programs-programs, err)
	}
	for i := uint64(2); i <= 200; i++ {
		if err := s.SetUint("app", "count", U32, i); err != nil {
			t.Fatalf("set %d: %v", i, err)
		}
	}
	p = mustParse(t, f.mem[:0x4000])
	if v, err := p.U32("app", "count"); err != nil || v != 200 {
		t.Fatalf("count = %d, %v", v, err)
	}
	// 201 entries (namespace + 200 values) overflow page 0 into page 1.
	if p.Pages[0].State != PageFull || p.Pages[1].State != PageActive || p.Pages[1].Seq != 1 {
		t.Errorf("pages %s seq %d, %s seq %d", p.Pages[0].State, p.Pages[0].Seq, p.Pages[1].State, p.Pages[1].Seq)
	}
	if p.Pages[0].Erased != EntriesPerPage-1 {
		t.Errorf("page 0 has %d erased entries", p.Pages[0].Erased)
	}
}

// TestReclaim fills a three-page partition with rewrites until nvs_flash
// has to free a page; one page must always stay free.
func TestReclaim(t *testing.T) {
	f := newNOR(t, 0x3000)
	s, err := Open(f, 0, 0x3000)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if err := s.SetString("app", fmt.Sprintf("k%d", i%5), strings.Repeat("v", i%90)); err != nil {
			t.Fatalf("set %d: %v", i, err)
		}
	}
	if f.erases == 0 {
		t.Error("no page was reclaimed")
	}
	p := mustParse(t, f.mem)
	empty := 0
	for _, pg := range p.Pages {
		if pg.State == PageEmpty {
			empty++
		}
	}
	if empty < 1 {
		t.Errorf("no spare page left: %+v", p.Pages)
	}
	for k := 0; k < 5; k++ {
		i := 995 + k
		if v, err := p.String("app", fmt.Sprintf("k%d", i%5)); err != nil || len(v) != i%90 {
			t.Errorf("k%d: %d bytes, %v", k, len(v), err)
		}
	}
}

func TestNotEnoughSpace(t *testing.T) {
	f := newNOR(t, 0x3000)
	s, err := Open(f, 0, 0x3000)
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for i := 0; i < 300 && last == nil; i++ {
		last = s.SetString("app", fmt.Sprintf("key%d", i), strings.Repeat("x", 100))
	}
	if !errors.Is(last, ErrNotEnoughSpace) {
		t.Fatalf("filling up: %v", last)
	}
	t.Log(last)
	if err := s.SetBlob("app", "big", make([]byte, 9000)); !errors.Is(err, ErrValueTooLarge) {
		t.Errorf("blob larger than the partition: %v", err)
	} else {
		t.Log(err)
	}
	mustParse(t, f.mem)
}

func TestOpenErrors(t *testing.T) {
	f := newNOR(t, 0x4000)
	if _, err := Open(f, 0, 0x2000); !errors.Is(err, ErrPartitionSize) {
		t.Errorf("small: %v", err)
	} else {
		t.Log(err)
	}
	// Every page in use: nvs_flash refuses to mount without a free page.
	img, err := Build([]Entry{BlobEntry("a", "b", make([]byte, 11000))}, 0x4000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	copy(f.mem, img)
	if err := f.Erase(3*PageSize, PageSize); err != nil {
		t.Fatal(err)
	}
	full := bytes.Clone(f.mem)
	copy(full[3*PageSize:], full[2*PageSize:3*PageSize]) // a fourth page in use (same seq, fine for the test)
	copy(f.mem, full)
	if _, err := Open(f, 0, 0x4000); !errors.Is(err, ErrNoFreePages) {
		t.Errorf("no free page: %v", err)
	} else {
		t.Log(err)
	}
}

func TestSetErrors(t *testing.T) {
	_, s := openFactory(t, 0x6000)
	for _, tc := range []struct {
		e    Entry
		want error
	}{
		{Uint("ns", "a_key_that_is_too_long", U8, 1), ErrKeyTooLong},
		{Uint("a_namespace_too_long", "k", U8, 1), ErrKeyTooLong},
		{Str("ns", "s", strings.Repeat("x", 4000)), ErrValueTooLarge},
		{Uint("ns", "k", U8, 300), ErrValueRange},
		{Entry{Namespace: "ns", Key: "k", Type: 0x77}, ErrType},
	} {
		err := s.Set(tc.e)
		if !errors.Is(err, tc.want) {
			t.Errorf("set %s/%s: %v, want %v", tc.e.Namespace, tc.e.Key, err, tc.want)
		} else {
			t.Log(err)
		}
	}
}

// TestStoreRandom runs random sets and erases against a model, reopening
// the store from flash now and then, on partitions small enough that pages
// fill and get reclaimed.
func TestStoreRandom(t *testing.T) {
	for seed := int64(1); seed <= 12; seed++ {
		r := rand.New(rand.NewSource(seed))
		size := (3 + r.Intn(4)) * PageSize
		f := newNOR(t, size)
		s, err := Open(f, 0, uint32(size))
		if err != nil {
			t.Fatal(err)
		}
		model := map[string]Entry{}
		for op := 0; op < 400; op++ {
			ns := []string{"a", "b", "c"}[r.Intn(3)]
			key := fmt.Sprintf("k%d", r.Intn(12))
			var err error
			switch x := r.Intn(10); {
			case x < 2:
				err = s.Erase(ns, key)
				if _, ok := model[ns+"/"+key]; ok {
					if err != nil {
						t.Fatalf("seed %d op %d: erase: %v", seed, op, err)
					}
					delete(model, ns+"/"+key)
				} else if !errors.Is(err, ErrNotFound) {
					t.Fatalf("seed %d op %d: erase missing: %v", seed, op, err)
				}
				continue
			case x < 5:
				e := Uint(ns, key, U32, uint64(r.Uint32()))
				if err = s.Set(e); err == nil {
					model[ns+"/"+key] = e
				}
			case x < 8:
				e := Str(ns, key, strings.Repeat(string(rune('a'+r.Intn(26))), r.Intn(300)))
				if err = s.Set(e); err == nil {
					model[ns+"/"+key] = e
				}
			default:
				b := make([]byte, r.Intn(5000))
				r.Read(b)
				e := BlobEntry(ns, key, b)
				if err = s.Set(e); err == nil {
					model[ns+"/"+key] = e
				}
			}
			if err != nil && !errors.Is(err, ErrNotEnoughSpace) && !errors.Is(err, ErrValueTooLarge) {
				t.Fatalf("seed %d op %d: %v", seed, op, err)
			}
			if err != nil {
				// A failed write leaves the key as it was or gone; resync the model.
				if e, ok := s.Partition().Get(ns, key); ok {
					model[ns+"/"+key] = e
				} else {
					delete(model, ns+"/"+key)
				}
			}
			if r.Intn(25) == 0 {
				if s, err = Open(f, 0, uint32(size)); err != nil {
					t.Fatalf("seed %d op %d: reopen: %v", seed, op, err)
				}
			}
		}
		p := mustParse(t, f.mem)
		var want []Entry
		for _, e := range model {
			want = append(want, e)
		}
		checkEntries(t, fmt.Sprintf("seed %d size 0x%x", seed, size), p, want)
	}
}

// TestOpenFinishesInterruptedReclaim: power was lost while nvs_flash was
// freeing page 0 (marked freeing, the copy on page 2 half written); opening
// drops the half copy, copies page 0's live entries to a fresh page and
// erases page 0.
func TestOpenFinishesInterruptedReclaim(t *testing.T) {
	img, err := Build([]Entry{BlobEntry("a", "b", blobPattern(5000)), Uint("a", "n", U16, 7)}, 0x5000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := newNOR(t, 0x5000)
	copy(f.mem, img)
	for _, w := range []struct {
		off  uint32
		data []byte
	}{
		{0, []byte{0xF8, 0xFF, 0xFF, 0xFF}},        // page 0 freeing
		{PageSize, []byte{0xFC, 0xFF, 0xFF, 0xFF}}, // page 1 full
	} {
		if err := f.Program(w.off, w.data); err != nil {
			t.Fatal(err)
		}
	}
	h := makeHeader(PageActive, 2, Version2) // page 2: the copy, one entry in
	copy(f.mem[2*PageSize:], h[:])
	copy(f.mem[2*PageSize+firstEntry:], img[firstEntry:firstEntry+EntrySize])
	f.mem[2*PageSize+bitmapOffset] = 0xFE
	s, err := Open(f, 0, 0x5000)
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, f.mem)
	if p.Pages[0].State != PageEmpty || f.erases != 2 {
		t.Errorf("page 0 is %s after %d erases (want the half copy and page 0 erased)", p.Pages[0].State, f.erases)
	}
	if b, err := p.Blob("a", "b"); err != nil || !bytes.Equal(b, blobPattern(5000)) {
		t.Errorf("blob after recovery: %d bytes, %v", len(b), err)
	}
	if v, err := p.U16("a", "n"); err != nil || v != 7 {
		t.Errorf("n = %d, %v", v, err)
	}
	if err := s.SetUint("a", "n", U16, 8); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Partition().U16("a", "n"); err != nil || v != 8 {
		t.Errorf("n after set = %d, %v", v, err)
	}
}

// TestSetSkipsHalfWrittenSlot: power was lost after an entry's bytes were
// programmed but before its state bits; the next write must not program
// over those bytes.
func TestSetSkipsHalfWrittenSlot(t *testing.T) {
	f := newNOR(t, 0x3000)
	s, err := Open(f, 0, 0x3000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint("a", "x", U8, 1); err != nil {
		t.Fatal(err)
	}
	// Entry 2 is empty in the bitmap but holds stray bytes.
	copy(f.mem[firstEntry+2*EntrySize:], []byte{1, 2, 3, 4})
	s, err = Open(f, 0, 0x3000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetString("a", "s", "after"); err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, f.mem)
	if v, err := p.String("a", "s"); err != nil || v != "after" {
		t.Errorf("s = %q, %v", v, err)
	}
	if st := entryState(f.mem, 2); st != EntryErased {
		t.Errorf("stray entry is %s, want erased", st)
	}
}
