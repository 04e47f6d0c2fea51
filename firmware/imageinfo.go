package firmware

import (
	"fmt"
	"io"
	"strings"
)

// WriteImageInfo prints the image the way esptool's "image_info --version 2"
// does: header, extended header, segments with their memory types, footer
// (checksum and hash validity) and the app or bootloader descriptor. The
// layout matches esptool line for line so the two can be diffed.
func WriteImageInfo(w io.Writer, img *Image, fileSize int) error {
	var b strings.Builder
	chip := img.Extended.ChipID
	name := strings.ToUpper(chip.DisplayName())
	fmt.Fprintf(&b, "File size: %d (bytes)\n", fileSize)
	if chip.Known() {
		fmt.Fprintf(&b, "Detected image type: %s\n", name)
	}
	title(&b, name+" image header")
	b.WriteString("Image version: 1\n")
	if img.Header.Entry != 0 {
		fmt.Fprintf(&b, "Entry point: 0x%x\n", img.Header.Entry)
	} else {
		b.WriteString("Entry point not set\n")
	}
	fmt.Fprintf(&b, "Segments: %d\n", len(img.Segments))
	if img.Header.FlashSize.Valid() {
		fmt.Fprintf(&b, "Flash size: %s\n", img.Header.FlashSize)
	} else {
		fmt.Fprintf(&b, "WARNING: Invalid flash size (0x%x)\n", uint8(img.Header.FlashSize)<<4)
	}
	if f := img.FlashFreqName(); f != "" {
		fmt.Fprintf(&b, "Flash freq: %s\n", f)
	} else {
		fmt.Fprintf(&b, "WARNING: Invalid flash frequency (0x%x)\n", uint8(img.Header.FlashFreq))
	}
	if img.Header.FlashMode.Valid() {
		fmt.Fprintf(&b, "Flash mode: %s\n", strings.ToUpper(img.Header.FlashMode.String()))
	} else {
		fmt.Fprintf(&b, "WARNING: Invalid flash mode (%d)\n", uint8(img.Header.FlashMode))
	}

	e := img.Extended
	title(&b, name+" extended image header")
	if e.WPPin == WPPinDisabled {
		fmt.Fprintf(&b, "WP pin: 0x%x (disabled)\n", e.WPPin)
	} else {
		fmt.Fprintf(&b, "WP pin: 0x%x\n", e.WPPin)
	}
	d := e.SPIDrive
	fmt.Fprintf(&b, "Flash pins drive settings: clk_drv: %#x, q_drv: %#x, d_drv: %#x, cs0_drv: %#x, hd_drv: %#x, wp_drv: %#x\n",
		d[0]&0xF, d[0]>>4, d[1]&0xF, d[1]>>4, d[2]&0xF, d[2]>>4)
	if chip.Known() {
		fmt.Fprintf(&b, "Chip ID: %d (%s)\n", uint16(chip), chip.DisplayName())
	} else {
		fmt.Fprintf(&b, "Chip ID: %d (Unknown ID)\n", uint16(chip))
	}
	fmt.Fprintf(&b, "Minimal chip revision: %s, (legacy min_rev = %d)\n", FormatRevision(int(e.MinRevFull)), e.MinRev)
	fmt.Fprintf(&b, "Maximal chip revision: %s\n", FormatRevision(int(e.MaxRevFull)))

	title(&b, "Segments information")
	fmt.Fprintf(&b, "%7s  %7s  %10s  %10s  %-10s\n", "Segment", "Length", "Load addr", "File offs", "Memory types")
	fmt.Fprintf(&b, "%s  %s  %s  %s  %s\n", strings.Repeat("-", 7), strings.Repeat("-", 7), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 12))
	for i, s := range img.Segments {
		fmt.Fprintf(&b, "%7d  0x%05x  0x%08x  0x%08x  %s\n", i, len(s.Data), s.LoadAddr, s.FileOffset, strings.Join(chip.MemoryTypes(s.LoadAddr), ", "))
	}

	title(&b, name+" image footer")
	if img.ChecksumValid {
		fmt.Fprintf(&b, "Checksum: 0x%x (valid)\n", img.Checksum)
	} else {
		fmt.Fprintf(&b, "Checksum: 0x%x (invalid - calculated %02x)\n", img.Checksum, img.CalculatedChecksum)
	}
	if e.HashAppended {
		state := "valid"
		if !img.SHA256Valid {
			state = "invalid"
		}
		fmt.Fprintf(&b, "Validation hash: %x (%s)\n", img.CalculatedSHA256, state)
	}

	if a := img.AppDesc; a != nil {
		title(&b, "Application information")
		fmt.Fprintf(&b, "Project name: %s\n", a.ProjectName)
		fmt.Fprintf(&b, "App version: %s\n", a.Version)
		fmt.Fprintf(&b, "Compile time: %s %s\n", a.Date, a.Time)
		fmt.Fprintf(&b, "ELF file SHA256: %x\n", a.ELFSHA256)
		fmt.Fprintf(&b, "ESP-IDF: %s\n", a.IDFVersion)
		fmt.Fprintf(&b, "Minimal eFuse block revision: %d.%d\n", a.MinEfuseBlkRev/100, a.MinEfuseBlkRev%100)
		fmt.Fprintf(&b, "Maximal eFuse block revision: %d.%d\n", a.MaxEfuseBlkRev/100, a.MaxEfuseBlkRev%100)
		if a.MMUPageSize != 0 && a.MMUPageSize < 32 {
			fmt.Fprintf(&b, "MMU page size: %d KB\n", (1<<a.MMUPageSize)/1024)
		}
		fmt.Fprintf(&b, "Secure version: %d\n", a.SecureVersion)
	} else if bd := img.BootloaderDesc; bd != nil {
		title(&b, "Bootloader information")
		fmt.Fprintf(&b, "Bootloader version: %d\n", bd.Version)
		fmt.Fprintf(&b, "ESP-IDF: %s\n", bd.IDFVersion)
		fmt.Fprintf(&b, "Compile time: %s\n", bd.DateTime)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func title(b *strings.Builder, s string) {
	fmt.Fprintf(b, "\n%s\n%s\n", s, strings.Repeat("=", len(s)))
}

// FormatImageInfo is WriteImageInfo into a string.
func FormatImageInfo(img *Image, fileSize int) string {
	var b strings.Builder
	_ = WriteImageInfo(&b, img, fileSize)
	return b.String()
}
