package nvs

import (
	"bytes"
	"testing"
)

func benchFactory() FactoryData {
	return FactoryData{ClaimCertPEM: bytes.Repeat(testCertPEM, 20), ClaimKeyPEM: bytes.Repeat([]byte("k"), 240),
		SN: "FL-000001-3", Template: "FleetTemplate", Endpoint: "abc-ats.iot.eu-west-1.amazonaws.com"}
}

// BenchmarkBuildFactoryNVS is the per-board cost of personalising an image.
func BenchmarkBuildFactoryNVS(b *testing.B) {
	fd := benchFactory()
	for b.Loop() {
		if _, err := BuildFactoryNVS(fd, 0x6000); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse reads a 24 KiB factory partition back.
func BenchmarkParse(b *testing.B) {
	img, err := BuildFactoryNVS(benchFactory(), 0x6000)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse(img); err != nil {
			b.Fatal(err)
		}
	}
}
