package flasher

import (
	"context"
	"fmt"
	"time"

	"fleetline/flasher/rom"
)

// ESP32 registers behind the ROM's baud-rate arithmetic.
const (
	esp32RTCCaliCfg1 = 0x3FF5F06C // bits 31:7: RTC slow clock calibration
	esp32EfuseWord4  = 0x3FF5A010 // bits 7:0: CK8M frequency
)

// ChangeBaud switches both ends to baud: CHANGE_BAUDRATE (answered at the
// old rate), then the host port. The ESP32 ROM computes its divider from
// its own, drifting 8 MHz clock estimate, so as esptool does the rate sent
// is scaled by that estimate over the true crystal. The new rate is checked
// with a register read; if that fails the host returns to the old rate and
// the error says so.
func (c *Client) ChangeBaud(ctx context.Context, baud int) error {
	if baud <= 0 {
		return fmt.Errorf("change baud: invalid rate %d", baud)
	}
	if baud == c.baud {
		return nil
	}
	old := c.baud
	sent := uint32(baud)
	second := uint32(0)
	if c.stub {
		second = uint32(old)
	} else if c.chip != nil && c.chip.ID == 0 {
		var err error
		if sent, err = c.esp32ROMBaud(ctx, baud); err != nil {
			return fmt.Errorf("change baud to %d: %w", baud, err)
		}
	}
	if _, _, err := c.command(ctx, rom.OpChangeBaudrate, c.to.Default, 0, 0, rom.ChangeBaudData(sent, second)); err != nil {
		return fmt.Errorf("change baud to %d: %w", baud, err)
	}
	if err := c.port.SetBaud(baud); err != nil {
		_ = c.port.SetBaud(old)
		return fmt.Errorf("change baud to %d: set host port: %w", baud, err)
	}
	c.baud = baud
	// The chip switches after replying; bytes in flight meanwhile are garbage.
	if err := c.sleep(ctx, 50*time.Millisecond); err != nil {
		return err
	}
	if err := c.flushInput(); err != nil {
		return err
	}
	if _, err := c.ReadReg(ctx, MagicAddr); err != nil {
		if fatal(err) {
			return fmt.Errorf("change baud to %d: %w", baud, err)
		}
		_ = c.port.SetBaud(old)
		c.baud = old
		_ = c.flushInput()
		if _, err2 := c.ReadReg(ctx, MagicAddr); err2 != nil {
			return fmt.Errorf("change baud to %d: no reply at the new rate (%v) nor back at %d (%v)", baud, err, old, err2)
		}
		return fmt.Errorf("change baud to %d: no reply at the new rate (%w); staying at %d", baud, err, old)
	}
	c.logf("baud rate now %d", baud)
	return nil
}

// esp32ROMBaud scales baud as the ESP32 ROM will misread it: the ROM's own
// crystal estimate is cali × 15625 × ck8m / 40; the true crystal is 40 MHz
// when that estimate is above 33 MHz, else 26 MHz.
func (c *Client) esp32ROMBaud(ctx context.Context, baud int) (uint32, error) {
	cal, err := c.ReadReg(ctx, esp32RTCCaliCfg1)
	if err != nil {
		return 0, err
	}
	w4, err := c.ReadReg(ctx, esp32EfuseWord4)
	if err != nil {
		return 0, err
	}
	romXtal := float64(cal>>7&0x1FFFFFF) * 15625 * float64(w4&0xFF) / 40
	if romXtal == 0 {
		// esptool would send 0 here; a rate of 0 would leave the ROM unreachable.
		c.logf("warning: ESP32 RTC calibration or CK8M eFuse reads 0; sending %d unscaled", baud)
		return uint32(baud), nil
	}
	valid := 26e6
	if romXtal > 33e6 {
		valid = 40e6
	}
	return uint32(float64(baud) * romXtal / valid), nil
}
