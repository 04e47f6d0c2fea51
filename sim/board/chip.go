package board

import (
	"fmt"
	"strings"

	"fleetline/firmware"
)

// chipProfile is what differs between the ESP32, ESP32-S3 and ESP32-C3 as
// their ROM loaders and register maps show it to a host.
type chipProfile struct {
	name        string        // "esp32"
	imageChipID firmware.Chip // chip id in an app image's extended header
	magic       uint32        // word at chipDetectMagicAddr
	bootOffset  uint32        // where the ROM looks for the second-stage bootloader
	beginWords  int           // words the ROM's FLASH_BEGIN takes
	secInfo     bool          // ROM implements GET_SECURITY_INFO
	secChipID   uint32
	secAPI      uint32
	scaledBaud  bool // CHANGE_BAUDRATE is scaled by the ROM's crystal estimate (ESP32)

	uartBase   uint32 // UART0 registers
	bootClkdiv uint32 // UART_CLKDIV after autobaud at 115200, as read off the real ROM
	strapReg   uint32 // GPIO_STRAP
	strapDL    uint32 // strap value (and banner boot:0x..) in download mode
	strapFlash uint32 // strap value when GPIO0 (GPIO9 on C3) is high

	spiBase                                    uint32 // SPI1, the flash controller
	spiUsr, spiUsr1, spiUsr2, spiMosi, spiMiso uint32 // offsets of the user-command registers
	spiW0                                      uint32
	spiAddrMSB                                 bool // address register is left-aligned

	uartDevBufNo uint32 // ROM .bss variable naming the loader's port (C3/S3), 0 if none
}

const chipDetectMagicAddr = 0x40001000

var chipProfiles = map[string]*chipProfile{
	"esp32": {
		name: "esp32", imageChipID: firmware.ChipESP32, magic: 0x00F01D83, bootOffset: 0x1000, beginWords: 4,
		scaledBaud: true,
		uartBase:   0x3FF40000, bootClkdiv: 0x15A,
		strapReg: 0x3FF44038, strapDL: 0x03, strapFlash: 0x13,
		spiBase: 0x3FF42000, spiUsr: 0x1C, spiUsr1: 0x20, spiUsr2: 0x24, spiMosi: 0x28, spiMiso: 0x2C,
		spiW0: 0x80, spiAddrMSB: true,
	},
	"esp32s3": {
		name: "esp32s3", imageChipID: firmware.ChipESP32S3, magic: 0x00000009, bootOffset: 0, beginWords: 5,
		secInfo: true, secChipID: 9, secAPI: 3,
		uartBase: 0x60000000, bootClkdiv: 0x152,
		strapReg: 0x60004038, strapDL: 0x00, strapFlash: 0x08,
		spiBase: 0x60002000, spiUsr: 0x18, spiUsr1: 0x1C, spiUsr2: 0x20, spiMosi: 0x24, spiMiso: 0x28,
		spiW0: 0x58, uartDevBufNo: 0x3FCEF14C,
	},
	"esp32c3": {
		name: "esp32c3", imageChipID: firmware.ChipESP32C3, magic: 0x1B31506F, bootOffset: 0, beginWords: 5,
		secInfo: true, secChipID: 5, secAPI: 3,
		uartBase: 0x60000000, bootClkdiv: 0x152,
		strapReg: 0x60004038, strapDL: 0x04, strapFlash: 0x0C,
		spiBase: 0x60002000, spiUsr: 0x18, spiUsr1: 0x1C, spiUsr2: 0x20, spiMosi: 0x24, spiMiso: 0x28,
		spiW0: 0x58, uartDevBufNo: 0x3FCDF07C,
	},
}

// Chips lists the chip names a board can be.
func Chips() []string { return []string{"esp32", "esp32s3", "esp32c3"} }

func lookupChip(name string) (*chipProfile, error) {
	if name == "" {
		name = "esp32"
	}
	p, ok := chipProfiles[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("board: unknown chip %q (want one of %s)", name, strings.Join(Chips(), ", "))
	}
	return p, nil
}

// resetCause is why the chip (re)started, as the ROM banner names it.
type resetCause int

const (
	resetPowerOn  resetCause = iota // EN pin or power
	resetSoftware                   // FLASH_END reboot: whole-chip software reset
	resetCPU                        // esp_restart
	resetBrownout
	resetUSB // the USB-Serial/JTAG peripheral's reset
)

func (p *chipProfile) rstText(c resetCause) string {
	if p.name == "esp32" {
		switch c {
		case resetSoftware:
			return "rst:0x3 (SW_RESET)"
		case resetCPU:
			return "rst:0xc (SW_CPU_RESET)"
		case resetBrownout:
			return "rst:0xf (BROWNOUT_RST)"
		}
		return "rst:0x1 (POWERON_RESET)"
	}
	switch c {
	case resetSoftware:
		return "rst:0x3 (RTC_SW_SYS_RST)"
	case resetCPU:
		return "rst:0xc (RTC_SW_CPU_RST)"
	case resetBrownout:
		return "rst:0xf (BROWNOUT_RST)"
	case resetUSB:
		return "rst:0x15 (USB_UART_CHIP_RESET)"
	}
	return "rst:0x1 (POWERON)"
}

// banner is the ROM's first output after a reset, up to and including the
// boot-mode line (and "waiting for download" in download mode).
func (p *chipProfile) banner(c resetCause, download bool) string {
	var b strings.Builder
	switch p.name {
	case "esp32":
		b.WriteString("ets Jun  8 2016 00:22:57\r\n\r\n")
		b.WriteString(p.rstText(c))
		if download {
			b.WriteString(",boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n")
		} else {
			b.WriteString(",boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n")
		}
	case "esp32s3":
		b.WriteString("ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\n")
		b.WriteString(p.rstText(c))
		if download {
			b.WriteString(",boot:0x0 (DOWNLOAD(USB/UART0))\r\nwaiting for download\r\n")
		} else {
			b.WriteString(",boot:0x8 (SPI_FAST_FLASH_BOOT)\r\n")
		}
	default: // esp32c3
		b.WriteString("ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n")
		b.WriteString(p.rstText(c))
		if download {
			b.WriteString(",boot:0x4 (DOWNLOAD(USB/UART0/1))\r\nwaiting for download\r\n")
		} else {
			b.WriteString(",boot:0xc (SPI_FAST_FLASH_BOOT)\r\n")
		}
	}
	return b.String()
}

// securityInfo is the 20-byte GET_SECURITY_INFO answer of an unfused chip.
func (p *chipProfile) securityInfo() []byte {
	d := make([]byte, 20)
	// flags 0, flash_crypt_cnt 0, six key purposes 0 and a seventh byte the
	// C3 ROM fills with 0x0c (observed on real ROM code).
	d[11] = 0x0C
	putLE32(d[12:], p.secChipID)
	putLE32(d[16:], p.secAPI)
	return d
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
