package flasher

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
)

// One test per point where a real flash can fail.

func TestNoSync(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	f.silent = true
	_, err := c.Connect(context.Background())
	if !errors.Is(err, ErrNoSync) {
		t.Fatalf("err = %v, want ErrNoSync", err)
	}
	var wb *WrongBootModeError
	if errors.As(err, &wb) || errors.Is(err, ErrTXPathDown) {
		t.Fatalf("no banner, yet %v", err)
	}
	if n := f.count[rom.OpSync]; n != syncTries {
		t.Fatalf("%d SYNCs in one attempt, want %d", n, syncTries)
	}
}

// bootOnReset makes the fake print a ROM banner when EN is released: the
// download banner when GPIO0 (DTR) is held low then, the flash-boot banner
// otherwise; a chip booted from flash never answers.
func bootOnReset(f *fakeROM, gpio0Stuck bool) {
	prevRTS := false
	f.dev.OnControl(func(ct portio.Control) {
		enReleased := prevRTS && !ct.RTS
		prevRTS = ct.RTS
		if !enReleased {
			return
		}
		download := ct.DTR && !gpio0Stuck
		f.mu.Lock()
		f.silent = !download
		f.mu.Unlock()
		if download {
			f.dev.Write([]byte("ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n"))
		} else {
			f.dev.Write([]byte("ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nconfigsip: 0, SPIWP:0xee\r\n"))
		}
	})
}

func TestConnectWithReset(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	f.silent = true
	bootOnReset(f, false)
	c.opt.Before = ResetDefault
	c.opt.Resets = []Reset{Classic(0)}
	info, err := c.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.BootMode != 3 || !info.DownloadMode || info.Stub || !strings.Contains(info.Banner, "waiting for download") {
		t.Fatalf("info %+v", info)
	}
}

func TestWrongBootMode(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	f.silent = true
	bootOnReset(f, true)
	c.opt.Before = ResetDefault
	c.opt.Resets = []Reset{Classic(0)}
	_, err := c.Connect(context.Background())
	var wb *WrongBootModeError
	if !errors.As(err, &wb) || wb.Boot != 0x13 || !errors.Is(err, ErrNoSync) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"boot:0x13", "GPIO0 was not held low", "EN capacitor", "GPIO9 (C3)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
}

// TestWrongBootModeSurvivesLaterAttempts: the banner of an early attempt
// said the chip booted from flash; later attempts whose reset made the chip
// print nothing must not hide that behind a bare "no sync".
func TestWrongBootModeSurvivesLaterAttempts(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	f.silent = true
	bootOnReset(f, true)
	quiet, err := ParseSequence("D1|W0.01|D0")
	if err != nil {
		t.Fatal(err)
	}
	c.opt.Before = ResetDefault
	c.opt.Resets = []Reset{Classic(0), quiet}
	c.opt.ConnectAttempts = 4
	_, err = c.Connect(context.Background())
	var wb *WrongBootModeError
	if !errors.As(err, &wb) || wb.Boot != 0x13 {
		t.Fatalf("err = %v, want the wrong boot mode seen on attempt 1", err)
	}
}

func TestTXPathDown(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	f.silent = true
	bootOnReset(f, false)
	// The chip is in download mode but our bytes never reach it.
	f.setFault(func(rom.Request, int) faultAction { return actIgnore })
	c.opt.Before = ResetDefault
	c.opt.Resets = []Reset{Classic(0)}
	_, err := c.Connect(context.Background())
	if !errors.Is(err, ErrTXPathDown) || !errors.Is(err, ErrNoSync) {
		t.Fatalf("err = %v", err)
	}
}

// flashApp writes a 150 kB app at 0x10000 (148 compressed-or-not blocks)
// and returns the error and reports.
// The failure tests count 1 KiB blocks (esptool's ROM block), so that a
// region has enough of them to fail in the middle of a segment.
const testBlock = 0x400

func flashApp(t *testing.T, c *Client, compress bool) ([]WriteReport, error) {
	t.Helper()
	return c.WriteRegions(context.Background(), []Region{{"app", 0x10000, firmware(150_000, 7)}},
		WriteOptions{Compress: compress, Verify: true, BlockSize: testBlock})
}

func TestBadChecksumReplyIsResentUnderNextSeq(t *testing.T) {
	for _, compress := range []bool{false, true} {
		c, f := newTestClient(t, "esp32c3")
		connectIdentify(t, c)
		dataOp := map[bool]rom.Op{false: rom.OpFlashData, true: rom.OpFlashDeflData}[compress]
		f.setFault(func(r rom.Request, n int) faultAction {
			if r.Op == dataOp && n == 5 {
				return actBadChecksum
			}
			return actNormal
		})
		reps, err := flashApp(t, c, compress)
		if err != nil {
			t.Fatal(err)
		}
		if reps[0].Retries != 1 || !reps[0].Verified {
			t.Fatalf("report %+v", reps[0])
		}
		// No segment restart: one BEGIN per segment.
		if n, want := f.count[dataOp-1], len(mustPlan(t, compress).regions[0].segments); n != want {
			t.Fatalf("%d BEGINs, want %d", n, want)
		}
	}
}

func mustPlan(t *testing.T, compress bool) *WritePlan {
	p, err := PrepareWrite([]Region{{"app", 0x10000, firmware(150_000, 7)}}, WriteOptions{Compress: compress, BlockSize: testBlock})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadChecksumEveryTime(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	connectIdentify(t, c)
	f.setFault(func(r rom.Request, n int) faultAction {
		if r.Op == rom.OpFlashDeflData && n >= 12 {
			return actBadChecksum
		}
		return actNormal
	})
	_, err := flashApp(t, c, true)
	var be *BlockError
	if !errors.As(err, &be) || be.Block != 12 || be.Tries != 3 {
		t.Fatalf("err = %v", err)
	}
	var se *rom.StatusError
	if !errors.As(err, &se) || se.Code != rom.ErrBadChecksum {
		t.Fatalf("not a checksum StatusError: %v", err)
	}
}

func TestTimeoutMidBlockRestartsSegment(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	connectIdentify(t, c)
	// Block 20's reply is lost once: the board wrote it, the host cannot know.
	f.setFault(func(r rom.Request, n int) faultAction {
		if r.Op == rom.OpFlashDeflData && n == 20 {
			return actDropReply
		}
		return actNormal
	})
	reps, err := flashApp(t, c, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reps[0].Verified || reps[0].Retries != 1 {
		t.Fatalf("report %+v", reps[0])
	}
	if n, want := f.count[rom.OpFlashDeflBegin], len(mustPlan(t, true).regions[0].segments)+1; n != want {
		t.Fatalf("%d DEFL_BEGINs, want %d (one segment begun again)", n, want)
	}
}

func TestTimeoutMidBlockGivesUp(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	connectIdentify(t, c)
	plan := mustPlan(t, true)
	// Everything from the 12th block of the region on goes unanswered.
	f.setFault(func(r rom.Request, n int) faultAction {
		if r.Op == rom.OpFlashDeflData {
			blk, _ := rom.ParseDataBlock(r.Op, r.Data)
			if f.begin != nil && f.begin.offset == plan.regions[0].segments[0].addr && blk.Seq == 11 {
				return actIgnore
			}
		}
		return actNormal
	})
	_, err := flashApp(t, c, true)
	want := "flash app 0x10000 block 12/" + strconv.Itoa(plan.regions[0].blocks) + ": timeout after 3 tries"
	if err == nil || err.Error() != want || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestPortVanishesMidFlash(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	connectIdentify(t, c)
	f.setFault(func(r rom.Request, n int) faultAction {
		if r.Op == rom.OpFlashDeflData && n == 30 {
			return actClose
		}
		return actNormal
	})
	_, err := flashApp(t, c, true)
	if !errors.Is(err, ErrClosed) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want port closed and not a timeout", err)
	}
	if !strings.Contains(err.Error(), "block 30/") || !strings.Contains(err.Error(), "port closed") {
		t.Fatalf("message %q", err)
	}
}

func TestMD5Mismatch(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	connectIdentify(t, c)
	f.setFault(func(r rom.Request, n int) faultAction {
		if r.Op == rom.OpSPIFlashMD5 {
			return actCorrupt
		}
		return actNormal
	})
	_, err := flashApp(t, c, true)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Region != "app" || ve.Want == ve.Got {
		t.Fatalf("err = %v", err)
	}
}

func TestContextCancelStopsWrite(t *testing.T) {
	c, f := newTestClient(t, "esp32")
	connectIdentify(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	f.setFault(func(r rom.Request, n int) faultAction {
		if r.Op == rom.OpFlashDeflData && n == 3 {
			cancel()
		}
		return actNormal
	})
	_, err := c.WriteRegions(ctx, []Region{{"app", 0x10000, firmware(150_000, 7)}}, WriteOptions{Compress: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
