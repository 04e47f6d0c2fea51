package flasher

import (
	"context"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/portio"
)

func FuzzParseBanner(f *testing.F) {
	f.Add([]byte("ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"))
	f.Add([]byte("ESP-ROM:esp32c3-api1-20210207\r\nrst:0x1 (POWERON),boot:0x4 (DOWNLOAD(USB/UART0/1))\r\nwait uart download(secure mode)\r\nwaiting for download\r\n"))
	f.Add([]byte("boot:0xffffffffffff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var info ConnectInfo
		parseBanner(b, &info)
		if info.DownloadMode && info.BootMode < 0 {
			t.Fatal("download mode without a boot value")
		}
		if info.BootMode >= 0 && !strings.Contains(string(b), "boot:0x") {
			t.Fatal("boot mode from nowhere")
		}
	})
}

// FuzzReplies feeds arbitrary chip output to the command engine: whatever
// arrives, a command ends with a result or an error, never a panic or hang.
func FuzzReplies(f *testing.F) {
	f.Add([]byte("\xc0\x01\x0a\x04\x00\x83\x1d\xf0\x00\x00\x00\x00\x00\xc0"))
	f.Add([]byte("\xc0\x01\x08\x04\x00\x07\x07\x12\x20\x01\x05\x00\x00\xc0"))
	f.Add([]byte("\xc0\x01\x13\x24\x00\x00\x00\x00\x00" + strings.Repeat("a", 32) + "\x00\x00\x00\x00\xc0"))
	f.Add([]byte("\xc0\x01\x14\x18\x00\x00\x00\x00\x00" + strings.Repeat("\x00", 12) + "\x05\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\xc0"))
	f.Add([]byte("\xc0\xdb\x01\xc0\xc0\xc0garbage\xc0\x01\x0e\x44\x00"))
	f.Fuzz(func(t *testing.T, out []byte) {
		for _, cmd := range []func(*Client) error{
			func(c *Client) error { _, err := c.ReadReg(context.Background(), MagicAddr); return err },
			func(c *Client) error { _, err := c.MD5(context.Background(), 0, 16); return err },
			func(c *Client) error { _, err := c.SecurityInfo(context.Background()); return err },
			func(c *Client) error { return c.Sync(context.Background()) },
		} {
			host, dev := portio.Pipe()
			dev.Write(out)
			c := New(host, Options{Timeouts: Timeouts{Default: 5 * time.Millisecond, Sync: 5 * time.Millisecond}})
			_ = cmd(c)
			host.Close()
		}
	})
}
