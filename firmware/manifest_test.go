package firmware

import (
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestManifestTOMLAndJSON(t *testing.T) {
	dir := buildDir(t, ChipESP32S3)
	b, err := LoadBuildDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := b.Manifest(dir)
	tomlBytes, err := m.TOML()
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "bundle.toml"), tomlBytes)
	fromTOML, err := LoadManifest(filepath.Join(dir, "bundle.toml"))
	if err != nil {
		t.Fatalf("%v\n%s", err, tomlBytes)
	}
	if err := fromTOML.Validate(board4MB("esp32s3")); err != nil {
		t.Error(err)
	}
	if fromTOML.HashHex() != b.HashHex() || fromTOML.Regions[0].ExpectedSHA256 == "" {
		t.Errorf("manifest bundle differs from the build dir bundle")
	}

	js := `{"chip": "esp32s3", "flash_mode": "dio", "flash_size": "4MB", "flash_freq": "40m", "files": [
	  {"name": "bootloader", "offset": 0, "path": "bootloader/bootloader.bin", "sha256": "` + hex.EncodeToString(b.Regions[0].SHA256[:]) + `"},
	  {"offset": "0x8000", "path": "partition_table/partition-table.bin"},
	  {"name": "app", "offset": "128K", "path": "sensor.bin"}]}`
	write(t, filepath.Join(dir, "bundle.json"), []byte(js))
	fromJSON, err := LoadManifest(filepath.Join(dir, "bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fromJSON.Validate(board4MB("esp32s3")); err != nil {
		t.Error(err)
	}
	if fromJSON.Regions[1].Name != "partition-table" || fromJSON.Regions[2].Offset != 0x20000 || fromJSON.PartitionTable == nil {
		t.Errorf("regions %+v", fromJSON.Regions)
	}

	// A file edited after sign-off is caught.
	write(t, filepath.Join(dir, "bootloader", "bootloader.bin"), []byte("not the signed-off bootloader"))
	again, err := LoadManifest(filepath.Join(dir, "bundle.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var ve *ValidationError
	if err := again.Validate(board4MB("esp32s3")); !errors.As(err, &ve) || !ve.Has(ProblemChanged) {
		t.Errorf("edited file not reported: %v", err)
	}
}

func TestParseManifestErrors(t *testing.T) {
	cases := []struct{ name, src, format, want string }{
		{"no files", `chip = "esp32"`, "toml", "no [[files]] entries"},
		{"unknown key", "chip = \"esp32\"\nflash_speed = \"80m\"\n[[files]]\noffset = 0\npath = \"a\"\n", "toml", `unknown key "flash_speed"`},
		{"no path", "[[files]]\noffset = 0x1000\n", "toml", "files[0] has no path"},
		{"bad sha", "[[files]]\noffset = 0x1000\npath = \"a.bin\"\nsha256 = \"abc\"\n", "toml", `files[0] (a.bin): sha256 "abc" is not 64 hex digits`},
		{"bad offset", "[[files]]\noffset = \"0xZZ\"\npath = \"a.bin\"\n", "toml", "not an offset"},
		{"json unknown field", `{"files":[{"offset":0,"path":"a","size":3}]}`, "", `unknown field "size"`},
		{"format", "x", "yaml", `unknown format "yaml"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(c.src), c.format)
			if !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want containing %q", err, c.want)
			}
		})
	}
}

func TestFromPairs(t *testing.T) {
	dir := buildDir(t, ChipESP32)
	b, err := FromPairs([]string{"0x20000", "sensor.bin", "0x1000", "bootloader/bootloader.bin", "0x8000", "partition_table/partition-table.bin"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	b.Chip = "esp32"
	if err := b.Validate(board4MB("esp32")); err != nil {
		t.Error(err)
	}
	if b.Regions[0].Offset != 0x1000 || b.Regions[1].Name != "partition-table" || b.Regions[2].Name != "sensor" {
		t.Errorf("regions %+v", b.Regions)
	}
	if d := b.AppDesc(); d == nil || d.ProjectName != "sensor" {
		t.Errorf("AppDesc = %+v", d)
	}
	for _, bad := range [][]string{nil, {"0x1000"}, {"boot", "b.bin"}} {
		if _, err := FromPairs(bad, dir); err == nil {
			t.Errorf("FromPairs(%q) accepted", bad)
		}
	}
}

func TestParseFlasherArgs(t *testing.T) {
	src := `{"write_flash_args":["--flash_mode","dio"],
	  "flash_settings":{"flash_mode":"dio","flash_size":"detect","flash_freq":"80m"},
	  "flash_files":{"0x0":"bootloader/bootloader.bin","0x10000":"app.bin","0xd000":"ota_data_initial.bin"},
	  "bootloader":{"offset":"0x0","file":"bootloader/bootloader.bin","encrypted":"false"},
	  "app":{"offset":"0x10000","file":"app.bin","encrypted":"true"},
	  "otadata":{"offset":"0xd000","file":"ota_data_initial.bin","encrypted":"false"},
	  "extra_esptool_args":{"after":"hard_reset","before":"default_reset","stub":true,"chip":"esp32c3"}}`
	fa, err := ParseFlasherArgs([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if fa.Extra.Chip != "esp32c3" || !fa.Extra.Stub || fa.FlashSettings.FlashSize != "detect" || len(fa.FlashFiles) != 3 || !fa.Artifacts["app"].Encrypted || fa.Artifacts["otadata"].Offset != 0xD000 {
		t.Errorf("parsed %+v", fa)
	}
	b := FromFlasherArgs(fa, t.TempDir(), "test")
	if r, ok := b.Region("app"); !ok || !r.Encrypted {
		t.Errorf("app region %+v", r)
	}
	var ve *ValidationError
	if err := b.Validate(Target{}); !errors.As(err, &ve) || len(ve.Problems) != 3 || !ve.Has(ProblemMissing) {
		t.Errorf("missing files: %v", err)
	}
	for _, bad := range []string{`[]`, `{}`, `{"flash_files":{"zz":"a.bin"}}`, `{"flash_files":{"0x10":"a","16":"b"}}`} {
		if _, err := ParseFlasherArgs([]byte(bad)); !errors.Is(err, ErrFlasherArgs) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
