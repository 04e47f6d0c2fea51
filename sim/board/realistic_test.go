package board

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"testing"

	"fleetline/flasher/rom"
)

// TestRealisticTimingWorks runs a short session with realistic timing on
// every bridge. It asserts behaviour, not durations (those are in the
// benchmarks): replies arrive in order, the baud change holds, and the
// write lands.
func TestRealisticTimingWorks(t *testing.T) {
	if testing.Short() {
		t.Skip("real time passes")
	}
	for _, br := range []string{"cp2102n", "ftdi", "ch340", "usb-jtag"} {
		t.Run(br, func(t *testing.T) {
			t.Parallel()
			c := connect(t, Config{Timing: Realistic, Bridge: br, Chip: "esp32c3"})
			c.sync()
			c.ok(rom.OpChangeBaudrate, rom.ChangeBaudData(921600, 0), 0)
			must(t, c.p.SetBaud(921600))
			c.p.Flush()
			c.r.Decoder().Reset()
			c.sync()
			data := bytes.Repeat([]byte{0xC0, 0xDB, 0x42}, 1000) // escapes on the wire too
			c.writeFlash(0x1000, data)
			sum := md5.Sum(data)
			if got := c.md5(0x1000, uint32(len(data))); got != hex.EncodeToString(sum[:]) {
				t.Fatal("md5")
			}
		})
	}
}
