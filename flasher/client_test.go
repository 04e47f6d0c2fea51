package flasher

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/rom"
)

// testTimeouts keep failure tests quick; the fake answers at once.
var testTimeouts = Timeouts{Default: 300 * time.Millisecond, Sync: 50 * time.Millisecond, Max: time.Second,
	EraseRegionPerMB: time.Millisecond, EraseWritePerMB: time.Millisecond, MD5PerMB: time.Millisecond}

func newTestClient(t *testing.T, chip string) (*Client, *fakeROM) {
	t.Helper()
	f, host := newFakeROM(t, chip)
	c := New(host, Options{Before: ResetNone, ConnectAttempts: 1, Timeouts: testTimeouts, Logf: t.Logf,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	return c, f
}

func connectIdentify(t *testing.T, c *Client) *ChipInfo {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := c.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestIdentify(t *testing.T) {
	tests := []struct {
		chip     string
		name     string
		desc     string
		rev      int
		features string
		chipID   int // -1: no security info
	}{
		{"esp32", "ESP32", "ESP32-D0WDQ6-V3 (revision v3.0)", 300, "Wi-Fi,BT,Dual Core,Coding Scheme None", -1},
		{"esp32c3", "ESP32-C3", "ESP32-C3 (QFN32) (revision v0.3)", 3, "Wi-Fi,BLE", 5},
	}
	for _, tt := range tests {
		t.Run(tt.chip, func(t *testing.T) {
			c, f := newTestClient(t, tt.chip)
			info := connectIdentify(t, c)
			if info.Name != tt.name || info.Description != tt.desc || info.Revision != tt.rev || info.CrystalMHz != 40 {
				t.Errorf("got %+v", info)
			}
			if got := strings.Join(info.Features, ","); got != tt.features {
				t.Errorf("features %q", got)
			}
			if info.MACString() != "24:0a:c4:12:34:56" {
				t.Errorf("MAC %s", info.MACString())
			}
			if info.FlashID != 0x1640c8 || info.FlashSize != 4<<20 {
				t.Errorf("flash id %#x size %d", info.FlashID, info.FlashSize)
			}
			if (info.Security == nil) != (tt.chipID < 0) || (info.Security != nil && int(info.Security.ChipID) != tt.chipID) {
				t.Errorf("security %+v", info.Security)
			}
			ops := f.ops()
			if ops[0] != rom.OpSync || ops[1] != rom.OpGetSecurityInfo {
				t.Errorf("ops start %v", ops[:2])
			}
			if tt.chip == "esp32" && (ops[2] != rom.OpReadReg) {
				t.Errorf("no magic read after the refused GET_SECURITY_INFO: %v", ops[:3])
			}
		})
	}
}

func TestMACCRC(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	f.regs[0x3FF5A008] = 0x00f6240a // CRC byte off by one
	if _, err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := c.Identify(context.Background())
	if !errors.Is(err, ErrMACCRC) {
		t.Fatalf("err = %v, want ErrMACCRC", err)
	}
}

func firmware(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		// Compressible, like code: a small alphabet with runs.
		b[i] = byte(r.IntN(16))
	}
	return b
}

func TestWriteRegions(t *testing.T) {
	for _, chip := range []string{"esp32", "esp32c3"} {
		for _, compress := range []bool{true, false} {
			t.Run(chip+map[bool]string{true: "/deflate", false: "/plain"}[compress], func(t *testing.T) {
				c, f := newTestClient(t, chip)
				connectIdentify(t, c)
				var progress []Progress
				c.opt.Progress = func(p Progress) { progress = append(progress, p) }
				boot, app := firmware(0x5123, 1), firmware(150_000, 2)
				regions := []Region{{"app", 0x10000, app}, {"bootloader", 0x1000, boot}}
				o := WriteOptions{Compress: compress, Verify: true, SkipUnchanged: true}
				reps, err := c.WriteRegions(context.Background(), regions, o)
				if err != nil {
					t.Fatal(err)
				}
				if len(reps) != 2 || reps[0].Name != "bootloader" || reps[0].Skipped || !reps[1].Verified {
					t.Fatalf("reports %+v", reps)
				}
				if !bytes.Equal(f.flash[0x1000:0x1000+len(boot)], boot) || !bytes.Equal(f.flash[0x10000:0x10000+len(app)], app) {
					t.Fatal("flash content differs")
				}
				if compress && reps[1].Wire >= len(app) {
					t.Errorf("compressed %d bytes to %d", len(app), reps[1].Wire)
				}
				if want := plainWire(len(app), DefaultSegmentSize, AutoBlockSize); !compress && reps[1].Wire != want {
					t.Errorf("plain wire bytes %d", reps[1].Wire)
				}
				last := progress[len(progress)-1]
				if last.Step != "verify" || last.Region != "app" {
					t.Errorf("last progress %+v", last)
				}
				for _, op := range f.ops() {
					if op == rom.OpFlashEnd || op == rom.OpFlashDeflEnd {
						t.Fatalf("sent %s to the ROM", op)
					}
				}
				// Second pass: unchanged regions are skipped.
				before := len(f.ops())
				reps, err = c.WriteRegions(context.Background(), regions, o)
				if err != nil || !reps[0].Skipped || !reps[1].Skipped {
					t.Fatalf("second write: %+v %v", reps, err)
				}
				if got := f.ops()[before:]; len(got) != 2 || got[0] != rom.OpSPIFlashMD5 {
					t.Fatalf("second write sent %v", got)
				}
			})
		}
	}
}

// plainWire is the bytes a plain write sends: each segment padded to whole blocks.
func plainWire(n, segment, block int) int {
	total := 0
	for n > 0 {
		s := min(n, segment)
		total += (s + block - 1) / block * block
		n -= s
	}
	return total
}

// TestWriteFallsBackToSmallBlocks models a ROM that refuses 4 KiB blocks:
// the automatic block size drops to 1 KiB for the rest of the write and the
// data still arrives intact.
func TestWriteFallsBackToSmallBlocks(t *testing.T) {
	for _, compress := range []bool{true, false} {
		c, f := newTestClient(t, "esp32c3")
		f.maxBlock = 0x400
		connectIdentify(t, c)
		boot, app := firmware(0x2345, 3), firmware(90_000, 4)
		reps, err := c.WriteRegions(context.Background(), []Region{{"bootloader", 0x0, boot}, {"app", 0x10000, app}},
			WriteOptions{Compress: compress, Verify: true})
		if err != nil {
			t.Fatalf("compress=%v: %v", compress, err)
		}
		if len(reps) != 2 || !reps[0].Verified || !reps[1].Verified {
			t.Fatalf("reports %+v", reps)
		}
		if !bytes.Equal(f.flash[:len(boot)], boot) || !bytes.Equal(f.flash[0x10000:0x10000+len(app)], app) {
			t.Fatal("flash content differs")
		}
		begins := 0
		for _, r := range f.requests() {
			if r.Op == rom.OpFlashBegin || r.Op == rom.OpFlashDeflBegin {
				b, _ := rom.ParseBegin(r.Op, r.Data)
				if begins == 0 && b.BlockSize != AutoBlockSize {
					t.Fatalf("first BEGIN used block size %#x, want %#x", b.BlockSize, AutoBlockSize)
				}
				if begins > 0 && b.BlockSize != FallbackBlockSize {
					t.Fatalf("BEGIN %d used block size %#x after the refusal", begins, b.BlockSize)
				}
				begins++
			}
		}
	}
}

func TestWriteUnalignedPadsDown(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	connectIdentify(t, c)
	copy(f.flash[0x20000:], []byte("old"))
	data := firmware(3000, 3)
	if _, err := c.WriteRegions(context.Background(), []Region{{"nvs", 0x20100, data}}, WriteOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.flash[0x20100:0x20100+3000], data) || !bytes.Equal(f.flash[0x20000:0x20100], bytes.Repeat([]byte{0xFF}, 0x100)) {
		t.Fatal("unaligned region not written as esptool does")
	}
}

func TestPrepareWriteRejects(t *testing.T) {
	tests := []struct {
		name string
		rs   []Region
		want string
	}{
		{"overlap", []Region{{"a", 0x1000, make([]byte, 0x2000)}, {"b", 0x2000, []byte{1}}}, "overlap"},
		{"shared sector", []Region{{"a", 0x1000, make([]byte, 0x100)}, {"b", 0x1800, []byte{1}}}, "sector"},
		{"empty", []Region{{"a", 0x1000, nil}}, "empty"},
	}
	for _, tt := range tests {
		if _, err := PrepareWrite(tt.rs, WriteOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestMD5AndReadFlash(t *testing.T) {
	c, f := newTestClient(t, "esp32c3")
	connectIdentify(t, c)
	data := firmware(1000, 4)
	copy(f.flash[0x3000:], data)
	sum, err := c.MD5(context.Background(), 0x3000, 1000)
	if err != nil || sum != md5.Sum(data) {
		t.Fatalf("md5 %x %v", sum, err)
	}
	var out bytes.Buffer
	if err := c.ReadFlash(context.Background(), 0x3000, 1000, &out); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("read flash: %v", err)
	}
	if n := strings.Count(fmtOps(f.ops()), "READ_FLASH_SLOW"); n != 16 {
		t.Fatalf("%d READ_FLASH_SLOW commands for 1000 bytes, want 16", n)
	}
}

func fmtOps(ops []rom.Op) string {
	var b strings.Builder
	for _, o := range ops {
		b.WriteString(o.String() + " ")
	}
	return b.String()
}

func TestEraseRegion(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	connectIdentify(t, c)
	copy(f.flash[0x9000:], []byte("nvs data"))
	if err := c.EraseRegion(context.Background(), 0x9000, 0x6000); err != nil {
		t.Fatal(err)
	}
	if f.flash[0x9000] != 0xFF {
		t.Fatal("not erased")
	}
	if err := c.EraseRegion(context.Background(), 0x9100, 0x1000); err == nil {
		t.Fatal("unaligned erase accepted")
	}
}

func TestChangeBaud(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	connectIdentify(t, c)
	if err := c.ChangeBaud(context.Background(), 921600); err != nil {
		t.Fatal(err)
	}
	_, _, baud := f.dev.Lines()
	if baud != 921600 || c.Baud() != 921600 {
		t.Fatalf("port baud %d client %d", baud, c.Baud())
	}
	for _, r := range f.reqs {
		if r.Op == rom.OpChangeBaudrate {
			n, o, _ := rom.ParseChangeBaud(r.Data)
			// 40 MHz by the ROM's own estimate: sent unscaled, second word 0.
			if n != 921600 || o != 0 {
				t.Fatalf("CHANGE_BAUDRATE (%d, %d)", n, o)
			}
		}
	}
}

func TestChangeBaudFailsBack(t *testing.T) {
	c, f := newTestClient(t, "esp32c3")
	connectIdentify(t, c)
	// The chip takes the command but never answers at the new rate.
	f.setFault(func(r rom.Request, n int) faultAction {
		if _, _, baud := f.dev.Lines(); baud != 115200 {
			return actIgnore
		}
		return actNormal
	})
	err := c.ChangeBaud(context.Background(), 460800)
	if err == nil || !strings.Contains(err.Error(), "staying at 115200") {
		t.Fatalf("err = %v", err)
	}
	if _, _, baud := f.dev.Lines(); baud != 115200 || c.Baud() != 115200 {
		t.Fatalf("baud after failure %d / %d", baud, c.Baud())
	}
}

func TestESP32ROMBaudScaling(t *testing.T) {
	tests := []struct {
		cal, ck8m uint32
		want      uint32
	}{
		{0x00028000, 0x50, 921600},           // 40 MHz by the ROM's estimate: unscaled
		{0x00026000, 0x50, 875520},           // ROM thinks 38 MHz: 921600 × 38/40
		{0x00019000, 0x50, 921600 * 25 / 26}, // 25 MHz estimate on a 26 MHz crystal
		{0, 0, 921600},                       // all-zero eFuse: sent unscaled, not 0
	}
	for _, tt := range tests {
		c, f := newTestClient(t, "esp32")
		f.regs[esp32RTCCaliCfg1], f.regs[esp32EfuseWord4] = tt.cal, tt.ck8m
		connectIdentify(t, c)
		got, err := c.esp32ROMBaud(context.Background(), 921600)
		if err != nil || got != tt.want {
			t.Errorf("cal %#x ck8m %#x: sent %d, want %d (%v)", tt.cal, tt.ck8m, got, tt.want, err)
		}
	}
}

func TestCrystalEstimate(t *testing.T) {
	for div, want := range map[uint32]int{0x15a: 40, 0xe2: 26, 0x1a0: 48} {
		c, f := newTestClient(t, "esp32")
		f.regs[0x3FF40014] = div
		info := connectIdentify(t, c)
		if info.CrystalMHz != want {
			t.Errorf("UART_CLKDIV %#x: %d MHz, want %d", div, info.CrystalMHz, want)
		}
	}
}

func TestFlashSizeFromID(t *testing.T) {
	for id, want := range map[uint32]uint32{0x1640c8: 4 << 20, 0x1840ef: 16 << 20, 0x2020c2: 64 << 20, 0x3a60c2: 64 << 20, 0x3260c2: 256 << 10} {
		if got, ok := FlashSizeFromID(id); !ok || got != want {
			t.Errorf("%#x: %d", id, got)
		}
	}
	if got, ok := FlashSizeFromID(0xff40c8); ok || got != 4<<20 {
		t.Errorf("unknown capacity: %d %v", got, ok)
	}
}
