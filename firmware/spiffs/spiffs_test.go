package spiffs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestGoldenSmall checks a one-file image against the documented layout
// and against testdata (made by this package and compared byte for byte
// with spiffsgen.py's output for the same directory).
func TestGoldenSmall(t *testing.T) {
	img, err := Build([]File{{Name: "/a.txt", Data: []byte("hello\n")}}, 0x4000, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "small.bin")
	if *update {
		if err := os.WriteFile(path, img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(img, want) {
		t.Fatal("image differs from testdata/small.bin")
	}
	le := binary.LittleEndian
	// Lookup page: index page of object 1 (0x8001), its data page (1), magic.
	if le.Uint16(img[0:]) != 0x8001 || le.Uint16(img[2:]) != 0x0001 || le.Uint16(img[4:]) != 0xFFFF {
		t.Errorf("lookup starts % x", img[:6])
	}
	if got := le.Uint16(img[126*2:]); got != 0x0529^0x100^4 {
		t.Errorf("block 0 magic 0x%04x", got)
	}
	if got := le.Uint16(img[4096+126*2:]); got != 0x0529^0x100^3 {
		t.Errorf("block 1 magic 0x%04x", got)
	}
	ix := img[256:512]
	wantIx := []byte{0x01, 0x80, 0, 0, 0xF8, 0xFF, 0xFF, 0xFF, 6, 0, 0, 0, 1, '/', 'a', '.', 't', 'x', 't'}
	if !bytes.Equal(ix[:len(wantIx)], wantIx) {
		t.Errorf("index header % x", ix[:len(wantIx)])
	}
	// Name padded with NULs to 32, then 4 bytes of zero metadata, then the
	// data page number (page 2).
	if !bytes.Equal(ix[19:13+32+4], make([]byte, 32-6+4)) || le.Uint16(ix[49:]) != 2 || ix[51] != 0xFF {
		t.Errorf("index tail % x", ix[13:56])
	}
	data := img[512:768]
	if !bytes.Equal(data[:11], []byte{1, 0, 0, 0, 0xFC, 'h', 'e', 'l', 'l', 'o', '\n'}) || data[11] != 0xFF {
		t.Errorf("data page % x", data[:12])
	}
}

func TestRoundTripRandom(t *testing.T) {
	for seed := int64(1); seed <= 40; seed++ {
		r := rand.New(rand.NewSource(seed))
		cfg := DefaultConfig()
		if seed%2 == 0 {
			cfg.PageSize = []int{128, 256, 512}[r.Intn(3)]
			cfg.BlockSize = []int{4096, 8192}[r.Intn(2)]
			cfg.ObjNameLen = FactoryObjNameLen
			cfg.MetaLen = r.Intn(3) * 4
			cfg.UseMagic, cfg.UseMagicLen = r.Intn(2) == 0, r.Intn(2) == 0
			cfg.BigEndian, cfg.AlignedObjIxTables = r.Intn(3) == 0, r.Intn(2) == 0
		}
		var files []File
		for i := range r.Intn(10) {
			sizes := []int{0, 1, 250, 251, 252, 103 * 251, 104 * 251, r.Intn(40000)}
			b := make([]byte, sizes[r.Intn(len(sizes))])
			r.Read(b)
			files = append(files, File{Name: fmt.Sprintf("/d%d/f%d", r.Intn(3), i), Data: b})
		}
		img, err := Build(files, 64*cfg.BlockSize, cfg)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		fs, err := Read(iotest.HalfReader(bytes.NewReader(img)), cfg)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if len(fs.Problems) > 0 || len(fs.Files) != len(files) {
			t.Fatalf("seed %d: %d files, problems %v", seed, len(fs.Files), fs.Problems)
		}
		for _, f := range files {
			got, err := fs.Open(f.Name)
			if err != nil || !bytes.Equal(got, f.Data) {
				t.Errorf("seed %d: %s: %d bytes back, %v", seed, f.Name, len(got), err)
			}
		}
	}
}

func TestFactoryFilesNeedLongNames(t *testing.T) {
	files := FactoryFiles([]byte("cert"), []byte("key"), "Tmpl", "SN-1", "ep.example.com")
	_, err := Build(files, 0x10000, DefaultConfig())
	if !errors.Is(err, ErrNameTooLong) {
		t.Fatalf("default config: %v", err)
	}
	for _, want := range []string{`"/provisioning/claim_certificate.pem" is 35 bytes`, "at most 31", "CONFIG_SPIFFS_OBJ_NAME_LEN of at least 36", "--obj-name-len"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	t.Log(err)
	cfg := DefaultConfig()
	cfg.ObjNameLen = FactoryObjNameLen
	img, err := Build(files, 0x10000, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Parse(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sn, err := fs.Open(SerialNumberFile); err != nil || string(sn) != "SN-1" {
		t.Errorf("SN %q %v", sn, err)
	}
	if _, err := fs.Open("/nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	big := []File{{Name: "/big", Data: make([]byte, 20000)}}
	for _, tc := range []struct {
		name  string
		files []File
		size  int
		edit  func(*Config)
		want  error
		msg   string
	}{
		{"full", big, 0x4000, nil, ErrFull, "the image size has been exceeded (16384 bytes)"},
		{"size", nil, 5000, nil, ErrSize, "image size 5000: image size should be a multiple of block size 4096"},
		{"zero size", nil, 0, nil, ErrSize, "image size 0"},
		{"block not multiple", nil, 0x4000, func(c *Config) { c.BlockSize = 1000 }, ErrConfig, "block size should be a multiple of page size"},
		{"page size", nil, 0x4000, func(c *Config) { c.PageSize = 100 }, ErrConfig, "page size 100"},
		{"name len", nil, 0x4000, func(c *Config) { c.ObjNameLen = 1 }, ErrConfig, "obj-name-len 1"},
		{"no room", nil, 0x4000, func(c *Config) { c.PageSize = 64; c.ObjNameLen = 200 }, ErrConfig, "no room for objects"},
		{"name 32", []File{{Name: "/" + strings.Repeat("n", 31)}}, 0x4000, nil, ErrNameTooLong, "is 32 bytes but object names hold at most 31"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			_, err := Build(tc.files, tc.size, cfg)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.msg)
			}
			t.Log(err)
		})
	}
}

func TestParseProblems(t *testing.T) {
	cfg := DefaultConfig()
	img, err := Build([]File{{Name: "/x", Data: bytes.Repeat([]byte("x"), 600)}}, 0x4000, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(img[:100], cfg); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short image: %v", err)
	} else {
		t.Log(err)
	}
	// Wrong page size: the magic no longer matches.
	other := cfg
	other.PageSize = 512
	fs, err := Parse(img, other)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(fs.Problems); n == 0 || !strings.Contains(fs.Problems[n-1].Error(), "magic wrong in 4 of 4 blocks") {
		t.Errorf("wrong config problems %v", fs.Problems)
	} else {
		t.Log(fs.Problems[n-1])
	}
	// Damage the second data page header: the file is reported, not returned.
	bad := bytes.Clone(img)
	bad[3*256+2] = 9
	fs, err = Parse(bad, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Open("/x"); err == nil || !strings.Contains(err.Error(), "is not data page 1") {
		t.Errorf("damaged page: %v", err)
	} else {
		t.Log(err)
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "provisioning", "deep"), 0o755)
	os.WriteFile(filepath.Join(dir, "z.txt"), []byte("z"), 0o644)
	os.WriteFile(filepath.Join(dir, "provisioning", "b"), []byte("b"), 0o644)
	os.WriteFile(filepath.Join(dir, "provisioning", "a"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(dir, "provisioning", "deep", "c"), []byte("c"), 0o644)
	files, err := ReadDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	// A directory's files come before its subdirectories', as os.walk has it.
	if got := strings.Join(names, " "); got != "/z.txt /provisioning/a /provisioning/b /provisioning/deep/c" {
		t.Errorf("order: %s", got)
	}
	// A linked file is read either way; a linked directory only when
	// following links.
	if err := os.Symlink(filepath.Join(dir, "z.txt"), filepath.Join(dir, "provisioning", "zlink")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	os.Symlink(filepath.Join(dir, "provisioning", "deep"), filepath.Join(dir, "provisioning", "dlink"))
	for _, tc := range []struct {
		follow bool
		want   string
	}{
		{false, "/z.txt /provisioning/a /provisioning/b /provisioning/zlink /provisioning/deep/c"},
		{true, "/z.txt /provisioning/a /provisioning/b /provisioning/zlink /provisioning/deep/c /provisioning/dlink/c"},
	} {
		files, err := ReadDir(dir, tc.follow)
		if err != nil {
			t.Fatal(err)
		}
		names = names[:0]
		for _, f := range files {
			names = append(names, f.Name)
		}
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("follow links %v: %s, want %s", tc.follow, got, tc.want)
		}
	}
	if _, err := ReadDir(filepath.Join(dir, "missing"), false); err == nil {
		t.Error("missing dir read")
	} else {
		t.Log(err)
	}
}

func FuzzParseSPIFFS(f *testing.F) {
	img, err := Build([]File{{Name: "/a", Data: bytes.Repeat([]byte("a"), 700)}, {Name: "/b"}}, 0x2000, DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(img)
	f.Add(erased(4096))
	f.Add(make([]byte, 4096))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := Parse(data, DefaultConfig())
		if err != nil {
			return
		}
		for _, e := range fs.Files {
			_, _ = fs.Open(e.Name)
		}
	})
}
