package board

// The register model: what READ_REG and WRITE_REG reach. Values are the ones
// read off real ROM code (see doc.go); addresses are the chips' own. Any
// other address reads 0 and keeps what is written to it, like RAM.

// SPI user-command register bits (the flash controller's USR mechanism that
// esptool drives to read the JEDEC id).
const (
	spiCmdUsr   = 1 << 18 // CMD: start a user command; hardware clears it when done
	spiUsrMISO  = 1 << 28
	spiUsrAddr  = 1 << 30
	spiUsrCmdEn = 1 << 31
)

// regFile is one chip's register space.
type regFile struct {
	p        *chipProfile
	id       Identity
	vals     map[uint32]uint32
	readOnly map[uint32]bool
	flash    *nor
	sfdp     []byte
}

func newRegFile(p *chipProfile, id Identity, ck8m uint32, flash *nor, usb bool) *regFile {
	r := &regFile{p: p, id: id, flash: flash, vals: map[uint32]uint32{}, readOnly: map[uint32]bool{}}
	ro := func(addr, v uint32) { r.vals[addr] = v; r.readOnly[addr] = true }
	m := id.MAC
	macLow := uint32(m[2])<<24 | uint32(m[3])<<16 | uint32(m[4])<<8 | uint32(m[5])
	macHigh := uint32(m[0])<<8 | uint32(m[1])
	ro(chipDetectMagicAddr, p.magic)
	switch p.name {
	case "esp32":
		const efuse = 0x3FF5A000
		major, minor := id.Revision/100, id.Revision%100
		var w3, w5 uint32
		if major >= 1 {
			w3 |= 1 << 15 // CHIP_VER_REV1
		}
		if major >= 2 {
			w5 |= 1 << 20 // CHIP_VER_REV2
		}
		w5 |= uint32(minor&3) << 24
		ro(efuse+0x00, 0)
		ro(efuse+0x04, macLow)
		ro(efuse+0x08, uint32(crc8MAC(m))<<16|macHigh)
		ro(efuse+0x0C, w3)
		ro(efuse+0x10, ck8m&0xFF) // CK8M_FREQ
		ro(efuse+0x14, w5)
		ro(efuse+0x18, 0)
		ro(efuse+0xFC, 0x00005AA5)
		date := uint32(0x16042000)
		if major >= 3 {
			date |= 1 << 31 // ECO3 marks itself in APB_CTRL_DATE
		}
		ro(0x3FF6607C, date)
		r.vals[0x3FF40020] = 0x0C00001C // UART0_CONF0
		r.vals[0x3FF48034] = 0x00003041 // RTC_CNTL_RESET_STATE
		ro(0x3FF5F06C, 0x00028000)      // RTCCALICFG1: calibration value 1280
	default:
		base := uint32(0x60008800) // C3
		if p.name == "esp32s3" {
			base = 0x60007000
		}
		blk1 := base + 0x44
		major, minor := id.Revision/100, id.Revision%100
		ro(blk1+0x00, macLow)
		ro(blk1+0x04, macHigh)
		ro(blk1+0x0C, uint32(minor&7)<<18) // WAFER_VERSION_MINOR low bits, package 0
		ro(blk1+0x14, uint32(minor>>3&1)<<23|uint32(major&3)<<24)
		// Which port the ROM loader talks on: UART0, or USB-Serial/JTAG
		// (3 on the C3, 4 on the S3, where 3 is USB-OTG).
		var port uint32
		if usb {
			port = 3
			if p.name == "esp32s3" {
				port = 4
			}
		}
		ro(p.uartDevBufNo, port)
	}
	// SPI1's user-command registers as the ROM leaves them after
	// SPI_ATTACH: COMMAND_BITLEN at its reset value 7; on the C3 USR also
	// keeps USR_COMMAND and the ROM's CS setup/hold bits. esptool reads
	// both and writes them back after a flash-id command.
	r.vals[p.spiBase+p.spiUsr2] = 0x70000000
	if p.name != "esp32" {
		r.vals[p.spiBase+p.spiUsr] = 0x800000C0
	}
	r.sfdp = buildSFDP(id.FlashID)
	return r
}

// writeRAM stores a MEM_DATA block at addr, byte by byte into the words
// READ_REG reads (bytes of a word the block does not cover are kept).
func (r *regFile) writeRAM(addr uint32, data []byte) {
	for i, c := range data {
		a := addr + uint32(i)
		w := a &^ 3
		if r.readOnly[w] {
			continue
		}
		sh := 8 * (a & 3)
		r.vals[w] = r.vals[w]&^(0xFF<<sh) | uint32(c)<<sh
	}
}

// read returns the register at addr. strap is the GPIO_STRAP latch, clkdiv
// UART0's current divider: both live in the board, not in the file.
func (r *regFile) read(addr uint32, strap, clkdiv uint32) uint32 {
	switch addr {
	case r.p.strapReg:
		return strap
	case r.p.uartBase + 0x14:
		return clkdiv
	}
	return r.vals[addr]
}

// write applies one WRITE_REG group: new = (old &^ mask) | (value & mask).
// Writing the SPI CMD register with the USR bit runs the user command.
func (r *regFile) write(addr, value, mask uint32) {
	if r.readOnly[addr] {
		return
	}
	nv := r.vals[addr]&^mask | value&mask
	r.vals[addr] = nv
	if addr == r.p.spiBase && nv&spiCmdUsr != 0 {
		r.runSPI()
		r.vals[addr] = nv &^ spiCmdUsr
	}
}

// runSPI executes the SPI user command the registers describe, the way the
// flash chip would answer it on MISO.
func (r *regFile) runSPI() {
	b := r.p.spiBase
	usr := r.vals[b+r.p.spiUsr]
	cmd := byte(r.vals[b+r.p.spiUsr2])
	addr := r.vals[b+0x04]
	if r.p.spiAddrMSB {
		addr >>= 8 // 24-bit address left-aligned in the 32-bit register
	}
	var out uint32
	answered := true
	switch cmd {
	case 0x9F: // RDID
		out = r.id.FlashID
	case 0x5A: // RDSFDP
		for i := 3; i >= 0; i-- {
			out = out<<8 | uint32(r.sfdpByte(addr+uint32(i)))
		}
	case 0x05, 0x35, 0x15: // read status registers: idle, no protection
		out = 0
	case 0x4B: // unique id
		out = uint32(r.id.MAC[3])<<16 | uint32(r.id.MAC[4])<<8 | uint32(r.id.MAC[5])
	case 0x03, 0x0B: // read data
		var d [4]byte
		r.flash.readAt(d[:], addr)
		out = le32(d[:])
	default: // write enable, resets (0x66/0x99), power-down and the like: no data
		answered = false
	}
	if !answered || usr&spiUsrMISO == 0 {
		return
	}
	bitsN := r.vals[b+r.p.spiMiso] + 1
	mask := uint32(0xFFFFFFFF)
	if bitsN < 32 {
		mask = 1<<bitsN - 1
	}
	w0 := b + r.p.spiW0
	r.vals[w0] = r.vals[w0]&^mask | out&mask
}

func (r *regFile) sfdpByte(a uint32) byte {
	if int(a) < len(r.sfdp) {
		return r.sfdp[a]
	}
	return 0xFF
}

// buildSFDP is a minimal JEDEC SFDP table: the signature, the basic
// parameter table with the density, and a vendor header carrying the
// manufacturer id (esptool reads it at 0x10 to spot XMC parts).
func buildSFDP(flashID uint32) []byte {
	t := make([]byte, 0x40)
	for i := range t {
		t[i] = 0xFF
	}
	copy(t, []byte{'S', 'F', 'D', 'P', 0x06, 0x01, 0x01, 0xFF})
	copy(t[0x08:], []byte{0x00, 0x06, 0x01, 0x09, 0x30, 0x00, 0x00, 0xFF})
	copy(t[0x10:], []byte{byte(flashID), 0x00, 0x01, 0x01, 0x3C, 0x00, 0x00, 0xFF})
	putLE32(t[0x30:], 0xFFF120E5)
	putLE32(t[0x34:], flashSizeFromID(flashID)*8-1)
	return t
}
