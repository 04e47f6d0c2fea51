package flasher

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"

	"fleetline/flasher/rom"
)

// MD5 returns the MD5 of size flash bytes at off, computed by the chip
// (SPI_FLASH_MD5): 32 hex characters from the ROM, 16 raw bytes from a stub.
func (c *Client) MD5(ctx context.Context, off, size uint32) ([16]byte, error) {
	var sum [16]byte
	want := rom.MD5HexLen
	if c.stub {
		want = rom.MD5RawLen
	}
	if err := c.prepareFlash(ctx); err != nil {
		return sum, fmt.Errorf("flash MD5 0x%x+%d: %w", off, size, err)
	}
	_, p, err := c.command(ctx, rom.OpSPIFlashMD5, c.to.scaled(c.to.MD5PerMB, size), want, 0, rom.MD5Data(off, size))
	if err != nil {
		return sum, fmt.Errorf("flash MD5 0x%x+%d: %w", off, size, err)
	}
	if c.stub {
		copy(sum[:], p)
		return sum, nil
	}
	if _, err := hex.Decode(sum[:], p); err != nil {
		return sum, fmt.Errorf("flash MD5 0x%x+%d: %w", off, size, &ProtocolError{Op: rom.OpSPIFlashMD5, Msg: fmt.Sprintf("reply %q is not hex", p)})
	}
	return sum, nil
}

// ReadFlash copies size flash bytes at off to w, 64 bytes per
// READ_FLASH_SLOW (the only read the ROM has; its reply always carries 64
// bytes, of which the asked-for count are valid).
func (c *Client) ReadFlash(ctx context.Context, off, size uint32, w io.Writer) error {
	if c.stub {
		return fmt.Errorf("read flash: %w", &rom.StatusError{Op: rom.OpReadFlashSlow, Code: rom.ErrBadMessage})
	}
	if err := c.prepareFlash(ctx); err != nil {
		return fmt.Errorf("read flash 0x%x: %w", off, err)
	}
	for done := uint32(0); done < size; {
		n := min(size-done, rom.ReadFlashSlowMax)
		_, p, err := c.command(ctx, rom.OpReadFlashSlow, c.to.Default, rom.ReadFlashSlowMax, 0, rom.ReadFlashSlowData(off+done, n))
		if err != nil {
			return fmt.Errorf("read flash 0x%x: %w", off+done, err)
		}
		if _, err := w.Write(p[:n]); err != nil {
			return fmt.Errorf("read flash 0x%x: write output: %w", off+done, err)
		}
		done += n
		if done%1024 == 0 || done == size {
			c.progress(Progress{Step: "read", Offset: off, Done: int(done), Total: int(size)})
		}
	}
	return nil
}

// EraseRegion erases size bytes at off, both multiples of 4 KiB. The ROM
// has no erase command: a FLASH_BEGIN with no data that follows erases the
// range, as esptool does. A stub gets ERASE_REGION.
func (c *Client) EraseRegion(ctx context.Context, off, size uint32) error {
	if off%sectorSize != 0 || size%sectorSize != 0 || size == 0 {
		return fmt.Errorf("erase region 0x%x+0x%x: offset and size must be non-zero multiples of 4 KiB (0x1000)", off, size)
	}
	timeout := c.to.scaled(c.to.EraseRegionPerMB, size)
	var err error
	if c.stub {
		_, _, err = c.command(ctx, rom.OpEraseRegion, timeout, 0, 0, rom.RegionData(off, size))
	} else {
		chip, cerr := c.requireChip()
		if cerr != nil {
			return fmt.Errorf("erase region: %w", cerr)
		}
		if err := c.prepareFlash(ctx); err != nil {
			return fmt.Errorf("erase region: %w", err)
		}
		b := rom.Begin{Size: size, Blocks: (size + blockSize - 1) / blockSize, BlockSize: blockSize, Offset: off, HasEncrypted: chip.BeginWords == 5}
		_, _, err = c.command(ctx, rom.OpFlashBegin, timeout, 0, 0, b.Marshal())
	}
	if err != nil {
		return fmt.Errorf("erase region 0x%x+0x%x: %w", off, size, err)
	}
	c.progress(Progress{Step: "erase", Offset: off, Done: int(size), Total: int(size)})
	return nil
}

// HardReset pulses EN so the chip boots its app from flash (esptool's
// --after hard_reset). The client must not be used for loader commands
// afterwards.
func (c *Client) HardReset(ctx context.Context) error {
	if err := HardReset(c.opt.USBPID == USBJTAGPID).Run(ctx, c.port, c.opt.Sleep); err != nil {
		return fmt.Errorf("hard reset: %w", err)
	}
	return nil
}
