package board

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

// erasedHeaders is what an erased board prints after its flash-boot banner.
var erasedHeaders = strings.Repeat("invalid header: 0xffffffff\r\n", invalidHeaderRepeats)

// powerOnBanners are the ROMs' flash-boot power-on banners, as real chips
// print them (esp32-rom-observed.md).
var powerOnBanners = map[string]string{
	"esp32":   "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n",
	"esp32s3": "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\nrst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)\r\n",
	"esp32c3": "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\nrst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n",
}

// macRegs are the eFuse words holding the MAC's low four and high two bytes.
var macRegs = map[string][2]uint32{
	"esp32":   {0x3FF5A004, 0x3FF5A008},
	"esp32s3": {0x60007044, 0x60007048},
	"esp32c3": {0x60008844, 0x60008848},
}

// drain reads whatever the board has sent until it stays quiet; in instant
// mode everything sent is in the buffer already, so the timeout only ends
// the loop.
func drain(t *testing.T, p *Port) string {
	t.Helper()
	must(t, p.SetReadTimeout(20*time.Millisecond))
	defer p.SetReadTimeout(2 * time.Second)
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := p.Read(buf)
		got = append(got, buf[:n]...)
		if errors.Is(err, portio.ErrTimeout) {
			return string(got)
		}
		must(t, err)
	}
}

// identify reads the MAC out of the eFuse registers over the wire.
func (c *romClient) identify() [6]byte {
	c.t.Helper()
	r := macRegs[c.b.p.name]
	lo, hi := c.readReg(r[0]), c.readReg(r[1])
	return [6]byte{byte(hi >> 8), byte(hi), byte(lo >> 24), byte(lo >> 16), byte(lo >> 8), byte(lo)}
}

func erasedMD5(n int) string {
	s := md5.Sum(bytes.Repeat([]byte{0xFF}, n))
	return hex.EncodeToString(s[:])
}

func TestSwapPowersOnTheNextBoard(t *testing.T) {
	for _, chip := range Chips() {
		t.Run(chip, func(t *testing.T) {
			b := newBoard(t, Config{Chip: chip, Seed: 7, Index: 2})
			flashFirmware(t, b, nil)
			old := b.Identity()
			// A passive open: lines released, 115200, nothing reset.
			p, err := b.Open()
			must(t, err)
			p.SetReadTimeout(2 * time.Second)
			must(t, b.Swap())
			if got, want := drain(t, p), powerOnBanners[chip]+erasedHeaders; got != want {
				t.Fatalf("after swap the host read\n%q\nwant\n%q", got, want)
			}
			id := b.Identity()
			if id.MAC == old.MAC {
				t.Fatalf("swapped board kept MAC %s", id.MACString())
			}
			if want, _ := deriveIdentity(b.p, 7, 2, 1, 4<<20); id != want {
				t.Fatalf("identity %+v, want %+v", id, want)
			}
			if b.Swaps() != 1 || b.Resets() != 0 || b.Mode() != "halted" {
				t.Fatalf("swaps %d resets %d mode %s", b.Swaps(), b.Resets(), b.Mode())
			}
			buf := make([]byte, 0x30000)
			if _, err := b.Flash().ReadAt(buf, 0); err != nil || !allFF(buf) {
				t.Fatalf("new board's flash not erased (%v)", err)
			}

			// A flasher finds the new board over the wire.
			c := &romClient{t: t, b: b, p: p, r: slip.NewReader(p)}
			c.resetDownload()
			c.text("waiting for download")
			c.sync()
			if got := c.identify(); got != id.MAC {
				t.Fatalf("eFuse MAC % x, want % x", got, id.MAC)
			}
			if got := c.md5(0, 0x40000); got != erasedMD5(0x40000) {
				t.Fatalf("flash MD5 %s, want erased", got)
			}
			if b.Resets() != 1 {
				t.Fatalf("resets %d after one reset into the loader", b.Resets())
			}
		})
	}
}

func TestSwapIdentitiesUniqueAndDeterministic(t *testing.T) {
	for _, chip := range []string{"esp32", "esp32c3"} {
		p := chipProfiles[chip]
		seen := map[[6]byte][2]int{}
		for i := 0; i < 64; i++ {
			for g := 0; g < 64; g++ {
				id, _ := deriveIdentity(p, 42, i, g, 4<<20)
				if prev, dup := seen[id.MAC]; dup {
					t.Fatalf("%s: position %d swap %d and position %d swap %d share MAC %s", chip, prev[0], prev[1], i, g, id.MACString())
				}
				seen[id.MAC] = [2]int{i, g}
			}
		}
	}
	// The same seed and swap sequence give the same boards.
	macs := func() []string {
		b := newBoard(t, Config{Seed: 42, Index: 5})
		out := []string{b.MAC()}
		for i := 0; i < 3; i++ {
			must(t, b.Swap())
			out = append(out, b.MAC())
		}
		return out
	}
	a, c := macs(), macs()
	if strings.Join(a, " ") != strings.Join(c, " ") {
		t.Fatalf("swap sequences differ: %v and %v", a, c)
	}
	if first, _ := deriveIdentity(chipProfiles["esp32"], 42, 5, 0, 4<<20); a[0] != first.MACString() {
		t.Fatalf("the first board's MAC moved: %s, want %s", a[0], first.MACString())
	}
}

func TestSwapDiscardsTheRunningApp(t *testing.T) {
	done := make(chan error, 1)
	app := AppFunc(func(ctx context.Context, dev Device) error {
		io.WriteString(dev.Console(), "old board\r\n")
		<-ctx.Done()
		_, err := io.WriteString(dev.Console(), "old board, late\r\n")
		_, rerr := dev.Console().Read(make([]byte, 1))
		if rerr != io.EOF {
			err = errors.Join(err, errors.New("console read after swap did not end"))
		}
		done <- err
		return nil
	})
	b := newBoard(t, Config{App: app})
	flashFirmware(t, b, nil)
	p, err := b.Open()
	must(t, err)
	p.SetReadTimeout(2 * time.Second)
	hardReset(t, p)
	(&romClient{t: t, b: b, p: p}).latch()
	readUntil(t, p, "old board\r\n")
	oldMAC := b.MAC()
	must(t, b.Swap())
	if err := <-done; err == nil {
		t.Fatal("the old app's console still wrote after the swap")
	}
	got := drain(t, p)
	i := strings.LastIndex(got, powerOnBanners["esp32"])
	if i < 0 || got[i:] != powerOnBanners["esp32"]+erasedHeaders {
		t.Fatalf("after the swap the host read %q", got)
	}
	if strings.Contains(got, "old board") || b.MAC() == oldMAC || b.Mode() != "halted" {
		t.Fatalf("old board leaked: %q (mac %s, mode %s)", got, b.MAC(), b.Mode())
	}
}

func TestSwapMidLoaderCommand(t *testing.T) {
	c := connect(t, Config{Chip: "esp32c3"})
	c.sync()
	c.ok(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x800, Blocks: 2, BlockSize: 0x400, Offset: 0x10000}), 0)
	c.ok(rom.OpFlashData, rom.DataBlock(0, bytes.Repeat([]byte{0x11}, 0x400)), 0)
	// Half of the second block is on its way when the board goes.
	frame := framed(rom.OpFlashData, rom.DataBlock(1, bytes.Repeat([]byte{0x22}, 0x400)))
	_, err := c.p.Write(frame[:len(frame)/2])
	must(t, err)
	must(t, c.b.Swap())
	if got, want := drain(t, c.p), powerOnBanners["esp32c3"]+erasedHeaders; got != want {
		t.Fatalf("after swap the host read %q, want %q", got, want)
	}
	// The new board's loader starts afresh: no half frame, no session.
	c.r = slip.NewReader(c.p)
	c.resetDownload()
	c.text("waiting for download")
	c.sync()
	c.fails(rom.OpFlashData, rom.DataBlock(1, bytes.Repeat([]byte{0x22}, 0x400)), 0, rom.ErrBadMessage)
	if got := c.md5(0x10000, 0x1000); got != erasedMD5(0x1000) {
		t.Fatalf("flash MD5 %s, want erased", got)
	}
}

func TestSwapRealisticDropsTheOldReply(t *testing.T) {
	c := connect(t, Config{Timing: Realistic})
	c.sync()
	// FLASH_BEGIN over 256 KiB erases for about 600 ms before replying: the
	// board is swapped while the ROM is at it.
	c.send(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x40000, Blocks: 0x100, BlockSize: 0x400, Offset: 0}))
	must(t, c.b.Swap())
	got := readUntil(t, c.p, powerOnBanners["esp32"]+erasedHeaders)
	if strings.ContainsRune(got, slip.End) {
		t.Fatalf("a reply of the old board reached the host: %q", got)
	}
	b := c.b
	b.mu.Lock()
	b.materializeLocked(time.Now())
	pending := len(b.hostQ) + len(b.hostBuf)
	b.mu.Unlock()
	if pending != 0 {
		t.Fatalf("%d bytes still on their way to the host after the new board's boot log", pending)
	}
	c.resetDownload()
	c.text("waiting for download")
	c.sync()
	if got := c.identify(); got != b.Identity().MAC {
		t.Fatalf("eFuse MAC % x, want % x", got, b.Identity().MAC)
	}
}

func TestSwapWithLinesHeld(t *testing.T) {
	b := newBoard(t, Config{})
	p, err := b.Open()
	must(t, err)
	p.SetReadTimeout(2 * time.Second)

	// RTS holding EN low: the new board stays in reset until it is let go.
	must(t, p.SetLines(false, true))
	must(t, b.Swap())
	if got := drain(t, p); got != "" || b.Mode() != "reset" || b.Resets() != 0 {
		t.Fatalf("held in reset: read %q, mode %s, resets %d", got, b.Mode(), b.Resets())
	}
	must(t, p.SetLines(false, false))
	c := &romClient{t: t, b: b, p: p}
	c.latch()
	if got, want := drain(t, p), powerOnBanners["esp32"]+erasedHeaders; got != want || b.Resets() != 0 {
		t.Fatalf("released: read %q (want %q), resets %d", got, want, b.Resets())
	}

	// DTR holding GPIO0 low: the new board comes up in the loader.
	must(t, p.SetLines(true, false))
	must(t, b.Swap())
	want := "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n"
	if got := drain(t, p); got != want || b.Mode() != "download" || b.Resets() != 0 {
		t.Fatalf("GPIO0 held: read %q, mode %s, resets %d", got, b.Mode(), b.Resets())
	}
}

func TestSwapClearsFaults(t *testing.T) {
	c := connect(t, Config{Faults: Faults{NoSync: true, UnplugAfter: time.Hour, Drop: 0.5}})
	c.send(rom.OpSync, rom.SyncData) // starts the unplug timer
	must(t, c.b.Swap())
	c.b.mu.Lock()
	timers := len(c.b.faultTmrs)
	c.b.mu.Unlock()
	if timers != 0 {
		t.Fatalf("%d fault timers of the old board still armed", timers)
	}
	c.resetDownload()
	c.text("waiting for download")
	c.sync()
}

func TestResetsCountsWhatResetTheBoard(t *testing.T) {
	b := newBoard(t, Config{Faults: Faults{BrownoutAfterBytes: 4}})
	count := func(step string, want int) {
		t.Helper()
		if got := b.Resets(); got != want {
			t.Fatalf("%s: resets %d, want %d", step, got, want)
		}
	}
	count("power-on", 0)
	p, err := b.Open()
	must(t, err)
	p.SetReadTimeout(2 * time.Second)
	drain(t, p)
	must(t, p.Close())
	count("passive open, read and close", 0)
	p, err = b.Open()
	must(t, err)
	p.SetReadTimeout(2 * time.Second)
	c := &romClient{t: t, b: b, p: p, r: slip.NewReader(p)}
	hardReset(t, p)
	c.latch()
	count("EN pulse", 1)
	must(t, p.SetLines(false, true))
	count("EN held low", 2)
	must(t, p.SetLines(false, false))
	c.latch()
	count("EN released", 2)
	c.resetDownload()
	count("reset into the loader", 3)
	b.PressReset(false)
	count("EN button", 4)
	_, err = p.Write([]byte("ping")) // the brown-out fault fires
	must(t, err)
	readUntil(t, p, "BROWNOUT_RST")
	count("brown-out", 5)
	must(t, b.Swap())
	count("swap", 0)

	restarted := make(chan struct{})
	var runs int
	app := AppFunc(func(ctx context.Context, dev Device) error {
		if runs++; runs == 1 {
			dev.Restart()
		} else {
			close(restarted)
		}
		return nil
	})
	a := newBoard(t, Config{App: app})
	flashFirmware(t, a, nil)
	a.PressReset(false)
	<-restarted
	if got := a.Resets(); got != 2 {
		t.Fatalf("EN button and esp_restart: resets %d, want 2", got)
	}

	u := newBoard(t, Config{Chip: "esp32s3", Bridge: "usb-jtag"})
	up, err := u.Open()
	must(t, err)
	uc := &romClient{t: t, b: u, p: up}
	uc.resetDownload()
	if got := u.Resets(); got != 1 {
		t.Fatalf("USB-Serial/JTAG reset: resets %d, want 1", got)
	}
}

func TestSwapUSBJTAGRefused(t *testing.T) {
	b := newBoard(t, Config{Chip: "esp32c3", Bridge: "usb-jtag"})
	mac := b.MAC()
	if err := b.Swap(); !errors.Is(err, ErrSwapUSBJTAG) {
		t.Fatalf("swap on USB-Serial/JTAG: %v", err)
	}
	if b.MAC() != mac || b.Swaps() != 0 {
		t.Fatal("a refused swap changed the board")
	}
	closed := newBoard(t, Config{})
	must(t, closed.Close())
	if err := closed.Swap(); !errors.Is(err, portio.ErrClosed) {
		t.Fatalf("swap on a closed board: %v", err)
	}
}

func TestSwapStateDir(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{StateDir: dir, Index: 3, Seed: 1}
	b1, err := New(cfg)
	must(t, err)
	must(t, b1.flash.program(0x10000, []byte("the old board's firmware")))
	must(t, b1.Swap())
	swapped := b1.Identity()
	must(t, b1.Close())

	b2, err := New(cfg)
	must(t, err)
	defer b2.Close()
	if b2.Identity() != swapped || b2.Swaps() != 1 {
		t.Fatalf("after restart: identity %+v swaps %d, want %+v swaps 1", b2.Identity(), b2.Swaps(), swapped)
	}
	got := make([]byte, 24)
	b2.flash.readAt(got, 0x10000)
	if !allFF(got) {
		t.Fatalf("flash after restart %q, want erased", got)
	}
	// The count survives the restart, so the next board is new too.
	must(t, b2.Swap())
	if want, _ := deriveIdentity(b2.p, 1, 3, 2, 4<<20); b2.Identity() != want {
		t.Fatalf("second swap: %+v, want %+v", b2.Identity(), want)
	}
	must(t, b2.flash.program(0x20000, []byte("persisted")))
	identPath, flashPath := statePaths(dir, 3)
	var sf stateFile
	raw, err := os.ReadFile(identPath)
	must(t, err)
	must(t, json.Unmarshal(raw, &sf))
	if sf.Swaps != 2 || sf.MAC != b2.MAC() {
		t.Fatalf("state file %+v", sf)
	}
	img, err := os.ReadFile(flashPath)
	must(t, err)
	if len(img) != 4<<20 || !bytes.Equal(img[0x20000:0x20009], []byte("persisted")) || !allFF(img[0x10000:0x10018]) {
		t.Fatal("flash state file does not hold the new board's flash")
	}
}

// A swap whose state files cannot be written changes nothing: the old
// board stays, and so do its files and their contents.
func TestSwapStateDirFailureKeepsTheOldBoard(t *testing.T) {
	for _, blocked := range []string{".flash.swap", ".json.tmp"} { // the new flash file, the new identity
		t.Run(blocked, func(t *testing.T) {
			dir := t.TempDir()
			b, err := New(Config{StateDir: dir, Index: 2, Seed: 1})
			must(t, err)
			defer b.Close()
			must(t, b.flash.program(0x10000, []byte("kept")))
			old := b.Identity()
			identPath, flashPath := statePaths(dir, 2)
			identBefore, err := os.ReadFile(identPath)
			must(t, err)
			// A non-empty directory has the file's name: it cannot be made.
			must(t, os.MkdirAll(filepath.Join(dir, "board-02"+blocked, "x"), 0o755))
			if err := b.Swap(); err == nil {
				t.Fatal("swap succeeded with an unwritable state file")
			}
			if b.Identity() != old || b.Swaps() != 0 {
				t.Fatalf("after a failed swap: %+v, swaps %d; want the old board", b.Identity(), b.Swaps())
			}
			identAfter, err := os.ReadFile(identPath)
			must(t, err)
			img, err := os.ReadFile(flashPath)
			must(t, err)
			if !bytes.Equal(identAfter, identBefore) || !bytes.Equal(img[0x10000:0x10004], []byte("kept")) {
				t.Fatal("a failed swap changed the position's state files")
			}
			// The old board still persists its writes.
			must(t, b.flash.program(0x20000, []byte("still")))
			img, err = os.ReadFile(flashPath)
			must(t, err)
			if !bytes.Equal(img[0x20000:0x20005], []byte("still")) {
				t.Fatal("the old board's flash no longer reaches its file")
			}
		})
	}
}
