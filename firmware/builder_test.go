package firmware

import (
	"bytes"
	"compress/zlib"
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
		for _, size := range []int{MinBuildSize, 4000, 64 << 10, 1 << 20} {
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
			if size == 1<<20 {
				r := zlibRatio(t, b)
				t.Logf("%s: zlib ratio %.2f", chip, r)
				if r < 0.35 || r > 0.65 {
					t.Errorf("%s: zlib shrinks the image to %.0f%%, want 40-60%% like real firmware", chip, r*100)
				}
			}
		}
	}
}
