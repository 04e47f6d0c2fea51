package flasher

import "fmt"

// Revision fields, as Espressif's eFuse tables place them. Each chip keeps
// its wafer version in a different spot, so each has its own reader.

type readFunc = func(addr uint32) (uint32, error)

// words reads several addresses, stopping at the first error.
func words(read readFunc, addrs ...uint32) ([]uint32, error) {
	v := make([]uint32, len(addrs))
	for i, a := range addrs {
		var err error
		if v[i], err = read(a); err != nil {
			return nil, err
		}
	}
	return v, nil
}

const esp32APBCtlDate = 0x3FF6607C

// esp32Revision combines eFuse word3 bit15, word5 bit20 and APB_CTL_DATE
// bit31 into the major revision (0, 1, 3, 7 → v0, v1, v2, v3); the minor
// revision is word5 bits 25:24.
func esp32Revision(_ *Chip, read readFunc) (int, int, error) {
	v, err := words(read, 0x3FF5A00C, 0x3FF5A014, esp32APBCtlDate)
	if err != nil {
		return 0, 0, err
	}
	combined := bits(v[2], 31, 1)<<2 | bits(v[1], 20, 1)<<1 | bits(v[0], 15, 1)
	major := map[int]int{0: 0, 1: 1, 3: 2, 7: 3}[combined]
	return major, bits(v[1], 24, 3), nil
}

func esp32Describe(_ *Chip, read readFunc, major, minor int) (string, []string, error) {
	v, err := words(read, 0x3FF5A00C, 0x3FF5A010, 0x3FF5A018)
	if err != nil {
		return "", nil, err
	}
	w3, w6 := v[0], v[2]
	pkg := bits(w3, 9, 7) | bits(w3, 2, 1)<<3
	single := w3&1 != 0
	v3 := major == 3
	name := map[int]string{
		0: pick(single, "ESP32-S0WDQ6", pick(v3, "ESP32-D0WDQ6-V3", "ESP32-D0WDQ6")),
		1: pick(single, "ESP32-S0WD", pick(v3, "ESP32-D0WD-V3", "ESP32-D0WD")),
		2: "ESP32-D2WD", 4: "ESP32-U4WDH",
		5: pick(v3, "ESP32-PICO-V3", "ESP32-PICO-D4"),
		6: "ESP32-PICO-V3-02", 7: "ESP32-D0WDR2-V3",
	}[pkg]
	if name == "" {
		name = "unknown ESP32"
	}
	f := []string{"Wi-Fi"}
	if w3&(1<<1) == 0 {
		f = append(f, "BT")
	}
	f = append(f, pick(single, "Single Core", "Dual Core"))
	if w3&(1<<13) != 0 {
		f = append(f, pick(w3&(1<<12) != 0, "160MHz", "240MHz"))
	}
	switch pkg {
	case 2, 4, 5, 6:
		f = append(f, "Embedded Flash")
	}
	if pkg == 6 {
		f = append(f, "Embedded PSRAM")
	}
	f = append(f, "Coding Scheme "+[]string{"None", "3/4", "Repeat (unsupported)", "None (may contain encoding data)"}[w6&3])
	return fmt.Sprintf("%s (revision v%d.%d)", name, major, minor), f, nil
}

func pick(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

// s2Revision: major = blk1 word3 bits 19:18; minor = word3 bit20 (high) and
// word4 bits 6:4 (low).
func s2Revision(c *Chip, read readFunc) (int, int, error) {
	v, err := words(read, c.blk1Word(3), c.blk1Word(4))
	if err != nil {
		return 0, 0, err
	}
	return bits(v[0], 18, 3), bits(v[0], 20, 1)<<3 | bits(v[1], 4, 7), nil
}

// s3Revision: minor = blk1 word5 bit23 (high) and word3 bits 20:18 (low);
// major = word5 bits 25:24. Chips of v0.0 carry block version 1.1 and
// reuse these bits for something else: they read as v0.0.
func s3Revision(c *Chip, read readFunc) (int, int, error) {
	v, err := words(read, c.blk1Word(3), c.blk1Word(5), c.EfuseBase+0x5C+4*4)
	if err != nil {
		return 0, 0, err
	}
	minor := bits(v[1], 23, 1)<<3 | bits(v[0], 18, 7)
	blkMajor, blkMinor := bits(v[2], 0, 3), bits(v[0], 24, 7)
	if minor&7 == 0 && blkMajor == 1 && blkMinor == 1 {
		return 0, 0, nil
	}
	return bits(v[1], 24, 3), minor, nil
}

// c3Revision: minor = blk1 word5 bit23 (high) and word3 bits 20:18 (low);
// major = word5 bits 25:24.
func c3Revision(c *Chip, read readFunc) (int, int, error) {
	v, err := words(read, c.blk1Word(3), c.blk1Word(5))
	if err != nil {
		return 0, 0, err
	}
	return bits(v[1], 24, 3), bits(v[1], 23, 1)<<3 | bits(v[0], 18, 7), nil
}

// c6Revision: blk1 word3 bits 21:18 minor, 23:22 major.
func c6Revision(c *Chip, read readFunc) (int, int, error) {
	w3, err := read(c.blk1Word(3))
	if err != nil {
		return 0, 0, err
	}
	return bits(w3, 22, 3), bits(w3, 18, 0xF), nil
}

// c2Revision: eFuse block2 (base+0x40) word1 bits 19:16 minor, 21:20 major.
func c2Revision(_ *Chip, read readFunc) (int, int, error) {
	w1, err := read(0x60008800 + 0x40 + 4)
	if err != nil {
		return 0, 0, err
	}
	return bits(w1, 20, 3), bits(w1, 16, 0xF), nil
}

// h2Revision: blk1 word3 bits 20:18 minor, 22:21 major.
func h2Revision(c *Chip, read readFunc) (int, int, error) {
	w3, err := read(c.blk1Word(3))
	if err != nil {
		return 0, 0, err
	}
	return bits(w3, 21, 3), bits(w3, 18, 7), nil
}

// fixedFeatures describes chips whose package is not decoded here.
func fixedFeatures(features ...string) describeFunc {
	return func(c *Chip, _ readFunc, major, minor int) (string, []string, error) {
		return fmt.Sprintf("%s (revision v%d.%d)", c.Name, major, minor), features, nil
	}
}

// pkgFeatures names the package from eFuse block1 word n, bits shift..
// (masked by mask).
func pkgFeatures(n, shift, mask uint32, names map[uint32]string, features ...string) describeFunc {
	return func(c *Chip, read readFunc, major, minor int) (string, []string, error) {
		v, err := read(c.blk1Word(n))
		if err != nil {
			return "", nil, err
		}
		name, ok := names[v>>shift&mask]
		if !ok {
			name = "unknown " + c.Name
		}
		return fmt.Sprintf("%s (revision v%d.%d)", name, major, minor), features, nil
	}
}

type describeFunc = func(c *Chip, read readFunc, major, minor int) (string, []string, error)
