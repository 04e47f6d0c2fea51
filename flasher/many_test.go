package flasher

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"fleetline/sim/board"
)

// TestManyClientsSharePlan flashes several boards at once from one
// WritePlan, each client with its own progress callback.
func TestManyClientsSharePlan(t *testing.T) {
	const n = 8
	app := firmware(100_000, 21)
	plan, err := PrepareWrite([]Region{{"app", 0x10000, app}}, WriteOptions{Compress: true, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	seen := make([]map[int]bool, n) // blocks each client reported, by index
	boards := make([]*board.Board, n)
	for i := 0; i < n; i++ {
		b, err := board.New(board.Config{Chip: "esp32", Index: i, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		boards[i] = b
		seen[i] = map[int]bool{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p, err := boards[i].Open()
			if err != nil {
				errs[i] = err
				return
			}
			mine := seen[i]
			c := New(p, Options{Progress: func(pr Progress) {
				if pr.Step == "write" {
					mine[pr.Block] = true
				}
			}})
			defer c.Close()
			ctx := context.Background()
			if _, errs[i] = c.Connect(ctx); errs[i] != nil {
				return
			}
			if _, errs[i] = c.Identify(ctx); errs[i] != nil {
				return
			}
			_, errs[i] = c.WritePlan(ctx, plan)
		}(i)
	}
	wg.Wait()
	blocks := plan.regions[0].blocks
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("board %d: %v", i, errs[i])
		}
		if len(seen[i]) != blocks {
			t.Errorf("board %d: progress for %d blocks, want %d", i, len(seen[i]), blocks)
		}
		got := make([]byte, len(app))
		boards[i].Flash().ReadAt(got, 0x10000)
		if !bytes.Equal(got, app) {
			t.Errorf("board %d: flash differs", i)
		}
	}
}
