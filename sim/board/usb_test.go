package board

import (
	"strings"
	"testing"
)

func TestUSBSerialJTAG(t *testing.T) {
	if _, err := New(Config{Chip: "esp32", Bridge: "usb-jtag"}); err == nil {
		t.Fatal("an ESP32 with a USB-Serial/JTAG port")
	}
	for _, chip := range []string{"esp32c3", "esp32s3"} {
		t.Run(chip, func(t *testing.T) {
			b := newBoard(t, Config{Chip: chip, Bridge: "usb-jtag"})
			p, err := b.Open()
			must(t, err)
			// esptool's USBJTAGSerialReset, one line at a time.
			for _, s := range []struct{ dtr, rts bool }{{false, false}, {true, false}, {true, true}, {false, true}, {false, false}} {
				must(t, p.SetLines(s.dtr, s.rts))
			}
			log := readUntil(t, p, "waiting for download")
			if want := "rst:0x15 (USB_UART_CHIP_RESET)"; !strings.Contains(log, want) {
				t.Fatalf("%q lacks %q", log, want)
			}
			c := &romClient{t: t, b: b, p: p, r: slipReader(p)}
			must(t, p.SetBaud(9600)) // ignored on USB
			c.sync()
			want := uint32(3)
			if chip == "esp32s3" {
				want = 4
			}
			if got := c.readReg(b.p.uartDevBufNo); got != want {
				t.Fatalf("UARTDEV_BUF_NO %d, want %d", got, want)
			}
			// A plain RTS pulse restarts from flash.
			must(t, p.SetLines(false, true))
			must(t, p.SetLines(false, false))
			readUntil(t, p, "invalid header")
		})
	}
}
