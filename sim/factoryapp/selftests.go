package factoryapp

import (
	"math"
	"math/rand/v2"

	"fleetline/firmware/selftest"
	"fleetline/sim/board"
)

// TestSpec is one self test: its limits and the distribution its simulated
// measurement is drawn from.
type TestSpec struct {
	Name      string
	Unit      string
	Low, High float64
	Mean      float64
	StdDev    float64
	// Digits rounds the value as the firmware would print it.
	Digits int
	// Measure, when set, replaces the draw with a value taken from the
	// board (e.g. its flash size).
	Measure func(dev board.Device) float64
}

// DefaultTests is a plausible factory self test for an ESP32 module.
func DefaultTests() []TestSpec {
	return []TestSpec{
		{Name: "vdd_3v3", Unit: "V", Low: 3.135, High: 3.465, Mean: 3.30, StdDev: 0.025, Digits: 3},
		{Name: "chip_temp", Unit: "degC", Low: 5, High: 70, Mean: 34, StdDev: 3, Digits: 1},
		{Name: "wifi_rssi", Unit: "dBm", Low: -75, High: -10, Mean: -48, StdDev: 5, Digits: 0},
		{Name: "heap_free", Unit: "KiB", Low: 150, High: 400, Mean: 268, StdDev: 4, Digits: 0},
		{Name: "flash_size", Unit: "MiB", Low: 4, High: 32, Digits: 0,
			Measure: func(dev board.Device) float64 { return float64(dev.Flash().Size()) / (1 << 20) }},
	}
}

// runTests draws every test's value; the faulty test lands outside its
// limits by a clear margin.
func runTests(specs []TestSpec, rng *rand.Rand, dev board.Device, fail string) []selftest.Test {
	out := make([]selftest.Test, 0, len(specs))
	for _, s := range specs {
		v := s.Mean + rng.NormFloat64()*s.StdDev
		if s.Measure != nil {
			v = s.Measure(dev)
		}
		if s.Name == fail {
			v = s.High + (s.High-s.Low)*0.1 + math.Abs(s.StdDev)
		}
		p := math.Pow(10, float64(s.Digits))
		v = math.Round(v*p) / p
		out = append(out, selftest.Test{
			Name: s.Name, Value: v, Unit: s.Unit, Low: s.Low, High: s.High,
			Pass: v >= s.Low && v <= s.High,
		})
	}
	return out
}
