package firmware

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func zlibRatio(t *testing.T, b []byte) float64 {
	t.Helper()
	var buf bytes.Buffer
	w, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	w.Write(b)
	w.Close()
	return float64(buf.Len()) / float64(len(b))
}

func TestBuildAppValid(t *testing.T) {
	for _, chip := range Chips() {
		for _, size := range []int{MinBuildSize, 4000, 64 << 10, 512 << 10} {
			b, err := BuildApp(AppSpec{Chip: chip, Size: size, Version: "2.1.0", ProjectName: "demo", Seed: 7,
				BuildTime: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), MinRev: 100, MaxRev: 399})
			if err != nil {
				t.Fatalf("%s %d: %v", chip, size, err)
			}
			if want := (size + 15) &^ 15; len(b) != want {
				t.Errorf("%s: size %d, want %d", chip, len(b), want)
			}
			img, err := ParseImage(b)
			if err != nil {
				t.Fatalf("%s %d: parse: %v", chip, size, err)
			}
			if err := img.Verify(); err != nil {
				t.Errorf("%s %d: %v", chip, size, err)
			}
			if img.AppDesc == nil || img.AppDesc.Version != "2.1.0" || img.AppDesc.Date != "Mar  4 2025" || img.AppDesc.Time != "05:06:07" {
				t.Errorf("%s: app desc %+v", chip, img.AppDesc)
			}
			if img.Length != len(b) || img.Extended.ChipID != chip {
				t.Errorf("%s: length %d chip %v", chip, img.Length, img.Extended.ChipID)
			}
			for _, s := range img.Segments {
				types := chip.MemoryTypes(s.LoadAddr)
				if len(types) == 0 {
					t.Errorf("%s: segment at 0x%x is in no memory region", chip, s.LoadAddr)
				}
				if hasType(types, "IROM") || hasType(types, "DROM") {
					if uint32(s.FileOffset+segHeaderLen)%0x10000 != s.LoadAddr%0x10000 {
						t.Errorf("%s: flash segment at file 0x%x not congruent with 0x%x", chip, s.FileOffset, s.LoadAddr)
					}
				}
			}
			if size == 512<<10 {
				r := zlibRatio(t, b)
				t.Logf("%s: zlib ratio %.2f", chip, r)
				if r < 0.35 || r > 0.65 {
					t.Errorf("%s: zlib shrinks the image to %.0f%%, want 40-60%% like real firmware", chip, r*100)
				}
			}
		}
	}
}

// TestBuildGolden pins the builder's output: the image-info of a built app
// and bootloader (checked line for line against esptool's image_info by
// hand) and the SHA-256 of builds for every chip, so any change to the
// layout or content shows up in review.
func TestBuildGolden(t *testing.T) {
	var sums strings.Builder
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
		fmt.Fprintf(&sums, "%x  app_%s\n%x  bootloader_%s\n", sha256.Sum256(app), chip, sha256.Sum256(bl), chip)
		if chip == ChipESP32 || chip == ChipESP32S3 {
			for name, b := range map[string][]byte{"app": app, "bootloader": bl} {
				img, err := ParseImage(b)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("imageinfo", name+"_"+chip.String()+".txt"), []byte(FormatImageInfo(img, len(b))))
			}
		}
	}
	golden(t, "builder.sha256", []byte(sums.String()))
}

func TestBuildDeterministic(t *testing.T) {
	spec := AppSpec{Chip: ChipESP32, Size: 64 << 10, Seed: 42}
	a, _ := BuildApp(spec)
	b, _ := BuildApp(spec)
	spec.Seed = 43
	c, _ := BuildApp(spec)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Error("builds are not a pure function of the spec")
	}
}

func TestBuildBootloader(t *testing.T) {
	b, err := BuildBootloader(BootloaderSpec{Chip: ChipESP32C3, Version: 7, IDFVersion: "v5.3", FlashFreq: "80m"})
	if err != nil {
		t.Fatal(err)
	}
	img, err := ParseImage(b)
	if err != nil || img.Verify() != nil {
		t.Fatalf("%v %v", err, img.Verify())
	}
	if d := img.BootloaderDesc; d == nil || d.Version != 7 || d.IDFVersion != "v5.3" || d.DateTime != "Jan  2 2024 03:04:05" {
		t.Errorf("desc %+v", d)
	}
	if img.AppDesc != nil || img.FlashFreqName() != "80m" || len(b) != 0x5000 {
		t.Errorf("app desc %v freq %s len %d", img.AppDesc, img.FlashFreqName(), len(b))
	}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		spec AppSpec
		want string
	}{
		{AppSpec{Chip: 99}, "chip id 99 is not a chip this builder knows"},
		{AppSpec{Size: 100}, "size 100 is below the minimum of 1024 bytes"},
		{AppSpec{FlashMode: "fast"}, `flash mode "fast"`},
		{AppSpec{FlashSize: "3MB"}, `flash size "3MB"`},
		{AppSpec{Chip: ChipESP32C2, FlashFreq: "80m"}, `flash frequency "80m" for esp32c2 (want 60m, 30m, 20m, 15m)`},
		{AppSpec{MinRev: 300, MaxRev: 200}, "max revision v2.0 is below min revision v3.0"},
		{AppSpec{Version: strings.Repeat("v", 32)}, "app descriptor version"},
	}
	for _, c := range cases {
		_, err := BuildApp(c.spec)
		if !errors.Is(err, ErrBuild) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("BuildApp(%+v) = %v, want %q", c.spec, err, c.want)
		}
	}
}
