package board

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
)

// stateFile is board-NN.json in a state directory: the identity, plus the
// CK8M calibration eFuse (not part of Identity) that makes esptool's
// baud-rate correction non-trivial.
type stateFile struct {
	Chip     string `json:"chip"`
	MAC      string `json:"mac"`
	Revision int    `json:"revision"`
	FlashID  uint32 `json:"flash_id"`
	CK8M     uint32 `json:"ck8m"`
	// Swaps counts the boards taken out of this position before the one
	// described (Board.Swap), so the next swap after a restart derives an
	// identity no earlier board had.
	Swaps int `json:"swaps,omitempty"`
}

// splitmix64 is a tiny, well-mixed hash used to derive identities and fault
// streams from (seed, index) without sharing a global random source.
func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// flashVendors are JEDEC manufacturer ids of flash parts found on ESP32
// modules (GigaDevice, Winbond, XMC); all use memory type 0x40.
var flashVendors = []uint32{0xC8, 0xEF, 0x20}

// swapStride spaces the boards that pass through one position: the board
// put in after gen swaps is derived as if it stood at index+gen*swapStride
// of the first generation. Positions below swapStride and up to
// 2^24/swapStride-1 swaps per position therefore never share a MAC.
const swapStride = 1 << 10

// deriveIdentity computes the identity of the board in position index after
// gen swaps (0: the board there at first power-on) from the seed. The MAC's
// low three bytes are an injective function of index+gen*swapStride modulo
// 2^24 for a given seed, so boards of one line never share a MAC, nor does
// a new board share one with any board that left the line before it.
func deriveIdentity(p *chipProfile, seed uint64, index, gen int, flashSize uint32) (Identity, uint32) {
	index += gen * swapStride
	h := splitmix64(seed ^ 0x5EED0000)
	low := (uint32(h) + uint32(index)*0x9E3779) & 0xFFFFFF
	id := Identity{Chip: p.name}
	id.MAC = [6]byte{0x24, 0x0A, 0xC4, byte(low >> 16), byte(low >> 8), byte(low)}
	if p.name != "esp32" {
		id.MAC[0], id.MAC[1], id.MAC[2] = 0x34, 0x85, 0x18 // an Espressif OUI used on C3/S3 parts
	}
	r := splitmix64(seed ^ uint64(index)<<32 ^ 0x1DE)
	switch p.name {
	case "esp32":
		id.Revision = 300 + int(r%2) // v3.0 or v3.1
	case "esp32s3":
		id.Revision = 1 + int(r%2) // v0.1 or v0.2
	default:
		id.Revision = 3 + int(r%2) // v0.3 or v0.4
	}
	vendor := flashVendors[(r>>8)%uint64(len(flashVendors))]
	capBits := uint32(bits.TrailingZeros32(flashSize))
	id.FlashID = vendor | 0x40<<8 | capBits<<16
	ck8m := uint32(0x50) - 2 + uint32((r>>16)%5) // per-chip 8 MHz oscillator calibration, ±2.5 %
	return id, ck8m
}

// flashSizeFromID is the capacity a JEDEC id announces (2^capacity byte).
func flashSizeFromID(id uint32) uint32 {
	c := (id >> 16) & 0xFF
	if c < 16 || c > 26 {
		return 0
	}
	return 1 << c
}

func parseMAC(s string) ([6]byte, error) {
	var m [6]byte
	_, err := fmt.Sscanf(s, "%02x:%02x:%02x:%02x:%02x:%02x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5])
	return m, err
}

// statePaths names the identity and flash files of board index in dir.
func statePaths(dir string, index int) (ident, flash string) {
	base := filepath.Join(dir, fmt.Sprintf("board-%02d", index))
	return base + ".json", base + ".flash"
}

// boardState is what a state directory keeps about the board in a position.
type boardState struct {
	id    Identity
	ck8m  uint32
	swaps int
}

// saveIdentity writes st to dir's identity file for index, through a
// temporary file so a crash leaves the old or the new one, never half.
func saveIdentity(dir string, index int, st boardState) error {
	path, _ := statePaths(dir, index)
	sf := stateFile{Chip: st.id.Chip, MAC: st.id.MACString(), Revision: st.id.Revision, FlashID: st.id.FlashID, CK8M: st.ck8m, Swaps: st.swaps}
	out, _ := json.MarshalIndent(sf, "", "  ")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("board %d: create state dir: %w", index, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(out, '\n'), 0o644); err != nil {
		return fmt.Errorf("board %d: write identity %s: %w", index, tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("board %d: replace identity %s: %w", index, path, err)
	}
	return nil
}

// loadOrCreateIdentity returns the state stored in dir for index, or
// stores the derived one when there is none yet.
func loadOrCreateIdentity(dir string, index int, derived boardState) (boardState, error) {
	path, _ := statePaths(dir, index)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := saveIdentity(dir, index, derived); err != nil {
			return boardState{}, err
		}
		return derived, nil
	}
	if err != nil {
		return boardState{}, fmt.Errorf("board %d: read identity %s: %w", index, path, err)
	}
	var sf stateFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return boardState{}, fmt.Errorf("board %d: identity file %s: %w (delete it to start afresh)", index, path, err)
	}
	if sf.Chip != derived.id.Chip {
		return boardState{}, fmt.Errorf("board %d: state %s holds an %s, not an %s (use another --state dir)", index, path, sf.Chip, derived.id.Chip)
	}
	mac, err := parseMAC(sf.MAC)
	if err != nil {
		return boardState{}, fmt.Errorf("board %d: identity file %s: bad mac %q", index, path, sf.MAC)
	}
	if flashSizeFromID(sf.FlashID) == 0 {
		return boardState{}, fmt.Errorf("board %d: identity file %s: bad flash_id 0x%06x", index, path, sf.FlashID)
	}
	if sf.Swaps < 0 {
		return boardState{}, fmt.Errorf("board %d: identity file %s: negative swaps %d", index, path, sf.Swaps)
	}
	id := Identity{Chip: sf.Chip, MAC: mac, Revision: sf.Revision, FlashID: sf.FlashID}
	return boardState{id: id, ck8m: sf.CK8M, swaps: sf.Swaps}, nil
}

// crc8MAC is the CRC the ESP32 factory burns next to its MAC: CRC-8 with
// the reflected polynomial 0x8C (Dallas/Maxim), init 0, over the MAC bytes.
func crc8MAC(mac [6]byte) byte {
	var c byte
	for _, b := range mac {
		c ^= b
		for i := 0; i < 8; i++ {
			if c&1 != 0 {
				c = c>>1 ^ 0x8C
			} else {
				c >>= 1
			}
		}
	}
	return c
}
