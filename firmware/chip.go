package firmware

import (
	"errors"
	"fmt"
	"strings"
)

// Chip is the chip id an image's extended header names (esptool's
// IMAGE_CHIP_ID; the ROM's GET_SECURITY_INFO reports the same number).
type Chip uint16

// Chip ids, as ESP-IDF assigns them in esp_chip_id_t.
const (
	ChipESP32    Chip = 0
	ChipESP32S2  Chip = 2
	ChipESP32C3  Chip = 5
	ChipESP32S3  Chip = 9
	ChipESP32C2  Chip = 12
	ChipESP32C6  Chip = 13
	ChipESP32H2  Chip = 16
	ChipESP32P4  Chip = 18
	ChipESP32C61 Chip = 20
	ChipESP32C5  Chip = 23
)

// ErrUnknownChip is returned by ChipByName for a name no chip answers to.
var ErrUnknownChip = errors.New("unknown chip")

// chipInfo is what this package knows about one chip: its names, where its
// ROM looks for the bootloader, and the address windows its images use.
type chipInfo struct {
	id       Chip
	name     string // esptool's --chip spelling
	display  string // the datasheet spelling
	bootOff  uint32 // flash offset of the second-stage bootloader
	freqs    []freqCode
	regions  []memRegion
	drom     uint32 // base of the flash-mapped data window
	irom     uint32 // base of the flash-mapped instruction window
	dram     uint32 // an app's internal data RAM
	iram     uint32 // an app's internal instruction RAM
	bootDRAM uint32 // where ESP-IDF links a bootloader's data
	bootIRAM uint32 // where ESP-IDF links a bootloader's code
}

// memRegion names one address window, as esptool's image_info prints it.
type memRegion struct {
	start, end uint32
	name       string
}

// The address windows follow the chips' technical reference manuals (the
// same windows esptool classifies segments by).
var chips = []chipInfo{
	{id: ChipESP32, name: "esp32", display: "ESP32", bootOff: 0x1000, freqs: freqsESP32,
		drom: 0x3F400000, irom: 0x400D0000, dram: 0x3FFB0000, iram: 0x40080000, bootDRAM: 0x3FFF0030, bootIRAM: 0x40078000,
		regions: []memRegion{
			{0x00000000, 0x00010000, "PADDING"}, {0x3F400000, 0x3F800000, "DROM"}, {0x3F800000, 0x3FC00000, "EXTRAM_DATA"},
			{0x3FF80000, 0x3FF82000, "RTC_DRAM"}, {0x3FF90000, 0x40000000, "BYTE_ACCESSIBLE"}, {0x3FFAE000, 0x40000000, "DRAM"},
			{0x3FFE0000, 0x3FFFFFFC, "DIRAM_DRAM"}, {0x40000000, 0x40070000, "IROM"}, {0x40070000, 0x40078000, "CACHE_PRO"},
			{0x40078000, 0x40080000, "CACHE_APP"}, {0x40080000, 0x400A0000, "IRAM"}, {0x400A0000, 0x400BFFFC, "DIRAM_IRAM"},
			{0x400C0000, 0x400C2000, "RTC_IRAM"}, {0x400D0000, 0x40400000, "IROM"}, {0x50000000, 0x50002000, "RTC_DATA"},
		}},
	{id: ChipESP32S2, name: "esp32s2", display: "ESP32-S2", bootOff: 0x1000, freqs: freqsESP32,
		drom: 0x3F000000, irom: 0x40080000, dram: 0x3FFB0000, iram: 0x40020000, bootDRAM: 0x3FFE6100, bootIRAM: 0x4004C000,
		regions: []memRegion{
			{0x00000000, 0x00010000, "PADDING"}, {0x3F000000, 0x3FF80000, "DROM"}, {0x3F500000, 0x3FF80000, "EXTRAM_DATA"},
			{0x3FF9E000, 0x3FFA0000, "RTC_DRAM"}, {0x3FF9E000, 0x40000000, "BYTE_ACCESSIBLE"}, {0x3FF9E000, 0x40072000, "MEM_INTERNAL"},
			{0x3FFB0000, 0x40000000, "DRAM"}, {0x40000000, 0x4001A100, "IROM_MASK"}, {0x40020000, 0x40070000, "IRAM"},
			{0x40070000, 0x40072000, "RTC_IRAM"}, {0x40080000, 0x40800000, "IROM"}, {0x50000000, 0x50002000, "RTC_DATA"},
		}},
	{id: ChipESP32S3, name: "esp32s3", display: "ESP32-S3", bootOff: 0x0, freqs: freqsESP32,
		drom: 0x3C000000, irom: 0x42000000, dram: 0x3FC98000, iram: 0x40374000, bootDRAM: 0x3FCE2810, bootIRAM: 0x403C8700,
		regions: []memRegion{
			{0x00000000, 0x00010000, "PADDING"}, {0x3C000000, 0x3D000000, "DROM"}, {0x3D000000, 0x3E000000, "EXTRAM_DATA"},
			{0x600FE000, 0x60100000, "RTC_DRAM"}, {0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"}, {0x3FC88000, 0x403E2000, "MEM_INTERNAL"},
			{0x3FC88000, 0x3FD00000, "DRAM"}, {0x40000000, 0x4001A100, "IROM_MASK"}, {0x40370000, 0x403E0000, "IRAM"},
			{0x600FE000, 0x60100000, "RTC_IRAM"}, {0x42000000, 0x42800000, "IROM"}, {0x50000000, 0x50002000, "RTC_DATA"},
		}},
	{id: ChipESP32C3, name: "esp32c3", display: "ESP32-C3", bootOff: 0x0, freqs: freqsESP32,
		drom: 0x3C000000, irom: 0x42000000, dram: 0x3FC90000, iram: 0x40380000, bootDRAM: 0x3FCD5820, bootIRAM: 0x403CC710,
		regions: []memRegion{
			{0x00000000, 0x00010000, "PADDING"}, {0x3C000000, 0x3C800000, "DROM"}, {0x3FC80000, 0x3FCE0000, "DRAM"},
			{0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"}, {0x3FF00000, 0x3FF20000, "DROM_MASK"}, {0x40000000, 0x40060000, "IROM_MASK"},
			{0x42000000, 0x42800000, "IROM"}, {0x4037C000, 0x403E0000, "IRAM"}, {0x50000000, 0x50002000, "RTC_IRAM"},
			{0x50000000, 0x50002000, "RTC_DRAM"}, {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
		}},
	{id: ChipESP32C2, name: "esp32c2", display: "ESP32-C2", bootOff: 0x0, freqs: freqsESP32C2,
		drom: 0x3C000000, irom: 0x42000000, dram: 0x3FCA0000, iram: 0x40380000, bootDRAM: 0x3FCD4000, bootIRAM: 0x403AE000,
		regions: []memRegion{
			{0x00000000, 0x00010000, "PADDING"}, {0x3C000000, 0x3C400000, "DROM"}, {0x3FCA0000, 0x3FCE0000, "DRAM"},
			{0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"}, {0x3FF00000, 0x3FF50000, "DROM_MASK"}, {0x40000000, 0x40090000, "IROM_MASK"},
			{0x42000000, 0x42400000, "IROM"}, {0x4037C000, 0x403C0000, "IRAM"},
		}},
	{id: ChipESP32C6, name: "esp32c6", display: "ESP32-C6", bootOff: 0x0, freqs: freqsESP32C6,
		drom: 0x42800000, irom: 0x42000000, dram: 0x40810000, iram: 0x40800000, bootDRAM: 0x4086E610, bootIRAM: 0x4086C410,
		regions: regionsC6(0x40880000, 0x43000000)},
	{id: ChipESP32H2, name: "esp32h2", display: "ESP32-H2", bootOff: 0x0, freqs: freqsESP32H2,
		drom: 0x42800000, irom: 0x42000000, dram: 0x40810000, iram: 0x40800000, bootDRAM: 0x4083EFD0, bootIRAM: 0x4083CD00,
		regions: regionsC6(0x40850000, 0x43000000)},
	{id: ChipESP32P4, name: "esp32p4", display: "ESP32-P4", bootOff: 0x2000, freqs: freqsESP32,
		drom: 0x40000000, irom: 0x40000000, dram: 0x4FF10000, iram: 0x4FF00000, bootDRAM: 0x4FFBCFD0, bootIRAM: 0x4FFBAD00,
		regions: []memRegion{
			{0x00000000, 0x00010000, "PADDING"}, {0x40000000, 0x4C000000, "DROM"}, {0x4FF00000, 0x4FFA0000, "DRAM"},
			{0x4FF00000, 0x4FFA0000, "BYTE_ACCESSIBLE"}, {0x4FC00000, 0x4FC20000, "DROM_MASK"}, {0x4FC00000, 0x4FC20000, "IROM_MASK"},
			{0x40000000, 0x4C000000, "IROM"}, {0x4FF00000, 0x4FFA0000, "IRAM"}, {0x50108000, 0x50110000, "RTC_IRAM"},
			{0x50108000, 0x50110000, "RTC_DRAM"}, {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
		}},
	{id: ChipESP32C61, name: "esp32c61", display: "ESP32-C61", bootOff: 0x0, freqs: freqsESP32C5,
		drom: 0x42000000, irom: 0x42000000, dram: 0x40810000, iram: 0x40800000, bootDRAM: 0x4084E610, bootIRAM: 0x4084C410,
		regions: regionsC6(0x40860000, 0x44000000)},
	{id: ChipESP32C5, name: "esp32c5", display: "ESP32-C5", bootOff: 0x2000, freqs: freqsESP32C5,
		drom: 0x42000000, irom: 0x42000000, dram: 0x40810000, iram: 0x40800000, bootDRAM: 0x4084E610, bootIRAM: 0x4084C410,
		regions: regionsC6(0x40860000, 0x44000000)},
}

// regionsC6 is the address map shared by the C6 generation: one SRAM
// window used for both code and data, one flash window for both.
func regionsC6(sramEnd, flashEnd uint32) []memRegion {
	return []memRegion{
		{0x00000000, 0x00010000, "PADDING"}, {0x42000000, flashEnd, "DROM"}, {0x40800000, sramEnd, "DRAM"},
		{0x40800000, sramEnd, "BYTE_ACCESSIBLE"}, {0x42000000, flashEnd, "IROM"}, {0x40800000, sramEnd, "IRAM"},
		{0x50000000, 0x50004000, "RTC_IRAM"}, {0x50000000, 0x50004000, "RTC_DRAM"}, {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
	}
}

func (c Chip) info() (*chipInfo, bool) {
	for i := range chips {
		if chips[i].id == c {
			return &chips[i], true
		}
	}
	return nil, false
}

// Known reports whether this package knows the chip id.
func (c Chip) Known() bool { _, ok := c.info(); return ok }

// String returns esptool's --chip name ("esp32s3"), or "chip id N" for an
// id this package does not know.
func (c Chip) String() string {
	if ci, ok := c.info(); ok {
		return ci.name
	}
	return fmt.Sprintf("chip id %d", uint16(c))
}

// DisplayName returns the datasheet spelling ("ESP32-S3").
func (c Chip) DisplayName() string {
	if ci, ok := c.info(); ok {
		return ci.display
	}
	return c.String()
}

// BootloaderOffset is the flash offset where the chip's ROM looks for the
// second-stage bootloader: 0x1000 on ESP32 and ESP32-S2, 0x2000 on ESP32-P4
// and ESP32-C5, 0 on the others. Unknown chips report 0 and false.
func (c Chip) BootloaderOffset() (uint32, bool) {
	ci, ok := c.info()
	if !ok {
		return 0, false
	}
	return ci.bootOff, true
}

// MemoryTypes names the address windows that contain addr on this chip
// ("DROM", "IRAM", "BYTE_ACCESSIBLE, DRAM", ...), as image_info lists them.
func (c Chip) MemoryTypes(addr uint32) []string {
	ci, ok := c.info()
	if !ok {
		return nil
	}
	var out []string
	for _, r := range ci.regions {
		if addr >= r.start && addr < r.end {
			out = append(out, r.name)
		}
	}
	return out
}

// Chips lists every chip this package knows, in id order.
func Chips() []Chip {
	out := make([]Chip, len(chips))
	for i, ci := range chips {
		out[i] = ci.id
	}
	return out
}

// ChipByName looks a chip up by esptool's name ("esp32c3") or the datasheet
// spelling ("ESP32-C3"); case and dashes do not matter.
func ChipByName(name string) (Chip, error) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "")
	n = strings.ReplaceAll(n, "_", "")
	for _, ci := range chips {
		if ci.name == n {
			return ci.id, nil
		}
	}
	return 0, fmt.Errorf("%w %q (known: %s)", ErrUnknownChip, name, knownChipNames())
}

func knownChipNames() string {
	names := make([]string, len(chips))
	for i, ci := range chips {
		names[i] = ci.name
	}
	return strings.Join(names, ", ")
}
