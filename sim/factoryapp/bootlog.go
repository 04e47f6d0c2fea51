package factoryapp

import (
	"encoding/hex"

	"fleetline/firmware"
	"fleetline/sim/board"
)

// firmwareInfo reads the app descriptor of the app the board booted (the
// first app partition), falling back to the configured one.
func firmwareInfo(dev board.Device, fallback FirmwareInfo) FirmwareInfo {
	buf := make([]byte, firmware.PartitionTableMaxData)
	if _, err := dev.Flash().ReadAt(buf, firmware.PartitionTableOffset); err != nil {
		return fallback
	}
	table, err := firmware.ParsePartitionTable(buf)
	if err != nil {
		return fallback
	}
	app, ok := table.FirstApp()
	if !ok {
		return fallback
	}
	// esp_app_desc_t follows the 24-byte image header and the first
	// segment's 8-byte header.
	const descOffset = 0x20
	raw := make([]byte, descOffset+firmware.AppDescSize)
	if _, err := dev.Flash().ReadAt(raw, int64(app.Offset)); err != nil {
		return fallback
	}
	d, err := firmware.ParseAppDesc(raw[descOffset:])
	if err != nil {
		return fallback
	}
	return FirmwareInfo{
		Version: d.Version, Project: d.ProjectName, IDF: d.IDFVersion,
		CompileTime: d.Date + " " + d.Time, ELFSHA256: hex.EncodeToString(d.ELFSHA256[:]),
	}
}

// bootLog prints what ESP-IDF's startup code prints between the
// bootloader handing over and app_main when full is set, then app_main's
// first line.
func bootLog(c *console, dev board.Device, fw FirmwareInfo, full bool) {
	id := dev.Identity()
	if !full {
		c.log('I', "fct", "factory test firmware %s, MAC %s", fw.Version, id.MACString())
		return
	}
	cores := "Multicore app"
	if id.Chip == "esp32c3" {
		cores = "Unicore app"
	}
	c.log('I', "cpu_start", "%s", cores)
	c.log('I', "cpu_start", "Pro cpu start user code")
	c.log('I', "cpu_start", "cpu freq: 160000000 Hz")
	c.log('I', "app_init", "Application information:")
	c.log('I', "app_init", "Project name:     %s", fw.Project)
	c.log('I', "app_init", "App version:      %s", fw.Version)
	c.log('I', "app_init", "Compile time:     %s", fw.CompileTime)
	sha := fw.ELFSHA256
	if len(sha) > 16 {
		sha = sha[:16] // ESP-IDF prints the first 8 bytes
	}
	c.log('I', "app_init", "ELF file SHA256:  %s...", sha)
	c.log('I', "app_init", "ESP-IDF:          %s", fw.IDF)
	c.log('I', "efuse_init", "Min chip rev:     v0.0")
	c.log('I', "efuse_init", "Max chip rev:     v%d.99", max(3, id.Revision/100))
	c.log('I', "efuse_init", "Chip rev:         %s", firmware.FormatRevision(id.Revision))
	c.log('I', "heap_init", "Initializing. RAM available for dynamic allocation:")
	c.log('I', "heap_init", "At 3FFAE6E0 len 00001920 (6 KiB): DRAM")
	c.log('I', "heap_init", "At 3FFB7F18 len 000280E8 (160 KiB): DRAM")
	c.log('I', "heap_init", "At 3FFE0440 len 00003AE0 (14 KiB): D/IRAM")
	c.log('I', "heap_init", "At 3FFE4350 len 0001BCB0 (111 KiB): D/IRAM")
	c.log('I', "spi_flash", "detected chip: %s", flashVendor(id.FlashID))
	c.log('I', "spi_flash", "flash io: dio")
	c.log('I', "main_task", "Started on CPU0")
	c.log('I', "main_task", "Calling app_main()")
	c.log('I', "fct", "factory test firmware %s, MAC %s", fw.Version, id.MACString())
}

// flashVendor names the flash chip driver ESP-IDF picks from the JEDEC
// manufacturer byte.
func flashVendor(jedec uint32) string {
	switch jedec & 0xff {
	case 0xC8:
		return "gd"
	case 0xEF:
		return "winbond"
	case 0xC2:
		return "mxic"
	case 0x9D:
		return "issi"
	case 0x68:
		return "boya"
	default:
		return "generic"
	}
}
