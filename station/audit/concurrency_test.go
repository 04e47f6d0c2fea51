package audit

import (
	"strings"
	"sync"
	"testing"

	"fleetline/serialno"
)

// Goroutines in this process and several other processes reserve at once
// on one file: every SN is distinct, every board has one, and no "database
// is locked" reaches a caller.
func TestConcurrentReserve(t *testing.T) {
	s, path := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 1_000_000})
	procs, perProc, local := 3, 60, 120
	if testing.Short() {
		procs, perProc, local = 2, 30, 60
	}
	var mu sync.Mutex
	byMAC := map[string]string{}
	record := func(m, sn string) {
		mu.Lock()
		defer mu.Unlock()
		if old, ok := byMAC[m]; ok && old != sn {
			t.Errorf("MAC %s got %s and %s", m, old, sn)
		}
		byMAC[m] = sn
	}
	type child struct {
		wait  func() error
		lines []string
	}
	children := make([]*child, procs)
	var wg sync.WaitGroup
	for p := range procs {
		cmd, out := helper(t, "reserve", path, (p+1)*100_000, perProc)
		c := &child{wait: cmd.Wait}
		children[p] = c
		wg.Add(1)
		go func() { defer wg.Done(); c.lines = helperLines(out) }()
	}
	// Two Stores in this process as well, sharing MACs with each other:
	// the same board reserved from two places gets one SN.
	s2, err := Open(path, Options{Station: "st2"})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	errs := make(chan error, 2)
	for _, st := range []*Store{s, s2} {
		go func() { errs <- reserveMany(st, 0, local, 8, record) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("in-process reserve: %v", err)
		}
	}
	wg.Wait()
	for p, c := range children {
		if err := c.wait(); err != nil {
			t.Fatalf("helper %d: %v", p, err)
		}
		if len(c.lines) != perProc {
			t.Fatalf("helper %d reserved %d, want %d", p, len(c.lines), perProc)
		}
		for _, l := range c.lines {
			f := strings.Fields(l)
			record(f[1], f[2])
		}
	}
	bySN := map[string]string{}
	for m, sn := range byMAC {
		if other, dup := bySN[sn]; dup {
			t.Errorf("SN %s issued to %s and %s", sn, m, other)
		}
		bySN[sn] = m
	}
	if want := procs*perProc + local; len(byMAC) != want {
		t.Errorf("%d boards have SNs, want %d", len(byMAC), want)
	}
	var rows, seqs int
	scanRow(t, s.r.QueryRow(`SELECT count(*), count(DISTINCT seq) FROM sn_reservations`), &rows, &seqs)
	if rows != len(byMAC) || seqs != rows {
		t.Errorf("%d reservations with %d distinct seqs, want %d", rows, seqs, len(byMAC))
	}
}
