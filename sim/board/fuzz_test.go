package board

import (
	"errors"
	"testing"
	"time"

	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

// FuzzLoader throws arbitrary host bytes at a synced ROM loader. Whatever
// arrives, the board must not panic or hang, and everything it sends back
// must be well-formed response frames (or the two c0 c0 delimiters of a
// baud change or reboot and the banner after it).
func FuzzLoader(f *testing.F) {
	for _, seed := range [][]byte{
		slip.Encode(rom.Request{Op: rom.OpReadReg, Data: rom.ReadRegData(0x40001000)}.AppendBinary(nil)),
		slip.Encode(rom.NewRequest(rom.OpFlashBegin, rom.Begin{Size: 0x400, Blocks: 1, BlockSize: 0x400}.Marshal()).AppendBinary(nil)),
		slip.Encode(rom.NewRequest(rom.OpSPIFlashMD5, rom.MD5Data(0, 0x100)).AppendBinary(nil)),
		{0xC0, 0x00, 0x0A, 0x04, 0xC0},
		{0xC0, 0xDB, 0x00, 0xC0, 0xC0, 0xFF},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := New(Config{Chip: "esp32c3"})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		p, _ := b.Open()
		c := &romClient{t: t, b: b, p: p, r: slip.NewReader(p)}
		c.resetDownload()
		c.sync()
		p.Flush()
		if _, err := p.Write(in); err != nil {
			t.Fatal(err)
		}
		p.SetReadTimeout(time.Millisecond)
		var dec slip.Decoder
		buf := make([]byte, 4096)
		for {
			n, err := p.Read(buf)
			dec.Feed(buf[:n])
			if errors.Is(err, portio.ErrTimeout) {
				break
			}
		}
		for {
			fr, err, ok := dec.Next()
			if !ok {
				break
			}
			if err != nil {
				t.Fatalf("malformed frame from the board: %v", err)
			}
			if _, err := rom.ParseResponse(fr); err != nil {
				t.Fatalf("bad response % x: %v", fr, err)
			}
		}
	})
}
