package firmware

import "testing"

func BenchmarkBuildApp1MiB(b *testing.B) {
	b.SetBytes(1 << 20)
	for i := 0; i < b.N; i++ {
		if _, err := BuildApp(AppSpec{Chip: ChipESP32S3, Size: 1 << 20, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseVerifyImage1MiB(b *testing.B) {
	raw, err := BuildApp(AppSpec{Chip: ChipESP32S3, Size: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		img, err := ParseImage(raw)
		if err != nil || img.Verify() != nil {
			b.Fatal(err)
		}
	}
}
