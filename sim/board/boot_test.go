package board

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"fleetline/firmware"
	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
)

// flashFirmware puts a bootloader, the default partition table and an app
// straight into a board's flash, as a programmer would.
func flashFirmware(t *testing.T, b *Board, app []byte) {
	t.Helper()
	chip := b.p.imageChipID
	bl, err := firmware.BuildBootloader(firmware.BootloaderSpec{Chip: chip})
	must(t, err)
	pt, err := firmware.DefaultPartitionTable().MarshalBinary()
	must(t, err)
	if app == nil {
		app, err = firmware.BuildApp(firmware.AppSpec{Chip: chip, Size: 64 << 10, ProjectName: "blink", Version: "2.0.1"})
		must(t, err)
	}
	f := b.flash
	must(t, f.erase(0, 0x30000+uint32(len(app))/SectorSize*SectorSize))
	must(t, f.program(b.p.bootOffset, bl))
	must(t, f.program(firmware.PartitionTableOffset, pt))
	must(t, f.program(0x20000, app))
}

// readUntil reads from r until the accumulated text contains want.
func readUntil(t *testing.T, r io.Reader, want string) string {
	t.Helper()
	var got []byte
	buf := make([]byte, 1024)
	for !bytes.Contains(got, []byte(want)) {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("waiting for %q: %v; got %q", want, err, got)
		}
	}
	return string(got)
}

func hardReset(t *testing.T, p *Port) {
	t.Helper()
	must(t, p.SetLines(false, true))
	must(t, p.SetLines(false, false))
}

func TestBootFromFlashRunsApp(t *testing.T) {
	for _, chip := range Chips() {
		t.Run(chip, func(t *testing.T) {
			started := make(chan Device, 1)
			app := AppFunc(func(ctx context.Context, dev Device) error {
				started <- dev
				io.WriteString(dev.Console(), "hello from app\r\n")
				buf := make([]byte, 16)
				n, err := dev.Console().Read(buf)
				if err != nil {
					return nil // reset
				}
				io.WriteString(dev.Console(), "echo:"+string(buf[:n])+"\r\n")
				<-ctx.Done()
				return nil
			})
			b := newBoard(t, Config{Chip: chip, App: app})
			flashFirmware(t, b, nil)
			p, err := b.Open()
			must(t, err)
			p.SetReadTimeout(2 * time.Second)
			hardReset(t, p)
			log := readUntil(t, p, "hello from app\r\n")
			for _, want := range []string{
				b.p.banner(resetPowerOn, false), "entry 0x", "2nd stage bootloader", "Partition Table:",
				" 3 factory          factory app      00 00 00020000 001e0000",
				"Loaded app from partition at offset 0x20000", "Project name:     blink", "App version:      2.0.1",
				"Calling app_main()",
			} {
				if !strings.Contains(log, want) {
					t.Errorf("boot log lacks %q:\n%s", want, log)
				}
			}
			dev := <-started
			if dev.Identity().MAC != b.Identity().MAC || dev.Flash().Size() != b.flash.Size() {
				t.Fatal("device identity/flash")
			}
			_, err = p.Write([]byte("ping"))
			must(t, err)
			readUntil(t, p, "echo:ping")
			// A download-mode reset cancels the app.
			must(t, p.SetLines(false, true))
			if _, err := dev.Console().Write([]byte("x")); err == nil {
				t.Fatal("console write after reset succeeded")
			}
		})
	}
}

func TestBootFailures(t *testing.T) {
	good, err := firmware.BuildApp(firmware.AppSpec{Chip: firmware.ChipESP32, Size: 8 << 10})
	must(t, err)
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)/2] ^= 0xFF
	wrongChip, err := firmware.BuildApp(firmware.AppSpec{Chip: firmware.ChipESP32C3, Size: 8 << 10})
	must(t, err)
	cases := []struct {
		name  string
		setup func(b *Board)
		want  string
	}{
		{"empty flash", func(*Board) {}, "invalid header: 0xffffffff\r\ninvalid header: 0xffffffff\r\n"},
		{"no app", func(b *Board) { flashFirmware(t, b, good); b.flash.erase(0x20000, 0x10000) },
			"image at 0x20000 has invalid magic byte"},
		{"corrupt app", func(b *Board) { flashFirmware(t, b, corrupt) }, "esp_image: "},
		{"wrong chip", func(b *Board) { flashFirmware(t, b, wrongChip) }, "Mismatch chip id, expected 0, found 5"},
		{"bad table", func(b *Board) {
			flashFirmware(t, b, good)
			b.flash.erase(0x8000, 0x1000)
			b.flash.program(0x8000, []byte{1, 2, 3})
		},
			"load partition table error!"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			b := newBoard(t, Config{App: AppFunc(func(context.Context, Device) error { ran = true; return nil })})
			tc.setup(b)
			p, err := b.Open()
			must(t, err)
			hardReset(t, p)
			readUntil(t, p, tc.want)
			if b.Mode() != "halted" || ran {
				t.Fatalf("mode %s, app ran %v", b.Mode(), ran)
			}
		})
	}
}

func TestAppErrorAndRestart(t *testing.T) {
	runs := make(chan Device, 4)
	b := newBoard(t, Config{App: AppFunc(func(ctx context.Context, dev Device) error {
		runs <- dev
		<-ctx.Done()
		return nil
	})})
	flashFirmware(t, b, nil)
	p, err := b.Open()
	must(t, err)
	p.SetReadTimeout(2 * time.Second)
	hardReset(t, p)
	dev := <-runs
	dev.Restart()
	readUntil(t, p, "rst:0xc (SW_CPU_RESET),boot:0x13")
	<-runs

	b2 := newBoard(t, Config{App: AppFunc(func(context.Context, Device) error { return errors.New("self test failed") })})
	flashFirmware(t, b2, nil)
	p2, err := b2.Open()
	must(t, err)
	hardReset(t, p2)
	if log := readUntil(t, p2, "Guru Meditation Error"); !strings.Contains(log, "self test failed") {
		t.Fatalf("%q", log)
	}
}

func TestFlashEndRebootAndRunUserCode(t *testing.T) {
	c := connect(t, Config{})
	c.sync()
	c.ok(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0, Blocks: 0, BlockSize: 0x400, Offset: 0}), 0)
	c.ok(rom.OpFlashEnd, rom.EndData(false), 0)
	// c0 c0, then the banner of a software reset; GPIO0 is high again, so
	// it boots from (empty) flash.
	got := c.text("invalid header")
	if !strings.Contains(got, "waiting for download\r\nets Jun  8 2016 00:22:57\r\n\r\nrst:0x3 (SW_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n") {
		t.Fatalf("%q", got)
	}

	c = connect(t, Config{})
	c.sync()
	c.ok(rom.OpFlashEnd, rom.EndData(true), 0)
	c.text("flash read err, 631\r\nFalling back to built-in command interpreter.\r\nOK\r\n>")
}

func TestClassicResetNeedsPromptLines(t *testing.T) {
	b := newBoard(t, Config{})
	p, err := b.Open()
	must(t, err)
	// esptool's classic sequence with separate DTR and RTS calls goes
	// through "both asserted" (EN high!) before GPIO0 is pulled low; the
	// RC delay on EN hides that when the calls follow each other quickly.
	must(t, p.SetDTR(false))
	must(t, p.SetRTS(true))
	must(t, p.SetDTR(true))
	must(t, p.SetRTS(false))
	readUntil(t, p, "waiting for download")
	must(t, p.SetDTR(false))
	if b.Mode() != "download" {
		t.Fatal(b.Mode())
	}
}

func TestBootModeFault(t *testing.T) {
	c := connect(t, Config{Faults: Faults{BootMode: true}})
	readUntil(t, c.p, "boot:0x13 (SPI_FAST_FLASH_BOOT)")
	if c.b.Mode() == "download" {
		t.Fatal("entered download mode with GPIO0 not pulled")
	}
}

func TestPortSemantics(t *testing.T) {
	b := newBoard(t, Config{})
	p, err := b.Open()
	must(t, err)
	if _, err := b.Open(); !errors.Is(err, ErrBusy) {
		t.Fatalf("second open: %v", err)
	}
	p.SetReadTimeout(10 * time.Millisecond)
	if _, err := p.Read(make([]byte, 1)); !errors.Is(err, portio.ErrTimeout) {
		t.Fatalf("idle read: %v", err)
	}
	must(t, p.Close())
	if _, err := p.Read(make([]byte, 1)); !errors.Is(err, portio.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	p2, err := b.Open()
	must(t, err)
	b.Close()
	if _, err := p2.Write([]byte{1}); !errors.Is(err, portio.ErrClosed) {
		t.Fatalf("write after power off: %v", err)
	}
}

// text returns what arrived outside SLIP frames until it contains want,
// starting with what the frame reader already set aside.
func (c *romClient) text(want string) string {
	c.t.Helper()
	got := string(c.r.Decoder().Noise())
	if strings.Contains(got, want) {
		return got
	}
	return got + readUntil(c.t, c.p, want)
}

func TestPressReset(t *testing.T) {
	b := newBoard(t, Config{})
	p, err := b.Open()
	must(t, err)
	b.PressReset(true)
	readUntil(t, p, "waiting for download")
	b.PressReset(false)
	readUntil(t, p, "invalid header")
}
