package board

import (
	"fmt"
	"strings"
	"time"

	"fleetline/firmware"
)

// invalidHeaderRepeats is how many "invalid header" lines a board prints
// before it falls quiet. The real ROM repeats the line until its watchdog
// resets it; a bounded burst keeps an idle simulator idle.
const invalidHeaderRepeats = 8

// bootLog accumulates the second-stage boot log with ESP-IDF-style
// millisecond timestamps.
type bootLog struct {
	b  strings.Builder
	ms int
}

func (l *bootLog) raw(s string, a ...any) { fmt.Fprintf(&l.b, s, a...) }

func (l *bootLog) line(level, tag, s string, a ...any) {
	l.ms += 3 + len(s)/16
	fmt.Fprintf(&l.b, "%s (%d) %s: %s\r\n", level, l.ms, tag, fmt.Sprintf(s, a...))
}

// bootFromFlashLocked is what follows a flash-boot banner: the ROM loads
// the second-stage bootloader, which checks the partition table and the
// first app, then the app runs. Any failure is printed as the real chain
// prints it and the board halts.
func (b *Board) bootFromFlashLocked(now time.Time) {
	b.setChipBaudLocked(115200, false) // the bootloader and app set UART0 up afresh
	text, ok := b.bootChain()
	b.emitLocked(now, []byte(text))
	if !ok {
		b.mode = modeHalted
		return
	}
	b.startAppLocked()
}

// runUserCodeLocked answers FLASH_END "run user code": the ROM jumps into
// the flash boot path without a reset.
func (b *Board) runUserCodeLocked(at time.Time) {
	b.stopChipLocked()
	b.gen++
	hdr := make([]byte, 1)
	b.flash.readAt(hdr, b.p.bootOffset)
	if hdr[0] != firmware.ImageMagic {
		msg := "user code done\r\n"
		if b.p.name == "esp32" {
			msg = "flash read err, 631\r\nFalling back to built-in command interpreter.\r\nOK\r\n>"
		}
		b.emitLocked(at, []byte(msg))
		b.mode = modeHalted
		return
	}
	b.bootFromFlashLocked(at)
}

func (b *Board) readFlash(off, n uint32) []byte {
	n = min(n, b.flash.size-min(off, b.flash.size))
	p := make([]byte, n)
	b.flash.readAt(p, off)
	return p
}

// bootChain renders everything the chip prints from the ROM's first load
// line to app_main, and whether the app may run.
func (b *Board) bootChain() (string, bool) {
	var l bootLog
	bl := b.readFlash(b.p.bootOffset, firmware.PartitionTableOffset-b.p.bootOffset)
	img, err := firmware.ParseImage(bl)
	if err != nil {
		for i := 0; i < invalidHeaderRepeats; i++ {
			l.raw("invalid header: 0x%08x\r\n", le32(bl[:4]))
		}
		return l.b.String(), false
	}
	b.romLoadLines(&l, img)
	if !img.ChecksumValid {
		l.raw("csum err:0x%02x!=0x%02x\r\n", img.CalculatedChecksum, img.Checksum)
		l.raw("ets_main.c 371 \r\n")
		return l.b.String(), false
	}
	l.raw("entry 0x%08x\r\n", img.Header.Entry)
	idf := "v5.2.1"
	stamp := "Jan  2 2024 03:04:05"
	if d := img.BootloaderDesc; d != nil {
		idf, stamp = d.IDFVersion, d.DateTime
	}
	l.line("I", "boot", "ESP-IDF %s 2nd stage bootloader", idf)
	l.line("I", "boot", "compile time %s", stamp)
	if b.p.name != "esp32c3" {
		l.line("I", "boot", "Multicore bootloader")
	}
	l.line("I", "boot", "chip revision: %s", firmware.FormatRevision(b.id.Revision))
	tag := "boot." + b.p.name
	l.line("I", tag, "SPI Speed      : %s", strings.ToUpper(strings.TrimSuffix(img.FlashFreqName(), "m"))+"MHz")
	l.line("I", tag, "SPI Mode       : %s", strings.ToUpper(img.Header.FlashMode.String()))
	l.line("I", tag, "SPI Flash Size : %s", img.Header.FlashSize)
	l.line("I", "boot", "Enabling RNG early entropy source...")

	table, err := firmware.ParsePartitionTable(b.readFlash(firmware.PartitionTableOffset, firmware.PartitionTableSize))
	if err != nil {
		l.line("E", "flash_parts", "%v", err)
		l.line("E", "boot", "Failed to verify partition table")
		l.line("E", "boot", "load partition table error!")
		return l.b.String(), false
	}
	l.line("I", "boot", "Partition Table:")
	l.line("I", "boot", "## Label            Usage          Type ST Offset   Length")
	for i, p := range table.Partitions {
		l.line("I", "boot", "%2d %-16s %-16s %02x %02x %08x %08x", i, p.Label, usage(p), uint8(p.Type), p.SubType, p.Offset, p.Size)
	}
	l.line("I", "boot", "End of partition table")
	part, ok := table.FirstApp()
	if !ok {
		l.line("E", "boot", "No bootable app partitions in the partition table")
		return l.b.String(), false
	}
	if !b.checkApp(&l, part) {
		l.line("E", "boot", "%s app partition is not bootable", appKind(part))
		l.line("E", "boot", "No bootable app partitions in the partition table")
		return l.b.String(), false
	}
	return l.b.String(), true
}

// romLoadLines prints what the ROM says while loading the bootloader.
func (b *Board) romLoadLines(l *bootLog, img *firmware.Image) {
	div := map[firmware.FlashFreq]int{0xF: 1, 0x0: 2, 0x1: 3, 0x2: 4}[img.Header.FlashFreq]
	mode := strings.ToUpper(img.Header.FlashMode.String())
	if b.p.name == "esp32" {
		l.raw("configsip: 0, SPIWP:0xee\r\n")
		l.raw("clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n")
		l.raw("mode:%s, clock div:%d\r\n", mode, div)
		for _, s := range img.Segments {
			l.raw("load:0x%08x,len:%d\r\n", s.LoadAddr, len(s.Data))
		}
		return
	}
	l.raw("SPIWP:0xee\r\nmode:%s, clock div:%d\r\n", mode, div)
	for _, s := range img.Segments {
		l.raw("load:0x%08x,len:0x%x\r\n", s.LoadAddr, len(s.Data))
	}
}

// checkApp validates the app image in part as the bootloader does and
// prints its segment lines and the app's start-up banner.
func (b *Board) checkApp(l *bootLog, part firmware.Partition) bool {
	raw := b.readFlash(part.Offset, part.Size)
	img, err := firmware.ParseImage(raw)
	if err != nil {
		if len(raw) > 0 && raw[0] != firmware.ImageMagic {
			l.line("E", "esp_image", "image at 0x%x has invalid magic byte (nothing flashed here?)", part.Offset)
		} else {
			l.line("E", "esp_image", "image at 0x%x is truncated or has a bad segment: %v", part.Offset, err)
		}
		return false
	}
	if img.Extended.ChipID != b.p.imageChipID {
		l.line("E", "esp_image", "Mismatch chip id, expected %d, found %d", b.p.imageChipID, img.Extended.ChipID)
		return false
	}
	if ok, why := img.SupportsRevision(b.id.Revision); !ok {
		l.line("E", "boot_comm", "%s", why)
		return false
	}
	for i, s := range img.Segments {
		kind := "load"
		if s.LoadAddr >= 0x3C000000 && s.LoadAddr < 0x3F800000 || s.LoadAddr >= 0x400C2000 && s.LoadAddr < 0x40C00000 || s.LoadAddr >= 0x42000000 && s.LoadAddr < 0x44000000 {
			kind = "map"
		}
		l.line("I", "esp_image", "segment %d: paddr=%08x vaddr=%08x size=%05xh (%6d) %s",
			i, part.Offset+uint32(s.FileOffset)+8, s.LoadAddr, len(s.Data), len(s.Data), kind)
	}
	if !img.ChecksumValid {
		l.line("E", "esp_image", "Checksum failed. Calculated 0x%x read 0x%x", img.CalculatedChecksum, img.Checksum)
		return false
	}
	if img.Extended.HashAppended && !img.SHA256Valid {
		l.line("E", "esp_image", "Image hash failed - image is corrupt")
		return false
	}
	l.line("I", "boot", "Loaded app from partition at offset 0x%x", part.Offset)
	l.line("I", "boot", "Disabling RNG early entropy source...")
	l.line("I", "cpu_start", "Pro cpu up.")
	l.line("I", "cpu_start", "Pro cpu start user code")
	if d := img.AppDesc; d != nil {
		l.line("I", "app_init", "Application information:")
		l.line("I", "app_init", "Project name:     %s", d.ProjectName)
		l.line("I", "app_init", "App version:      %s", d.Version)
		l.line("I", "app_init", "Compile time:     %s %s", d.Date, d.Time)
		l.line("I", "app_init", "ELF file SHA256:  %x...", d.ELFSHA256[:8])
		l.line("I", "app_init", "ESP-IDF:          %s", d.IDFVersion)
	}
	l.line("I", "main_task", "Calling app_main()")
	return true
}

func appKind(p firmware.Partition) string {
	switch {
	case p.SubType == firmware.SubtypeFactory:
		return "Factory"
	case p.SubType == firmware.SubtypeTest:
		return "Test"
	}
	return "OTA"
}

// usage is the boot log's "Usage" column.
func usage(p firmware.Partition) string {
	if p.Type == firmware.TypeApp {
		switch p.SubType {
		case firmware.SubtypeFactory:
			return "factory app"
		case firmware.SubtypeTest:
			return "test app"
		}
		return "OTA app"
	}
	if p.Type == firmware.TypeData {
		switch p.SubType {
		case firmware.SubtypeOTAData:
			return "OTA data"
		case firmware.SubtypePHY:
			return "RF data"
		case firmware.SubtypeNVS:
			return "WiFi data"
		case firmware.SubtypeNVSKeys:
			return "NVS keys"
		}
	}
	return "Unknown data"
}
