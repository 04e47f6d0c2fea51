package board

import (
	"testing"

	"fleetline/flasher/rom"
)

func TestRegisterValues(t *testing.T) {
	c := connect(t, Config{Chip: "esp32", Seed: 3})
	c.sync()
	id := c.b.Identity()
	m := id.MAC
	cases := []struct {
		name string
		addr uint32
		want uint32
	}{
		{"magic", 0x40001000, 0x00F01D83},
		{"UART0_CLKDIV after autobaud", 0x3FF40014, 0x15A},
		{"UART0_CONF0", 0x3FF40020, 0x0C00001C},
		{"APB_CTRL_DATE (ECO3)", 0x3FF6607C, 0x96042000},
		{"RTCCALICFG1", 0x3FF5F06C, 0x00028000},
		{"GPIO_STRAP download", 0x3FF44038, 0x03},
		{"eFuse MAC low", 0x3FF5A004, uint32(m[2])<<24 | uint32(m[3])<<16 | uint32(m[4])<<8 | uint32(m[5])},
		{"eFuse MAC high + CRC", 0x3FF5A008, uint32(crc8MAC(m))<<16 | uint32(m[0])<<8 | uint32(m[1])},
		{"eFuse CK8M", 0x3FF5A010, c.b.ck8m},
		{"eFuse 0xFC", 0x3FF5A0FC, 0x5AA5},
		{"plain RAM", 0x3FFB1234, 0},
	}
	for _, tc := range cases {
		if got := c.readReg(tc.addr); got != tc.want {
			t.Errorf("%s (%#x) = %#x, want %#x", tc.name, tc.addr, got, tc.want)
		}
	}
}

func TestMACCRCMatchesObservedChip(t *testing.T) {
	// 24:0a:c4:12:34:56 was burnt with CRC 0xf5 on the observed chip.
	if got := crc8MAC([6]byte{0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56}); got != 0xF5 {
		t.Fatalf("crc %#x", got)
	}
}

func TestC3Registers(t *testing.T) {
	c := connect(t, Config{Chip: "esp32c3"})
	c.sync()
	m := c.b.Identity().MAC
	if got := c.readReg(0x60008844); got != uint32(m[2])<<24|uint32(m[3])<<16|uint32(m[4])<<8|uint32(m[5]) {
		t.Errorf("MAC low %#x", got)
	}
	if got := c.readReg(0x60008848); got != uint32(m[0])<<8|uint32(m[1]) {
		t.Errorf("MAC high %#x", got)
	}
	minor := uint32(c.b.Identity().Revision % 100)
	if got := c.readReg(0x60008850); got != minor<<18 {
		t.Errorf("SYS_3 %#x", got)
	}
	if got := c.readReg(0x60000014); got != 0x152 {
		t.Errorf("CLKDIV %#x", got)
	}
	if got := c.readReg(0x3FCDF07C); got != 0 {
		t.Errorf("UARTDEV_BUF_NO %#x, want UART0", got)
	}
}

func TestWriteRegMaskAndGroups(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	const a, b = 0x3FFB0000, 0x3FFB0004
	c.ok(rom.OpWriteReg, rom.WriteRegData(
		rom.RegWrite{Addr: a, Value: 0x12345678, Mask: 0xFFFFFFFF},
		rom.RegWrite{Addr: b, Value: 0xAAAA5555, Mask: 0xFFFFFFFF},
		rom.RegWrite{Addr: a, Value: 0x0000FFFF, Mask: 0x00FF00FF},
	), 0)
	// new = (old &^ mask) | (value & mask)
	if got := c.readReg(a); got != 0x120056FF {
		t.Fatalf("masked write %#x", got)
	}
	if got := c.readReg(b); got != 0xAAAA5555 {
		t.Fatalf("second group %#x", got)
	}
	// eFuse words are read-only.
	c.ok(rom.OpWriteReg, rom.WriteRegData(rom.RegWrite{Addr: 0x3FF5A004, Value: 0, Mask: 0xFFFFFFFF}), 0)
	if c.readReg(0x3FF5A004) == 0 {
		t.Fatal("eFuse word was overwritten")
	}
}

// spiCommand runs a SPI flash user command the way esptool does, through
// WRITE_REG and READ_REG only.
func (c *romClient) spiCommand(cmd byte, readBits int, addr uint32, addrLen int) uint32 {
	c.t.Helper()
	p := c.b.p
	base := p.spiBase
	w := func(a, v uint32) {
		c.ok(rom.OpWriteReg, rom.WriteRegData(rom.RegWrite{Addr: a, Value: v, Mask: 0xFFFFFFFF}), 0)
	}
	flags := uint32(spiUsrCmdEn)
	if readBits > 0 {
		flags |= spiUsrMISO
		w(base+p.spiMiso, uint32(readBits-1))
	}
	if addrLen > 0 {
		flags |= spiUsrAddr
		w(base+p.spiUsr1, uint32(addrLen-1)<<26)
	}
	w(base+p.spiUsr, flags)
	w(base+p.spiUsr2, 7<<28|uint32(cmd))
	if addrLen > 0 {
		if p.spiAddrMSB {
			addr <<= 32 - addrLen
		}
		w(base+0x04, addr)
	}
	w(base+p.spiW0, 0)
	w(base, spiCmdUsr)
	if c.readReg(base)&spiCmdUsr != 0 {
		c.t.Fatal("SPI USR bit did not self-clear")
	}
	return c.readReg(base + p.spiW0)
}

func TestSPIUserCommands(t *testing.T) {
	for _, chip := range Chips() {
		t.Run(chip, func(t *testing.T) {
			c := connect(t, Config{Chip: chip, Seed: 9})
			c.sync()
			id := c.b.Identity().FlashID
			if got := c.spiCommand(0x9F, 24, 0, 0); got != id {
				t.Fatalf("RDID %#06x, want %#06x", got, id)
			}
			if got := c.spiCommand(0x5A, 32, 0, 24); got != 0x50444653 { // "SFDP"
				t.Fatalf("SFDP signature %#x", got)
			}
			if got := c.spiCommand(0x5A, 8, 0x10, 24); got != id&0xFF {
				t.Fatalf("SFDP vendor %#x", got)
			}
			c.spiCommand(0x66, 0, 0, 0) // reset enable / reset: accepted, no data
			c.spiCommand(0x99, 0, 0, 0)
			if got := flashSizeFromID(id); got != c.b.flash.Size() {
				t.Fatalf("size %d vs %d", got, c.b.flash.Size())
			}
		})
	}
}
