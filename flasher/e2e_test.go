package flasher

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/rom"
	"fleetline/sim/board"
)

// End-to-end tests against the virtual board, which implements its ROM
// loader from the same documentation without sharing this client's code.

func newBoard(t testing.TB, cfg board.Config) (*board.Board, *Client) {
	t.Helper()
	b, err := board.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	p, err := b.Open()
	if err != nil {
		t.Fatal(err)
	}
	c := New(p, Options{ConnectAttempts: 2, Logf: t.Logf})
	t.Cleanup(func() { c.Close() })
	return b, c
}

func TestE2EFlashChips(t *testing.T) {
	for _, chip := range []string{"esp32", "esp32s3", "esp32c3"} {
		t.Run(chip, func(t *testing.T) {
			b, c := newBoard(t, board.Config{Chip: chip, Index: 3, Seed: 42})
			ctx := context.Background()
			info, err := c.Connect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.Stub {
				t.Fatal("board reported a stub")
			}
			ci, err := c.Identify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			id := b.Identity()
			if ci.Key != id.Chip || ci.MAC != id.MAC || ci.Revision != id.Revision || ci.FlashID != id.FlashID {
				t.Fatalf("identify %+v, board %+v", ci, id)
			}
			if err := c.ChangeBaud(ctx, 921600); err != nil {
				t.Fatal(err)
			}
			app := firmware(200_000, 9)
			regions := []Region{{"app", 0x10000, app}, {"nvs", 0x9000, firmware(0x3000, 10)}}
			reps, err := c.WriteRegions(ctx, regions, WriteOptions{Compress: true, Verify: true, SkipUnchanged: true})
			if err != nil {
				t.Fatal(err)
			}
			if reps[1].Skipped || !reps[1].Verified {
				t.Fatalf("reports %+v", reps)
			}
			got := make([]byte, len(app))
			if _, err := b.Flash().ReadAt(got, 0x10000); err != nil || !bytes.Equal(got, app) {
				t.Fatalf("board flash differs (%v)", err)
			}
			reps, err = c.WriteRegions(ctx, regions, WriteOptions{Compress: true, Verify: true, SkipUnchanged: true})
			if err != nil || !reps[0].Skipped || !reps[1].Skipped {
				t.Fatalf("rewrite: %+v %v", reps, err)
			}
			// Fast compression (a board's own data) lands the same bytes.
			fast := firmware(0x5000, 13)
			if _, err := c.WriteRegions(ctx, []Region{{"fctry", 0x300000, fast}}, WriteOptions{Compress: true, FastCompress: true, Verify: true}); err != nil {
				t.Fatal(err)
			}
			gotFast := make([]byte, len(fast))
			if _, err := b.Flash().ReadAt(gotFast, 0x300000); err != nil || !bytes.Equal(gotFast, fast) {
				t.Fatalf("fast-compressed region differs on the board (%v)", err)
			}
			// Plain writes, read back, erase.
			if _, err := c.WriteRegions(ctx, []Region{{"data", 0x200000, firmware(5000, 11)}}, WriteOptions{Verify: true}); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := c.ReadFlash(ctx, 0x10000, 300, &out); err != nil || !bytes.Equal(out.Bytes(), app[:300]) {
				t.Fatalf("read flash: %v", err)
			}
			if err := c.EraseRegion(ctx, 0x9000, 0x3000); err != nil {
				t.Fatal(err)
			}
			if sum, err := c.MD5(ctx, 0x9000, 0x3000); err != nil || sum != md5Of(bytes.Repeat([]byte{0xFF}, 0x3000)) {
				t.Fatalf("erased MD5 %x %v", sum, err)
			}
			if err := c.HardReset(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestE2ENoSync(t *testing.T) {
	_, c := newBoard(t, board.Config{Faults: board.Faults{NoSync: true}})
	_, err := c.Connect(context.Background())
	if !errors.Is(err, ErrNoSync) {
		t.Fatalf("err = %v", err)
	}
}

func TestE2EWrongBootMode(t *testing.T) {
	_, c := newBoard(t, board.Config{Faults: board.Faults{BootMode: true}})
	_, err := c.Connect(context.Background())
	var wb *WrongBootModeError
	if !errors.As(err, &wb) || !strings.Contains(err.Error(), "GPIO0") {
		t.Fatalf("err = %v", err)
	}
}

func e2eFlash(t *testing.T, f board.Faults, short bool) (*board.Board, []WriteReport, error) {
	t.Helper()
	b, c := newBoard(t, board.Config{Chip: "esp32c3", Faults: f})
	if short {
		c.to.Default, c.to.EraseRegionPerMB = 300*time.Millisecond, time.Millisecond
	}
	ctx := context.Background()
	if _, err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Identify(ctx); err != nil {
		t.Fatal(err)
	}
	reps, err := c.WriteRegions(ctx, []Region{{"app", 0x10000, firmware(150_000, 12)}}, WriteOptions{Compress: true, Verify: true})
	return b, reps, err
}

func TestE2EStallMidBlock(t *testing.T) {
	// The chip hangs on block 5 and is deaf until reset: every try times out.
	_, _, err := e2eFlash(t, board.Faults{StallBlock: 5}, true)
	var be *BlockError
	if !errors.As(err, &be) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	if be.Block != 6 {
		t.Fatalf("failed at block %d, want 6 (seq 5)", be.Block)
	}
}

func TestE2EUnplugMidFlash(t *testing.T) {
	_, _, err := e2eFlash(t, board.Faults{UnplugAfterBytes: 40_000}, false)
	if !errors.Is(err, ErrClosed) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want port closed", err)
	}
}

func TestE2EFlashWriteFailure(t *testing.T) {
	_, _, err := e2eFlash(t, board.Faults{FlashFail: []uint32{0x12000}}, false)
	var se *rom.StatusError
	if !errors.As(err, &se) || se.Code != rom.ErrFlashWrite {
		t.Fatalf("err = %v, want a flash write StatusError", err)
	}
}

func md5Of(p []byte) [16]byte { return md5.Sum(p) }

// TestE2ENoisyLine flashes over a line that flips and drops bytes now and
// then: lost or corrupted blocks are recovered and the image verifies.
func TestE2ENoisyLine(t *testing.T) {
	_, c := newBoard(t, board.Config{Chip: "esp32", Seed: 2, Faults: board.Faults{Flip: 2e-5, Drop: 1e-5}})
	c.to.Default = 200 * time.Millisecond
	ctx := context.Background()
	if _, err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Identify(ctx); err != nil {
		t.Fatal(err)
	}
	reps, err := c.WriteRegions(ctx, []Region{{"app", 0x10000, firmware(300_000, 12)}}, WriteOptions{Compress: true, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reps[0].Verified {
		t.Fatalf("report %+v: the image was not verified", reps[0])
	}
	// The seeded noise must hit some blocks, or nothing here tests recovery.
	if reps[0].Retries == 0 {
		t.Fatalf("report %+v: no block was resent; the noise never reached the write", reps[0])
	}
	t.Logf("%d blocks resent", reps[0].Retries)
}

// TestE2EIdentifyRealistic identifies boards of every chip with realistic
// wire timing. The ESP32 ROM refuses GET_SECURITY_INFO through SYNC's reply
// path, eight times, and with real UART timing the copies are still
// arriving when the client moves on; they must be drained, not read as the
// refusal of the next command.
func TestE2EIdentifyRealistic(t *testing.T) {
	for _, chip := range []string{"esp32", "esp32s3", "esp32c3"} {
		t.Run(chip, func(t *testing.T) {
			b, c := newBoard(t, board.Config{Chip: chip, Index: 1, Seed: 5, Timing: board.Realistic, Bridge: "cp2102n"})
			ctx := context.Background()
			if _, err := c.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			ci, err := c.Identify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if id := b.Identity(); ci.Key != id.Chip || ci.MAC != id.MAC {
				t.Fatalf("identify %+v, board %+v", ci, id)
			}
			if _, err := c.MD5(ctx, 0, 0x1000); err != nil {
				t.Fatalf("a command after identify: %v", err)
			}
		})
	}
}
