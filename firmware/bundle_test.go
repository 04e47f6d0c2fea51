package firmware

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// buildDir writes an ESP-IDF-like build directory for chip into a temp dir:
// bootloader, partition table (DefaultPartitionTable) and app, plus
// flasher_args.json. It returns the directory.
func buildDir(t *testing.T, chip Chip) string {
	t.Helper()
	dir := t.TempDir()
	bl, err := BuildBootloader(BootloaderSpec{Chip: chip, Seed: 1, FlashMode: "dio", FlashSize: "4MB", FlashFreq: "40m"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := BuildApp(AppSpec{Chip: chip, Size: 100 << 10, Version: "3.2.1", ProjectName: "sensor", Seed: 2, MaxRev: 399})
	if err != nil {
		t.Fatal(err)
	}
	pt, err := DefaultPartitionTable().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	blOff, _ := chip.BootloaderOffset()
	write(t, filepath.Join(dir, "bootloader", "bootloader.bin"), bl)
	write(t, filepath.Join(dir, "partition_table", "partition-table.bin"), pt)
	write(t, filepath.Join(dir, "sensor.bin"), app)
	args := strings.NewReplacer("BLOFF", "0x"+hex.EncodeToString([]byte{byte(blOff >> 8), byte(blOff)}), "CHIP", chip.String()).Replace(`{
  "write_flash_args": ["--flash_mode", "dio", "--flash_size", "4MB", "--flash_freq", "40m"],
  "flash_settings": {"flash_mode": "dio", "flash_size": "4MB", "flash_freq": "40m"},
  "flash_files": {
    "BLOFF": "bootloader/bootloader.bin",
    "0x20000": "sensor.bin",
    "0x8000": "partition_table/partition-table.bin"
  },
  "bootloader": {"offset": "BLOFF", "file": "bootloader/bootloader.bin", "encrypted": "false"},
  "app": {"offset": "0x20000", "file": "sensor.bin", "encrypted": "false"},
  "partition-table": {"offset": "0x8000", "file": "partition_table/partition-table.bin", "encrypted": "false"},
  "extra_esptool_args": {"after": "hard_reset", "before": "default_reset", "stub": true, "chip": "CHIP"}
}`)
	write(t, filepath.Join(dir, "flasher_args.json"), []byte(args))
	return dir
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

var board4MB = func(chip string) Target { return Target{Chip: chip, Revision: 100, FlashSize: 4 << 20} }

func TestLoadBuildDirValid(t *testing.T) {
	for _, chip := range []Chip{ChipESP32, ChipESP32S3, ChipESP32C3, ChipESP32P4} {
		dir := buildDir(t, chip)
		b, err := LoadBuildDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Validate(board4MB(chip.String())); err != nil {
			t.Errorf("%s: %v", chip, err)
		}
		if len(b.Regions) != 3 || b.PartitionTable == nil || b.Chip != chip.String() || b.FlashFreq != "40m" {
			t.Fatalf("%s: bundle %+v", chip, b)
		}
		if names := []string{b.Regions[0].Name, b.Regions[1].Name, b.Regions[2].Name}; names[0] != "bootloader" || names[1] != "partition-table" || names[2] != "app" {
			t.Errorf("%s: region names %v", chip, names)
		}
		if d := b.AppDesc(); d == nil || d.Version != "3.2.1" || d.ProjectName != "sensor" {
			t.Errorf("%s: AppDesc %+v", chip, d)
		}
	}
}

func TestLoadBuildDirFromProjectDir(t *testing.T) {
	dir := buildDir(t, ChipESP32)
	proj := t.TempDir()
	if err := os.Rename(dir, filepath.Join(proj, "build")); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBuildDir(proj)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Validate(board4MB("esp32")); err != nil {
		t.Error(err)
	}
	if _, err := LoadBuildDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "idf.py build") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestBundleHashStable(t *testing.T) {
	a, err := LoadBuildDir(buildDir(t, ChipESP32))
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadBuildDir(buildDir(t, ChipESP32))
	if err != nil {
		t.Fatal(err)
	}
	if a.HashHex() != b.HashHex() {
		t.Errorf("equal bundles in different dirs hash differently: %s %s", a.HashHex(), b.HashHex())
	}
	b.Regions[2].SHA256[0] ^= 1
	if a.Hash() == b.Hash() {
		t.Error("hash ignores region content")
	}
}

// TestValidateMessages shows the message of every kind of problem.
func TestValidateMessages(t *testing.T) {
	type tc struct {
		name   string
		chip   Chip
		mutate func(t *testing.T, dir string, b *Bundle)
		target Target
		kind   ProblemKind
		want   string
	}
	reload := func(t *testing.T, dir string, b *Bundle) {
		nb, err := LoadBuildDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		*b = *nb
	}
	cases := []tc{
		{name: "missing file", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemMissing,
			mutate: func(t *testing.T, dir string, b *Bundle) {
				os.Remove(filepath.Join(dir, "sensor.bin"))
				reload(t, dir, b)
			},
			want: "app at 0x20000: file " + "DIR/sensor.bin cannot be read: open DIR/sensor.bin: no such file or directory"},
		{name: "changed since sign-off", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemChanged,
			mutate: func(t *testing.T, dir string, b *Bundle) {
				b.Regions[2].ExpectedSHA256 = strings.Repeat("ab", 32)
			},
			want: "app at 0x20000: DIR/sensor.bin changed since the manifest was signed off: expected SHA-256 abababababababababababababababababababababababababababababababab, file has "},
		{name: "overlap", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemOverlap,
			mutate: func(t *testing.T, dir string, b *Bundle) {
				b.Regions = append(b.Regions, Region{Name: "extra", Offset: 0x30000, Path: "extra.bin", Data: make([]byte, 16)})
			},
			want: "extra at 0x30000 (0x30000-0x3000f, extra.bin) overlaps app at 0x20000 (0x20000-0x38fff, DIR/sensor.bin)"},
		{name: "wrong chip", chip: ChipESP32S3, target: board4MB("esp32c3"), kind: ProblemChip,
			want: "app at 0x20000: DIR/sensor.bin is an image for ESP32-S3 (chip id 9), the board is ESP32-C3 (chip id 5)"},
		{name: "bundle chip", chip: ChipESP32S3, target: board4MB("esp32c3"), kind: ProblemChip,
			want: "bundle is built for ESP32-S3, the board is ESP32-C3"},
		{name: "revision", chip: ChipESP32, target: Target{Chip: "esp32", Revision: 301, FlashSize: 4 << 20}, kind: ProblemRevision,
			mutate: func(t *testing.T, dir string, b *Bundle) {
				app, _ := BuildApp(AppSpec{Chip: ChipESP32, Size: 64 << 10, MinRev: 100, MaxRev: 300})
				write(t, filepath.Join(dir, "sensor.bin"), app)
				reload(t, dir, b)
			},
			want: "app at 0x20000: DIR/sensor.bin: image requires chip revision in range [v1.0 - v3.0], chip is v3.1"},
		{name: "bootloader offset", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemBootloader,
			mutate: func(t *testing.T, dir string, b *Bundle) { b.Regions[0].Offset = 0 },
			want:   "bootloader at 0x0: the ESP32 ROM loads the bootloader from 0x1000, not 0x0"},
		{name: "app not at a partition", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemAppPartition,
			mutate: func(t *testing.T, dir string, b *Bundle) { b.Regions[2].Offset = 0x30000 },
			want:   "app at 0x30000: no app partition starts there (app partitions: factory at 0x20000)"},
		{name: "app misaligned", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemAppPartition,
			mutate: func(t *testing.T, dir string, b *Bundle) { b.Regions[2].Offset = 0x21000 },
			want:   "app at 0x21000: apps must start on a 64 KiB boundary (the MMU maps flash in 64 KiB pages)"},
		{name: "app too big for partition", chip: ChipESP32, target: Target{Chip: "esp32", Revision: 100, FlashSize: 16 << 20}, kind: ProblemAppPartition,
			mutate: func(t *testing.T, dir string, b *Bundle) {
				app, _ := BuildApp(AppSpec{Chip: ChipESP32, Size: 0x1E0000 + 16})
				write(t, filepath.Join(dir, "sensor.bin"), app)
				reload(t, dir, b)
			},
			want: `app at 0x20000: DIR/sensor.bin is 1966096 bytes, app partition "factory" holds only 1966080`},
		{name: "larger than flash", chip: ChipESP32, target: Target{Chip: "esp32", Revision: 100, FlashSize: 2 << 20}, kind: ProblemTooLarge,
			want: "partition table needs 0x300000 bytes of flash, the board has 2MB (0x200000)"},
		{name: "flash size setting larger than flash", chip: ChipESP32, target: Target{Chip: "esp32", Revision: 100, FlashSize: 2 << 20}, kind: ProblemTooLarge,
			want: "bundle flash size setting 4MB is larger than the board's 2MB flash"},
		{name: "region beyond flash", chip: ChipESP32, target: Target{Chip: "esp32", Revision: 100, FlashSize: 2 << 20}, kind: ProblemTooLarge,
			mutate: func(t *testing.T, dir string, b *Bundle) {
				b.Regions = append(b.Regions, Region{Name: "storage", Offset: 0x200000, Path: "fs.bin", Data: make([]byte, 4096)})
			},
			want: "storage at 0x200000: ends at 0x201000, beyond the board's 2MB flash (0x200000 bytes)"},
		{name: "header flash size larger than flash", chip: ChipESP32, target: Target{Chip: "esp32", Revision: 100, FlashSize: 2 << 20}, kind: ProblemTooLarge,
			mutate: func(t *testing.T, dir string, b *Bundle) { b.FlashSize = "keep" },
			want:   "bootloader at 0x1000: header says 4MB flash, the board has 2MB"},
		{name: "too many segments", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemImage,
			mutate: func(t *testing.T, dir string, b *Bundle) {
				segs := make([]Segment, 17)
				for i := range segs {
					segs[i] = Segment{LoadAddr: 0x3FFB0000 + uint32(i)*16, Data: make([]byte, 16)}
				}
				raw, _ := EncodeImage(Header{FlashMode: FlashDIO, FlashSize: Flash4MB}, Extended{ChipID: ChipESP32, WPPin: WPPinDisabled}, segs)
				b.Regions[0].Data = raw
			},
			want: "bootloader at 0x1000: DIR/bootloader/bootloader.bin has 17 segments, ESP-IDF's bootloader loads at most 16"},
		{name: "flash mode", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemFlashSettings,
			mutate: func(t *testing.T, dir string, b *Bundle) { b.FlashMode = "qio" },
			want:   "bootloader at 0x1000: header says flash mode dio, the bundle's flash settings say qio"},
		{name: "flash size", chip: ChipESP32, target: Target{Chip: "esp32", Revision: 100, FlashSize: 8 << 20}, kind: ProblemFlashSettings,
			mutate: func(t *testing.T, dir string, b *Bundle) { b.FlashSize = "8MB" },
			want:   "bootloader at 0x1000: header says flash size 4MB, the bundle's flash settings say 8MB"},
		{name: "flash freq", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemFlashSettings,
			mutate: func(t *testing.T, dir string, b *Bundle) { b.FlashFreq = "80m" },
			want:   "bootloader at 0x1000: header says flash frequency 40m, the bundle's flash settings say 80m"},
		{name: "corrupt image", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemImage,
			mutate: func(t *testing.T, dir string, b *Bundle) { b.Regions[2].Data[0x1000] ^= 0xFF },
			want:   "app at 0x20000: DIR/sensor.bin is corrupt: image checksum mismatch: stored 0x"},
		{name: "partition table", chip: ChipESP32, target: board4MB("esp32"), kind: ProblemPartitionTable,
			mutate: func(t *testing.T, dir string, b *Bundle) {
				b.Regions[1].Data[0x20+4] ^= 0x01 // nvs offset changes, MD5 no longer matches
				b.parseTable()
			},
			want: "partition table: partition-table at 0x8000 (DIR/partition_table/partition-table.bin): partition table MD5 mismatch: row at offset 0xa0 holds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := buildDir(t, c.chip)
			b, err := LoadBuildDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if c.mutate != nil {
				c.mutate(t, dir, b)
			}
			err = b.Validate(c.target)
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidBundle) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			want := strings.ReplaceAll(c.want, "DIR", dir)
			found := false
			for _, p := range ve.Problems {
				if p.Kind == c.kind && strings.HasPrefix(p.Msg, want) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s problem starting %q in:\n%v", c.kind, want, err)
			}
			t.Logf("%v", err)
		})
	}
}

// TestValidateReportsAll checks that several problems come back together.
func TestValidateReportsAll(t *testing.T) {
	dir := buildDir(t, ChipESP32)
	b, err := LoadBuildDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	b.Regions[0].Offset = 0
	b.FlashMode = "qio"
	b.Regions[2].ExpectedSHA256 = strings.Repeat("00", 32)
	var ve *ValidationError
	if !errors.As(b.Validate(board4MB("esp32")), &ve) {
		t.Fatal("no ValidationError")
	}
	for _, k := range []ProblemKind{ProblemBootloader, ProblemFlashSettings, ProblemChanged} {
		if !ve.Has(k) {
			t.Errorf("missing %s in %v", k, ve)
		}
	}
	if !strings.HasPrefix(ve.Error(), "bundle "+filepath.Join(dir, "flasher_args.json")+": 3 problems\n  - ") {
		t.Errorf("message: %q", ve.Error())
	}
}

// The example bundle loads as a bundle, for every chip the builder knows.
func TestWriteExampleBundle(t *testing.T) {
	for _, chip := range []Chip{ChipESP32, ChipESP32S3, ChipESP32C3} {
		t.Run(chip.String(), func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteExampleBundle(dir, AppSpec{Chip: chip, Version: "9.9.9", Size: 64 << 10}); err != nil {
				t.Fatal(err)
			}
			b, err := LoadManifest(filepath.Join(dir, "bundle.toml"))
			if err != nil {
				t.Fatal(err)
			}
			if b.Chip != chip.String() || len(b.Regions) != 3 || b.AppDesc() == nil || b.AppDesc().Version != "9.9.9" {
				t.Fatalf("bundle %q with %d regions, app %+v", b.Chip, len(b.Regions), b.AppDesc())
			}
			if err := b.Validate(Target{Chip: chip.String(), Revision: -1, FlashSize: 4 << 20}); err != nil {
				t.Fatalf("example bundle does not validate: %v", err)
			}
		})
	}
}
