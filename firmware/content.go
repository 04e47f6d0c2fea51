package firmware

import (
	"encoding/binary"
	"math/rand/v2"
)

// filler makes segment contents that look and compress like compiled
// firmware: instruction words drawn from a small repertoire with varying
// register fields, NUL-terminated log strings, and a share of incompressible
// bytes (constant tables, keys, calibration data). zlib at level 9 shrinks
// the mixture to roughly half, as it does real ESP-IDF apps.
type filler struct {
	rng   *rand.Rand
	words []uint32 // the "opcodes" this program uses
}

func newFiller(seed uint64, chip Chip) *filler {
	f := &filler{rng: rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15^uint64(chip)))}
	for i := 0; i < 48; i++ {
		f.words = append(f.words, f.rng.Uint32())
	}
	return f
}

var logWords = []string{
	"wifi", "esp_netif", "nvs", "mqtt", "tls", "heap", "task", "event", "init", "failed",
	"timeout", "connect", "provision", "claim", "certificate", "partition", "ota", "flash",
	"gpio", "uart", "spi", "i2c", "sensor", "config", "state", "ready", "error", "retry",
}

var logFormats = []string{"E (%u) %s: ", "W (%u) %s: ", "I (%u) %s: ", " %s=%d", " (0x%x)", ": %s\n", "%s:%d "}

// code appends n bytes of instruction-like words.
func (f *filler) code(dst []byte, n int) []byte {
	start := len(dst)
	for len(dst)-start < n {
		// A "basic block": a run of common words, a few with fresh operands.
		run := 2 + f.rng.IntN(10)
		for i := 0; i < run; i++ {
			w := f.words[f.rng.IntN(len(f.words))]
			if f.rng.IntN(3) == 0 {
				w ^= uint32(f.rng.IntN(1<<12)) << 8
			}
			dst = binary.LittleEndian.AppendUint32(dst, w)
		}
	}
	return dst[:start+n]
}

// strs appends n bytes of a string table.
func (f *filler) strs(dst []byte, n int) []byte {
	start := len(dst)
	for len(dst)-start < n {
		dst = append(dst, logFormats[f.rng.IntN(len(logFormats))]...)
		for i := 1 + f.rng.IntN(4); i > 0; i-- {
			dst = append(dst, logWords[f.rng.IntN(len(logWords))]...)
			dst = append(dst, ' ')
		}
		dst = append(dst, 0)
	}
	return dst[:start+n]
}

// noise appends n random bytes.
func (f *filler) noise(dst []byte, n int) []byte {
	for i := 0; i < n; i++ {
		dst = append(dst, byte(f.rng.Uint32()))
	}
	return dst
}

// mix appends n bytes in chunks of code, strings, noise and zeros in the
// given proportions (per 100).
func (f *filler) mix(dst []byte, n, codePct, strPct, noisePct int) []byte {
	start := len(dst)
	for len(dst)-start < n {
		chunk := min(256+f.rng.IntN(1024), n-(len(dst)-start))
		switch r := f.rng.IntN(100); {
		case r < codePct:
			dst = f.code(dst, chunk)
		case r < codePct+strPct:
			dst = f.strs(dst, chunk)
		case r < codePct+strPct+noisePct:
			dst = f.noise(dst, chunk)
		default:
			dst = append(dst, make([]byte, chunk)...)
		}
	}
	return dst
}
