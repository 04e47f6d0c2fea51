package flasher

import "strings"

// SPIRegs are the offsets, from a chip's SPI1 base, of the "user command"
// registers used to run a raw SPI flash command (the ROM has no command for
// reading the JEDEC id).
type SPIRegs struct {
	USR, USR1, USR2, MOSIDLen, MISODLen, W0 uint32
}

// Chip is one entry of the chip table: the constants a client needs to
// identify a chip and drive its loader. Values come from Espressif's
// technical reference manuals as esptool's target descriptions record them.
type Chip struct {
	Name             string   // "ESP32-C3"
	Key              string   // "esp32c3", as image headers and --chip name it
	ID               uint32   // chip_id of GET_SECURITY_INFO and image headers
	Magic            []uint32 // values of the word at MagicAddr, for chips without chip_id
	EfuseBase        uint32   // eFuse controller registers
	MACWord          uint32   // address of the MAC's low word; the high word follows
	SPIBase          uint32   // SPI1 (flash) controller registers
	SPI              SPIRegs  // its user-command register offsets
	BootloaderOffset uint32   // where the second-stage bootloader is flashed
	StatusLen        int      // ROM status trailer length
	CrystalMHz       int      // fixed crystal; 0 = estimate from UARTClkDiv
	UARTClkDiv       uint32   // UART0_CLKDIV register, for the crystal estimate
	BeginWords       int      // words in the ROM's FLASH_BEGIN (4 on ESP32; 5 adds "encrypted")
	SecurityInfo     bool     // the ROM answers GET_SECURITY_INFO
	// revision reads major and minor revision from eFuse.
	revision func(c *Chip, read readFunc) (major, minor int, err error)
	// describe returns the package name and feature list.
	describe describeFunc
}

// MagicAddr holds a per-chip constant that esptool used before chip_id.
const MagicAddr = 0x40001000

var spiESP32 = SPIRegs{USR: 0x1C, USR1: 0x20, USR2: 0x24, MOSIDLen: 0x28, MISODLen: 0x2C, W0: 0x80}
var spiLater = SPIRegs{USR: 0x18, USR1: 0x1C, USR2: 0x20, MOSIDLen: 0x24, MISODLen: 0x28, W0: 0x58}

// Chips is the table, in detection order.
var Chips = []*Chip{
	{
		Name: "ESP32", Key: "esp32", ID: 0, Magic: []uint32{0x00F01D83},
		EfuseBase: 0x3FF5A000, MACWord: 0x3FF5A004, SPIBase: 0x3FF42000, SPI: spiESP32,
		BootloaderOffset: 0x1000, StatusLen: 4, UARTClkDiv: 0x3FF40014, BeginWords: 4,
		revision: esp32Revision, describe: esp32Describe,
	},
	{
		Name: "ESP32-S2", Key: "esp32s2", ID: 2, Magic: []uint32{0x000007C6},
		EfuseBase: 0x3F41A000, MACWord: 0x3F41A044, SPIBase: 0x3F402000, SPI: spiLater,
		BootloaderOffset: 0x1000, StatusLen: 4, UARTClkDiv: 0x3F400014, BeginWords: 5, SecurityInfo: true,
		revision: s2Revision, describe: fixedFeatures("Wi-Fi"),
	},
	{
		Name: "ESP32-S3", Key: "esp32s3", ID: 9, Magic: []uint32{0x00000009},
		EfuseBase: 0x60007000, MACWord: 0x60007044, SPIBase: 0x60002000, SPI: spiLater,
		BootloaderOffset: 0, StatusLen: 4, CrystalMHz: 40, BeginWords: 5, SecurityInfo: true,
		revision: s3Revision, describe: pkgFeatures(3, 21, 0x7, map[uint32]string{0: "ESP32-S3 (QFN56)", 1: "ESP32-S3-PICO-1 (LGA56)"}, "Wi-Fi", "BLE"),
	},
	{
		Name: "ESP32-C3", Key: "esp32c3", ID: 5, Magic: []uint32{0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F},
		EfuseBase: 0x60008800, MACWord: 0x60008844, SPIBase: 0x60002000, SPI: spiLater,
		BootloaderOffset: 0, StatusLen: 4, CrystalMHz: 40, BeginWords: 5, SecurityInfo: true,
		revision: c3Revision,
		describe: pkgFeatures(3, 21, 0x7, map[uint32]string{0: "ESP32-C3 (QFN32)", 1: "ESP8685 (QFN28)", 2: "ESP32-C3 AZ (QFN32)", 3: "ESP8686 (QFN24)"}, "Wi-Fi", "BLE"),
	},
	{
		Name: "ESP32-C6", Key: "esp32c6", ID: 13, Magic: []uint32{0x2CE0806F},
		EfuseBase: 0x600B0800, MACWord: 0x600B0844, SPIBase: 0x60003000, SPI: spiLater,
		BootloaderOffset: 0, StatusLen: 4, CrystalMHz: 40, BeginWords: 5, SecurityInfo: true,
		revision: c6Revision,
		describe: pkgFeatures(3, 24, 0x7, map[uint32]string{0: "ESP32-C6 (QFN40)", 1: "ESP32-C6FH4 (QFN32)"}, "Wi-Fi 6", "BT 5", "IEEE802.15.4"),
	},
	{
		Name: "ESP32-C2", Key: "esp32c2", ID: 12,
		EfuseBase: 0x60008800, MACWord: 0x60008840, SPIBase: 0x60002000, SPI: spiLater,
		BootloaderOffset: 0, StatusLen: 4, UARTClkDiv: 0x60000014, BeginWords: 5, SecurityInfo: true,
		revision: c2Revision, describe: fixedFeatures("Wi-Fi", "BLE"),
	},
	{
		Name: "ESP32-H2", Key: "esp32h2", ID: 16,
		EfuseBase: 0x600B0800, MACWord: 0x600B0844, SPIBase: 0x60003000, SPI: spiLater,
		BootloaderOffset: 0, StatusLen: 4, CrystalMHz: 32, BeginWords: 5, SecurityInfo: true,
		revision: h2Revision, describe: fixedFeatures("BLE", "IEEE802.15.4"),
	},
}

// ChipByID returns the table entry with chip_id id.
func ChipByID(id uint32) *Chip {
	for _, c := range Chips {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// ChipByMagic returns the entry whose magic value is v.
func ChipByMagic(v uint32) *Chip {
	for _, c := range Chips {
		for _, m := range c.Magic {
			if m == v {
				return c
			}
		}
	}
	return nil
}

// ChipByName accepts "esp32c3", "ESP32-C3" or "c3".
func ChipByName(s string) *Chip {
	k := strings.ToLower(strings.ReplaceAll(s, "-", ""))
	for _, c := range Chips {
		if k == c.Key || "esp32"+k == c.Key {
			return c
		}
	}
	return nil
}

// blk1Word returns the address of word n of eFuse block 1 (the system data
// block holding MAC, package and wafer version) on post-ESP32 chips.
func (c *Chip) blk1Word(n uint32) uint32 { return c.EfuseBase + 0x44 + 4*n }

func bits(v uint32, shift, mask uint32) int { return int(v >> shift & mask) }
