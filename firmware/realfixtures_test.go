package firmware

import (
	"os"
	"path/filepath"
	"testing"
)

// realFixtures is a directory of ESP-IDF-built binaries that exists only on
// the machines this package was developed on; the tests below compare this
// parser with esptool's reading of them by hand and skip elsewhere.
const realFixtures = "/work/shared/fixtures/esp-idf"

func readRealFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realFixtures, name))
	if err != nil {
		t.Skipf("real ESP-IDF fixture not available: %v", err)
	}
	return b
}

func TestRealImages(t *testing.T) {
	for _, name := range []string{"bootloader_esp32.bin", "bootloader_esp32_v5_2.bin", "bootloader_esp32c3.bin",
		"esp_idf_blink_esp32s2.bin", "esp32s3_header.bin", "esp32_app_template.bin"} {
		t.Run(name, func(t *testing.T) {
			img, err := ParseImage(readRealFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			info := FormatImageInfo(img, len(img.Raw))
			if dir := os.Getenv("FIRMWARE_INFO_OUT"); dir != "" {
				_ = os.WriteFile(filepath.Join(dir, name+".txt"), []byte(info), 0o644)
			}
			if err := img.Verify(); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestRealPartitionTable(t *testing.T) {
	b := readRealFixture(t, "partitions_singleapp.bin")
	_, err := ParsePartitionTable(b)
	if err == nil {
		t.Fatal("strict parse accepted a table with no end marker")
	}
	t.Logf("strict: %v", err)
	pt, err := ParsePartitionTableWith(b, ParseOptions{AllowMissingEnd: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lenient:\n%s", pt.CSV())
}

// TestDumpBuilt writes builder output and this package's image-info for it
// into $FIRMWARE_BUILD_OUT, for comparing with esptool by hand.
func TestDumpBuilt(t *testing.T) {
	dir := os.Getenv("FIRMWARE_BUILD_OUT")
	if dir == "" {
		t.Skip("FIRMWARE_BUILD_OUT not set")
	}
	_ = os.WriteFile(filepath.Join(dir, "hand.bin"), handImage(), 0o644)
	for _, chip := range Chips() {
		app, err := BuildApp(AppSpec{Chip: chip, Size: 200 << 10, Seed: 1, MinRev: 1, MaxRev: 301,
			Version: "1.2.3", ProjectName: "golden", IDFVersion: "v5.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		bl, err := BuildBootloader(BootloaderSpec{Chip: chip, Seed: 1, FlashMode: "qio", FlashSize: "16MB"})
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string][]byte{"app_" + chip.String(): app, "bootloader_" + chip.String(): bl} {
			img, err := ParseImage(b)
			if err != nil {
				t.Fatal(err)
			}
			_ = os.WriteFile(filepath.Join(dir, name+".bin"), b, 0o644)
			_ = os.WriteFile(filepath.Join(dir, name+".txt"), []byte(FormatImageInfo(img, len(b))), 0o644)
		}
	}
}

// TestRealWithFlashSettings compares WithFlashSettings with the bootloader
// esptool's merge_bin rewrote (--flash_mode qio --flash_size 8MB
// --flash_freq 80m), when such outputs were made by hand in
// $FIRMWARE_MERGED_DIR.
func TestRealWithFlashSettings(t *testing.T) {
	dir := os.Getenv("FIRMWARE_MERGED_DIR")
	if dir == "" {
		t.Skip("FIRMWARE_MERGED_DIR not set")
	}
	for name, off := range map[string]int{"bootloader_esp32_v5_2": 0x1000, "bootloader_esp32c3": 0} {
		img, err := ParseImage(readRealFixture(t, name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := img.WithFlashSettings("qio", "8MB", "80m")
		if err != nil {
			t.Fatal(err)
		}
		merged, err := os.ReadFile(filepath.Join(dir, "merged_"+name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		if want := merged[off:]; string(got) != string(want) {
			t.Errorf("%s: rewritten image differs from esptool's", name)
		}
	}
}
