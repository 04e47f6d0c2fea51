package flasher

import (
	"context"
	"fmt"

	"fleetline/flasher/rom"
)

// SPI user-command register bits.
const (
	spiCmdUsr     = 1 << 18 // CMD register: start the user command; clears when done
	spiUsrCommand = 1 << 31 // USR: send a command phase
	spiUsrMISO    = 1 << 28 // USR: read a data phase
	jedecReadID   = 0x9F
)

// SPIAttach connects the chip's SPI flash pins (the default pins). The ROM
// needs it before any flash command; the stub does not but accepts it.
func (c *Client) SPIAttach(ctx context.Context) error {
	data := rom.SPIAttachData(0)
	if c.stub {
		data = data[:4]
	}
	if _, _, err := c.command(ctx, rom.OpSPIAttach, c.to.Default, 0, 0, data); err != nil {
		return fmt.Errorf("SPI attach: %w", err)
	}
	c.attached = true
	return nil
}

// SPISetParams tells the loader the flash geometry (size; 64 KiB blocks,
// 4 KiB sectors, 256-byte pages), as esptool does before writing.
func (c *Client) SPISetParams(ctx context.Context, size uint32) error {
	if _, _, err := c.command(ctx, rom.OpSPISetParams, c.to.Default, 0, 0, rom.DefaultSPIParams(size).Marshal()); err != nil {
		return fmt.Errorf("SPI set params (%d bytes): %w", size, err)
	}
	c.params = true
	return nil
}

// prepareFlash makes the loader ready for flash commands once per
// connection: SPI_ATTACH (the ROM needs it; the stub does not) and
// SPI_SET_PARAMS with the detected size. The ROM refuses an MD5, read or
// erase past 2 MiB until it knows the flash is bigger (observed on the
// ESP32 and C3 ROMs), so every flash command goes through here, not only
// writes.
func (c *Client) prepareFlash(ctx context.Context) error {
	if !c.attached && !c.stub {
		if err := c.SPIAttach(ctx); err != nil {
			return err
		}
	}
	if !c.params {
		size := uint32(4 << 20)
		if c.info != nil && c.info.FlashSize != 0 {
			size = c.info.FlashSize
		}
		if err := c.SPISetParams(ctx, size); err != nil {
			return err
		}
	}
	return nil
}

// FlashID reads the SPI flash's JEDEC id (command 0x9F) through the SPI
// "user command" registers, since the ROM has no command for it, and
// decodes the size from the capacity byte. The registers it borrows (USR,
// USR2) are restored afterwards.
func (c *Client) FlashID(ctx context.Context) (id, size uint32, err error) {
	chip, err := c.requireChip()
	if err != nil {
		return 0, 0, err
	}
	base, regs := chip.SPIBase, chip.SPI
	fail := func(err error) (uint32, uint32, error) { return 0, 0, fmt.Errorf("flash id: %w", err) }
	usr, err := c.ReadReg(ctx, base+regs.USR)
	if err != nil {
		return fail(err)
	}
	usr2, err := c.ReadReg(ctx, base+regs.USR2)
	if err != nil {
		return fail(err)
	}
	steps := []struct{ addr, val uint32 }{
		{base + regs.MISODLen, 24 - 1},
		{base + regs.USR, spiUsrCommand | spiUsrMISO},
		{base + regs.USR2, 7<<28 | jedecReadID},
		{base + regs.W0, 0},
		{base, spiCmdUsr},
	}
	for _, s := range steps {
		if err := c.WriteReg(ctx, s.addr, s.val, 0xFFFFFFFF); err != nil {
			return fail(err)
		}
	}
	done := false
	for i := 0; i < 10 && !done; i++ {
		v, err := c.ReadReg(ctx, base)
		if err != nil {
			return fail(err)
		}
		done = v&spiCmdUsr == 0
	}
	if !done {
		return fail(fmt.Errorf("SPI user command did not complete (CMD bit 18 still set after 10 reads)"))
	}
	w0, err := c.ReadReg(ctx, base+regs.W0)
	if err != nil {
		return fail(err)
	}
	for _, s := range []struct{ addr, val uint32 }{{base + regs.USR, usr}, {base + regs.USR2, usr2}} {
		if err := c.WriteReg(ctx, s.addr, s.val, 0xFFFFFFFF); err != nil {
			return fail(err)
		}
	}
	id = w0 & 0xFFFFFF
	size, ok := FlashSizeFromID(id)
	if !ok {
		c.logf("warning: flash JEDEC id 0x%06x has an unknown capacity byte 0x%02x; assuming 4 MiB", id, id>>16)
	}
	return id, size, nil
}

// FlashSizeFromID decodes the JEDEC capacity byte (bits 23:16 of id):
// 0x12–0x1C are 2^n bytes, 0x20–0x22 and 0x32–0x3A vendor codes for
// 64–256 MiB and 256 KiB–64 MiB. Unknown values give 4 MiB and false.
func FlashSizeFromID(id uint32) (uint32, bool) {
	capb := id >> 16 & 0xFF
	switch {
	case capb >= 0x12 && capb <= 0x1C:
		return 1 << capb, true
	case capb >= 0x20 && capb <= 0x22:
		return 1 << (capb - 6), true
	case capb >= 0x32 && capb <= 0x3A:
		return 1 << (capb - 0x20), true
	}
	return 4 << 20, false
}
