package flasher

import (
	"context"
	"errors"
	"fmt"

	"fleetline/flasher/rom"
)

// ChipInfo is everything Identify learns about the board.
type ChipInfo struct {
	Name        string            // "ESP32-C3"
	Key         string            // "esp32c3"
	Description string            // package and revision, e.g. "ESP32-D0WDQ6-V3 (revision v3.0)"
	ID          uint32            // chip_id
	Revision    int               // major*100 + minor, as image headers count it
	CrystalMHz  int               // 40, 26 (or 32/48 on chips that have them)
	Features    []string          // "Wi-Fi", "BT", "Dual Core", ...
	MAC         [6]byte           // factory MAC from eFuse
	Security    *rom.SecurityInfo // nil on the ESP32, whose ROM lacks GET_SECURITY_INFO
	FlashID     uint32            // JEDEC id: manufacturer | type<<8 | capacity<<16
	FlashSize   uint32            // bytes, from the JEDEC capacity byte
	USBMode     string            // "usb-serial-jtag" for Espressif's built-in USB port, "" for a UART bridge
	Stub        bool              // talking to a flasher stub, not the ROM
}

// MACString formats the MAC as aa:bb:cc:dd:ee:ff.
func (i *ChipInfo) MACString() string {
	m := i.MAC
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// Identify detects the chip and reads its identity: revision, crystal,
// features, MAC, security info and the SPI flash's JEDEC id and size. It
// attaches the SPI flash (SPI_ATTACH) on the way, as the ROM needs before
// any flash command. Each step's error names the step.
func (c *Client) Identify(ctx context.Context) (*ChipInfo, error) {
	chip, sec, err := c.detect(ctx)
	if err != nil {
		return nil, fmt.Errorf("identify: %w", err)
	}
	c.chip = chip
	info := &ChipInfo{Name: chip.Name, Key: chip.Key, ID: chip.ID, Security: sec, Stub: c.stub}
	if c.opt.USBPID == USBJTAGPID {
		info.USBMode = "usb-serial-jtag"
	}
	read := func(a uint32) (uint32, error) { return c.ReadReg(ctx, a) }
	major, minor, err := chip.revision(chip, read)
	if err != nil {
		return nil, fmt.Errorf("identify %s revision: %w", chip.Name, err)
	}
	info.Revision = major*100 + minor
	if info.Description, info.Features, err = chip.describe(chip, read, major, minor); err != nil {
		return nil, fmt.Errorf("identify %s package: %w", chip.Name, err)
	}
	if info.CrystalMHz, err = c.crystal(ctx, chip); err != nil {
		return nil, fmt.Errorf("identify %s crystal: %w", chip.Name, err)
	}
	if info.MAC, err = c.readMAC(ctx, chip); err != nil {
		return nil, fmt.Errorf("identify %s MAC: %w", chip.Name, err)
	}
	if err := c.SPIAttach(ctx); err != nil {
		return nil, fmt.Errorf("identify %s: %w", chip.Name, err)
	}
	if info.FlashID, info.FlashSize, err = c.FlashID(ctx); err != nil {
		return nil, fmt.Errorf("identify %s: %w", chip.Name, err)
	}
	c.info = info
	return info, nil
}

// Info returns what Identify found, or nil before it.
func (c *Client) Info() *ChipInfo { return c.info }

// detect asks GET_SECURITY_INFO for the chip_id and falls back to the magic
// word for the ESP32 ROM (which refuses the command) and the ESP32-S2
// (whose 12-byte answer has no chip_id). esptool sends the command a second
// time to read a 12-byte answer; here the one reply is read by its length.
func (c *Client) detect(ctx context.Context) (*Chip, *rom.SecurityInfo, error) {
	sec, err := c.SecurityInfo(ctx)
	switch {
	case err == nil && sec.HasChipID:
		chip := ChipByID(sec.ChipID)
		if chip == nil {
			return nil, sec, fmt.Errorf("%w: chip_id %d from GET_SECURITY_INFO is not in the table", ErrUnknownChip, sec.ChipID)
		}
		return chip, sec, nil
	case err != nil && fatal(err):
		return nil, nil, err
	case err != nil:
		c.logf("GET_SECURITY_INFO: %v; reading the magic register", err)
		sec = nil
	}
	magic, err := c.ReadReg(ctx, MagicAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("chip detect: %w", err)
	}
	chip := ChipByMagic(magic)
	if chip == nil {
		return nil, sec, fmt.Errorf("%w: magic 0x%08x at 0x%08x is not in the table", ErrUnknownChip, magic, uint32(MagicAddr))
	}
	if sec != nil && !chip.SecurityInfo {
		sec = nil
	}
	return chip, sec, nil
}

// SecurityInfo runs GET_SECURITY_INFO: the 20-byte form (flags, flash
// crypt count, key purposes, chip_id, API version) or the ESP32-S2's
// 12-byte form. The ESP32 ROM refuses it (a *rom.StatusError, Unsupported).
func (c *Client) SecurityInfo(ctx context.Context) (*rom.SecurityInfo, error) {
	if err := c.send(rom.OpGetSecurityInfo, 0); err != nil {
		return nil, err
	}
	r, err := c.receive(ctx, rom.OpGetSecurityInfo, c.to.Default)
	if err != nil {
		return nil, fmt.Errorf("security info: %w", err)
	}
	for _, n := range []int{rom.SecurityInfoLen, rom.SecurityInfoLenS2} {
		if len(r.Data) < n+2 {
			continue
		}
		payload, st, _ := rom.SplitStatus(r.Data, n)
		if st.Failed {
			return nil, fmt.Errorf("security info: %w", &rom.StatusError{Op: rom.OpGetSecurityInfo, Code: st.Code})
		}
		s, err := rom.ParseSecurityInfo(payload)
		if err != nil {
			return nil, fmt.Errorf("security info: %w", err)
		}
		return &s, nil
	}
	if _, st, err := rom.SplitStatus(r.Data, 0); err == nil && st.Failed {
		return nil, fmt.Errorf("security info: %w", &rom.StatusError{Op: rom.OpGetSecurityInfo, Code: st.Code})
	}
	return nil, fmt.Errorf("security info: %w", &ProtocolError{Op: rom.OpGetSecurityInfo, Msg: fmt.Sprintf("reply of %d data bytes", len(r.Data))})
}

// crystal returns the chip's crystal in MHz: fixed for most chips; on the
// ESP32 and S2 estimated from UART0's clock divider and the current baud,
// then rounded to 26, 40 or 48.
func (c *Client) crystal(ctx context.Context, chip *Chip) (int, error) {
	if chip.CrystalMHz != 0 {
		return chip.CrystalMHz, nil
	}
	div, err := c.ReadReg(ctx, chip.UARTClkDiv)
	if err != nil {
		return 0, err
	}
	est := float64(div&0xFFFFF) * float64(c.baud) / 1e6
	mhz := 26
	switch {
	case est > 45:
		mhz = 48
	case est > 33:
		mhz = 40
	}
	if d := est - float64(mhz); d > 1 || d < -1 {
		c.logf("warning: crystal estimate %.2f MHz is far from %d MHz", est, mhz)
	}
	return mhz, nil
}

// readMAC reads the factory MAC. ESP32: word1 holds the low four bytes and
// word2 bits 15:0 the high two, with a CRC8 (Dallas/Maxim, reflected 0x8C,
// init 0) over the six bytes in bits 23:16. Later chips: the low word at
// MACWord, the high two bytes in the next word's bits 15:0, no CRC.
func (c *Client) readMAC(ctx context.Context, chip *Chip) ([6]byte, error) {
	var mac [6]byte
	lo, err := c.ReadReg(ctx, chip.MACWord)
	if err != nil {
		return mac, err
	}
	hi, err := c.ReadReg(ctx, chip.MACWord+4)
	if err != nil {
		return mac, err
	}
	mac = [6]byte{byte(hi >> 8), byte(hi), byte(lo >> 24), byte(lo >> 16), byte(lo >> 8), byte(lo)}
	if chip.ID == 0 {
		if want, got := byte(hi>>16), crc8(mac[:]); want != got {
			return mac, fmt.Errorf("%w: %02x:%02x:%02x:%02x:%02x:%02x has CRC8 0x%02x in eFuse, computed 0x%02x: eFuse block 0 is corrupt or unprogrammed",
				ErrMACCRC, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], want, got)
		}
	}
	return mac, nil
}

// crc8 is the CRC the ESP32 stores beside its MAC (CRC-8/MAXIM).
func crc8(p []byte) byte {
	var crc byte
	for _, b := range p {
		crc ^= b
		for i := 0; i < 8; i++ {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x8C
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// requireChip returns the identified chip or an error telling the caller to
// run Identify first.
func (c *Client) requireChip() (*Chip, error) {
	if c.chip == nil {
		return nil, errors.New("chip not identified yet: call Identify after Connect")
	}
	return c.chip, nil
}
