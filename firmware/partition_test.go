package firmware

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// handEntry lays out one 32-byte entry from the format description.
func handEntry(typ, sub byte, off, size uint32, label string, flags uint32) []byte {
	e := []byte{0xAA, 0x50, typ, sub,
		byte(off), byte(off >> 8), byte(off >> 16), byte(off >> 24),
		byte(size), byte(size >> 8), byte(size >> 16), byte(size >> 24)}
	var l [16]byte
	copy(l[:], label)
	e = append(e, l[:]...)
	return append(e, byte(flags), byte(flags>>8), byte(flags>>16), byte(flags>>24))
}

func handTable() []byte {
	var b []byte
	b = append(b, handEntry(0x01, 0x02, 0x9000, 0x6000, "nvs", 0)...)
	b = append(b, handEntry(0x00, 0x00, 0x10000, 0x100000, "factory", 0)...)
	b = append(b, handEntry(0x01, 0x81, 0x110000, 0x10000, "vfs", 3)...)
	sum := md5.Sum(b)
	b = append(b, 0xEB, 0xEB)
	b = append(b, bytes.Repeat([]byte{0xFF}, 14)...)
	b = append(b, sum[:]...)
	return append(b, bytes.Repeat([]byte{0xFF}, 0xC00-len(b))...)
}

func TestParseHandTable(t *testing.T) {
	tab, err := ParsePartitionTable(handTable())
	if err != nil {
		t.Fatal(err)
	}
	want := []Partition{
		{Label: "nvs", Type: TypeData, SubType: SubtypeNVS, Offset: 0x9000, Size: 0x6000},
		{Label: "factory", Type: TypeApp, SubType: SubtypeFactory, Offset: 0x10000, Size: 0x100000},
		{Label: "vfs", Type: TypeData, SubType: SubtypeFAT, Offset: 0x110000, Size: 0x10000, Flags: FlagEncrypted | FlagReadonly},
	}
	if len(tab.Partitions) != 3 || tab.NoMD5 {
		t.Fatalf("table %+v", tab)
	}
	for i, p := range want {
		if tab.Partitions[i] != p {
			t.Errorf("entry %d = %+v, want %+v", i, tab.Partitions[i], p)
		}
	}
	bin, err := tab.MarshalBinary()
	if err != nil || !bytes.Equal(bin, handTable()) {
		t.Errorf("MarshalBinary differs from the hand layout (%v)", err)
	}
	if p, ok := tab.Find("vfs"); !ok || !p.Encrypted() || !p.Readonly() {
		t.Errorf("Find(vfs) = %+v %v", p, ok)
	}
	if _, ok := tab.Find("nope"); ok {
		t.Error("Find(nope) found something")
	}
	if p, ok := tab.FindType(TypeData, SubtypeNVS); !ok || p.Label != "nvs" {
		t.Errorf("FindType = %+v", p)
	}
	if p, ok := tab.FirstApp(); !ok || p.Label != "factory" {
		t.Errorf("FirstApp = %+v", p)
	}
	if tab.End() != 0x120000 {
		t.Errorf("End = 0x%x", tab.End())
	}
}

func TestFirstAppPrefersFactoryThenOTA(t *testing.T) {
	tab := PartitionTable{Partitions: []Partition{
		{Label: "test", Type: TypeApp, SubType: SubtypeTest, Offset: 0x10000, Size: 0x10000},
		{Label: "b", Type: TypeApp, SubType: SubtypeOTA0 + 1, Offset: 0x20000, Size: 0x10000},
		{Label: "a", Type: TypeApp, SubType: SubtypeOTA0, Offset: 0x30000, Size: 0x10000},
	}}
	if p, _ := tab.FirstApp(); p.Label != "a" {
		t.Errorf("FirstApp = %s, want ota_0", p.Label)
	}
	if _, ok := (PartitionTable{}).FirstApp(); ok {
		t.Error("empty table has an app")
	}
}

func TestParsePartitionTableErrors(t *testing.T) {
	good := handTable()
	badMD5 := append([]byte(nil), good...)
	badMD5[0x70] ^= 1
	badMagic := append([]byte(nil), good...)
	badMagic[0x20] = 0xAB
	overlap := append(handEntry(1, 2, 0x9000, 0x8000, "nvs", 0), handEntry(1, 1, 0xF000, 0x1000, "phy", 0)...)
	overlap = append(overlap, bytes.Repeat([]byte{0xFF}, 32)...)
	cases := []struct {
		name string
		data []byte
		is   error
		want string
	}{
		{"no end marker", good[:0x60], ErrNoEndMarker, "the data ends at byte 96 after 3 entries without a row of 32 0xFF bytes; ESP-IDF's gen_esp32part refuses such a table"},
		{"short row", good[:0x50], ErrPartitionTable, "length 80 is not a multiple of 32 bytes (short row at offset 0x40)"},
		{"md5", badMD5, ErrPartitionMD5, "row at offset 0x60 holds"},
		{"magic", badMagic, ErrPartitionTable, "entry 1 at offset 0x20 has magic AB 50, want AA 50"},
		{"overlap", overlap, ErrPartitionTable, `partition "phy": at 0xf000 overlaps partition "nvs" (0x9000-0x10fff)`},
		{"empty", nil, ErrNoEndMarker, "after 0 entries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePartitionTable(c.data)
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant %v containing %q", err, c.is, c.want)
			}
		})
	}
}

// TestLenientOldTable reads a 2016-era 96-byte table: three entries, no MD5
// row, no end marker (the layout of ESP-IDF's old singleapp table).
func TestLenientOldTable(t *testing.T) {
	var old []byte
	old = append(old, handEntry(0, 0, 0x10000, 0x100000, "factory", 0)...)
	old = append(old, handEntry(1, 1, 0x110000, 0x40000, "rfdata", 0)...)
	old = append(old, handEntry(1, 2, 0x150000, 0x40000, "wifidata", 0)...)
	if _, err := ParsePartitionTable(old); !errors.Is(err, ErrNoEndMarker) {
		t.Fatalf("strict parse: %v", err)
	}
	tab, err := ParsePartitionTableWith(old, ParseOptions{AllowMissingEnd: true})
	if err != nil {
		t.Fatal(err)
	}
	if !tab.NoMD5 || len(tab.Partitions) != 3 {
		t.Fatalf("table %+v", tab)
	}
	want := "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n" +
		"factory,app,factory,0x10000,1M,\nrfdata,data,phy,0x110000,256K,\nwifidata,data,nvs,0x150000,256K,\n"
	if got := tab.CSV(); got != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want)
	}
	// Written back it gets its end marker but, as read, no MD5 row.
	bin, err := tab.MarshalBinary()
	if err != nil || !bytes.Equal(bin[:0x60], old) || !allFF(bin[0x60:]) || len(bin) != 0xC00 {
		t.Errorf("MarshalBinary: %v", err)
	}
}

// TestPartitionGolden converts the CSVs under testdata/partitions to binary
// and back. The .bin goldens were checked byte for byte against ESP-IDF
// v5.5's gen_esp32part.py.
func TestPartitionGolden(t *testing.T) {
	bootOff := uint32(0x1000)
	for _, name := range []string{"default", "ota", "boot"} {
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "partitions", name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			tab, err := CSVOptions{BootloaderOffset: &bootOff}.Parse(bytes.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			bin, err := tab.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("partitions", name+".bin"), bin)
			back, err := ParsePartitionTable(bin)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("partitions", name+".out.csv"), []byte(back.CSV()))
			again, err := CSVOptions{BootloaderOffset: &bootOff}.Parse(strings.NewReader(back.CSV()))
			if err != nil {
				t.Fatal(err)
			}
			if bin2, _ := again.MarshalBinary(); !bytes.Equal(bin, bin2) {
				t.Error("CSV written from the binary does not convert back to the same binary")
			}
		})
	}
}

func TestDefaultPartitionTable(t *testing.T) {
	tab := DefaultPartitionTable()
	bin, err := BuildPartitionTable(tab.Partitions...)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(filepath.Join("testdata", "partitions", "default.csv"))
	fromCSV, err := ParsePartitionCSV(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if b2, _ := fromCSV.MarshalBinary(); !bytes.Equal(bin, b2) {
		t.Error("DefaultPartitionTable differs from testdata/partitions/default.csv")
	}
	f, ok := tab.Find(LabelFactoryData)
	n, _ := tab.Find(LabelNVS)
	if !ok || f.SubType != SubtypeNVS || f.Offset == n.Offset {
		t.Errorf("factory data partition %+v", f)
	}
	if app, _ := tab.FirstApp(); app.Offset%0x10000 != 0 || app.Label != LabelFactoryApp {
		t.Errorf("app %+v", app)
	}
}

func TestParsePartitionCSVErrors(t *testing.T) {
	cases := []struct{ name, csv, want string }{
		{"overlap", "nvs,data,nvs,0x9000,0x6000\nphy_init,data,phy,0xe000,0x1000\n",
			`line 2: partition "phy_init" sets offset 0xe000, but the previous partition ends at 0xf000 (partitions overlap)`},
		{"first overlaps table", "nvs,data,nvs,0x8000,0x6000\n",
			`line 1: partition "nvs" sets offset 0x8000, but the partition table at 0x8000 occupies its whole sector; use 0x9000 or higher`},
		{"app misaligned", "# comment\n\nnvs,data,nvs,0x9000,0x6000\nfactory,app,factory,0x18000,1M\n",
			`line 4: partition "factory": offset 0x18000 is not aligned to 0x10000 (app partitions start on 64K boundaries)`},
		{"data misaligned", "nvs,data,nvs,0x9100,0x6000\n", `line 1: partition "nvs": offset 0x9100 is not aligned to 0x1000`},
		{"app size", "factory,app,factory,0x10000,0x1800\n", `line 1: partition "factory": size 0x1800 is not a multiple of 0x1000`},
		{"small rw nvs", "nvs,data,nvs,0x9000,0x2000\n", "must be flagged readonly (a read/write NVS needs at least 0x3000)"},
		{"readonly otadata", "otadata,data,ota,0x9000,0x2000,readonly\n", "ota partitions are always read-write and cannot be readonly"},
		{"otadata size", "otadata,data,ota,0x9000,0x3000\n", "ota partition must be 0x2000 bytes, is 0x3000"},
		{"two otadata", "a,data,ota,0x9000,0x2000\nb,data,ota,0xb000,0x2000\n", "2 otadata partitions (data/ota); only one is allowed"},
		{"duplicate", "nvs,data,nvs,0x9000,0x6000\nnvs,data,nvs,0xf000,0x6000\n", `line 2: partition "nvs": label is already used by line 1`},
		{"unknown flag", "nvs,data,nvs,0x9000,0x6000,secret\n", `line 1: flag column contains unknown flag "secret" (known: encrypted, readonly)`},
		{"empty type", "nvs,,nvs,0x9000,0x6000\n", "line 1: field 'type' can't be left empty"},
		{"bad type", "nvs,blob,nvs,0x9000,0x6000\n", `line 1: type: value "blob" is not valid, known keywords: app, data, bootloader, partition_table`},
		{"bad subtype", "nvs,data,nvram,0x9000,0x6000\n", `line 1: subtype: value "nvram" is not valid, known keywords: ota, phy, nvs`},
		{"custom subtype name", "x,0x40,blob,0x9000,0x6000\n", `line 1: subtype: invalid field value "blob" (want a number)`},
		{"app no subtype", "factory,app,,0x10000,1M\n", "line 1: app partition cannot have an empty subtype"},
		{"no size", "nvs,data,nvs,0x9000\n", "line 1: size field can't be empty"},
		{"bad offset", "nvs,data,nvs,0x9zz,0x6000\n", `line 1: offset "0x9zz"`},
		{"long name", "a_very_long_partition_name,data,nvs,0x9000,0x6000\n", "is 26 bytes, at most 16 fit"},
		{"NUL in name", "nv\x00s,data,nvs,0x9000,0x6000\n", `name "nv\x00s" has a NUL byte at position 2`},
		{"bootloader without chip", "bootloader,bootloader,primary,N/A,N/A\n", "bootloader entry needs the primary bootloader offset"},
		{"type out of range", "x,0xFF,0,0x9000,0x1000\n", "type 0xFF is out of range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePartitionCSV(strings.NewReader(c.csv))
			if !errors.Is(err, ErrPartitionTable) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant containing %q", err, c.want)
			}
		})
	}
}

func TestParsePartitionCSVReaders(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "partitions", "ota.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParsePartitionCSV(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	for rname, wrap := range map[string]func(io.Reader) io.Reader{
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data err": iotest.DataErrReader,
	} {
		got, err := ParsePartitionCSV(wrap(bytes.NewReader(src)))
		if err != nil {
			t.Fatalf("%s: %v", rname, err)
		}
		if got.CSV() != want.CSV() {
			t.Errorf("%s reader gives a different table", rname)
		}
	}
	if _, err := ParsePartitionCSV(iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(src)))); !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("timeout reader: %v", err)
	}
}

func TestCSVNamesAndSizes(t *testing.T) {
	tab, err := ParsePartitionCSV(strings.NewReader("\ufeffnvs, data, NVS, , 0x6000\nf, app, OTA_3, , 1m\nraw, 0x50, 0x22, , 0x1234\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n" +
		"nvs,data,nvs,0x9000,24K,\nf,app,ota_3,0x10000,1M,\nraw,80,34,0x110000,0x1234,\n"
	if got := tab.CSV(); got != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want)
	}
}

func TestMarshalBinaryLimits(t *testing.T) {
	var tab PartitionTable
	for i := 0; i < 95; i++ {
		tab.Partitions = append(tab.Partitions, Partition{Label: "p", Type: TypeData, SubType: 0x99, Offset: uint32(0x10000 + i*0x1000), Size: 0x1000})
	}
	if _, err := tab.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "95 entries take 3072 bytes, the table must stay below 3072") {
		t.Errorf("95 entries: %v", err)
	}
	tab.Partitions = tab.Partitions[:94]
	if _, err := tab.MarshalBinary(); err != nil {
		t.Errorf("94 entries: %v", err)
	}
	tab.Partitions = []Partition{{Label: strings.Repeat("x", 17)}}
	if _, err := tab.MarshalBinary(); err == nil {
		t.Error("17-byte label accepted")
	}
}
