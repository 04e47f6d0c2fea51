package firmware

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseImage(f *testing.F) {
	f.Add(handImage())
	app, _ := BuildApp(AppSpec{Chip: ChipESP32C3, Size: MinBuildSize, Seed: 3})
	f.Add(app)
	bl, _ := BuildBootloader(BootloaderSpec{Chip: ChipESP32, Size: MinBuildSize, Seed: 3})
	f.Add(bl)
	f.Add([]byte{0xE9})
	f.Add([]byte{0xE9, 0xFF, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := ParseImage(data)
		if err != nil {
			return
		}
		if img.Length > len(data) || len(img.Segments) != int(img.Header.SegmentCount) {
			t.Fatalf("length %d of %d, %d segments of %d", img.Length, len(data), len(img.Segments), img.Header.SegmentCount)
		}
		_ = img.Verify()
		_ = FormatImageInfo(img, len(data))
		if b, err := img.WithFlashSettings("dout", "2MB", "keep"); err == nil {
			if _, err := ParseImage(b); err != nil {
				t.Fatalf("rewritten header no longer parses: %v", err)
			}
		}
		// Re-encoding the parsed segments gives an image that parses to the same.
		if enc, err := EncodeImage(img.Header, img.Extended, img.Segments); err == nil {
			again, err := ParseImage(enc)
			if err != nil || len(again.Segments) != len(img.Segments) || again.Verify() != nil {
				t.Fatalf("re-encoded image: %v", err)
			}
		}
	})
}

func FuzzParsePartitionTable(f *testing.F) {
	f.Add(handTable(), false)
	for _, name := range []string{"default", "ota", "boot"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "partitions", name+".bin")); err == nil {
			f.Add(b, false)
		}
	}
	f.Add(handTable()[:0x60], true)
	f.Fuzz(func(t *testing.T, data []byte, lenient bool) {
		tab, err := ParsePartitionTableWith(data, ParseOptions{AllowMissingEnd: lenient})
		if err != nil {
			return
		}
		bin, err := tab.MarshalBinary()
		if err != nil {
			return // e.g. a label with bytes after its NUL reads shorter but fits
		}
		again, err := ParsePartitionTable(bin)
		if err != nil {
			t.Fatalf("marshalled table does not parse: %v", err)
		}
		if again.CSV() != tab.CSV() {
			t.Fatalf("round trip changed the table:\n%s\n%s", tab.CSV(), again.CSV())
		}
	})
}

func FuzzParsePartitionCSV(f *testing.F) {
	for _, name := range []string{"default", "ota", "boot"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "partitions", name+".csv")); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("nvs,data,nvs,,0x6000\nfactory,app,factory,,1M\n")
	f.Add("x,0x40,0x1,0x9000,-0x10000,encrypted:readonly\n")
	f.Fuzz(func(t *testing.T, src string) {
		boot := uint32(0x1000)
		tab, err := CSVOptions{BootloaderOffset: &boot}.Parse(strings.NewReader(src))
		if err != nil {
			return
		}
		bin, err := tab.MarshalBinary()
		if err != nil {
			return // more entries than a table sector holds
		}
		back, err := ParsePartitionTable(bin)
		if err != nil {
			t.Fatalf("binary of a valid CSV does not parse: %v\n%s", err, tab.CSV())
		}
		again, err := CSVOptions{BootloaderOffset: &boot}.Parse(strings.NewReader(back.CSV()))
		if err != nil {
			t.Fatalf("CSV written back does not parse: %v\n%s", err, back.CSV())
		}
		if bin2, _ := again.MarshalBinary(); !bytes.Equal(bin, bin2) {
			t.Fatalf("CSV round trip changed the binary")
		}
	})
}

func FuzzFlasherArgs(f *testing.F) {
	f.Add(`{"flash_settings":{"flash_mode":"dio","flash_size":"4MB","flash_freq":"80m"},
"flash_files":{"0x1000":"bootloader/bootloader.bin","0x10000":"app.bin","0x8000":"partition_table/partition-table.bin"},
"bootloader":{"offset":"0x1000","file":"bootloader/bootloader.bin","encrypted":"false"},
"app":{"offset":"0x10000","file":"app.bin","encrypted":"true"},
"extra_esptool_args":{"after":"hard_reset","before":"default_reset","stub":true,"chip":"esp32"}}`)
	f.Add(`{"flash_files":{}}`)
	f.Add(`{"flash_files":{"64K":"a.bin","0x10000":"b.bin"}}`)
	f.Fuzz(func(t *testing.T, src string) {
		fa, err := ParseFlasherArgs([]byte(src))
		if err != nil {
			return
		}
		b := FromFlasherArgs(fa, t.TempDir(), "fuzz")
		if len(b.Regions) != len(fa.FlashFiles) {
			t.Fatalf("%d regions from %d flash_files", len(b.Regions), len(fa.FlashFiles))
		}
		_ = b.Validate(Target{Chip: "esp32", FlashSize: 4 << 20})
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add("chip = \"esp32\"\n[[files]]\noffset = 0x1000\npath = \"b.bin\"\n", "")
	f.Add(`{"chip":"esp32s3","files":[{"offset":"0x0","path":"b.bin","sha256":"`+strings.Repeat("0", 64)+`"}]}`, "json")
	f.Fuzz(func(t *testing.T, src, format string) {
		m, err := ParseManifest([]byte(src), format)
		if err != nil {
			return
		}
		if len(m.Files) == 0 {
			t.Fatal("manifest without files accepted")
		}
	})
}
