//go:build unix

package audit

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fleetline/serialno"
)

// TestSIGKILL kills a station process at random points while it reserves,
// records and confirms (from one goroutine, or four whose units of work
// share commits), round after round on one file, then checks that
// nothing was lost or issued twice. The kill delays come from a fixed seed;
// set FLEETLINE_CRASH_SEED to try others.
func TestSIGKILL(t *testing.T) {
	rounds, budget := 200, 30*time.Second
	if testing.Short() {
		rounds, budget = 30, 8*time.Second
	}
	seed := uint64(20261203)
	if v := os.Getenv("FLEETLINE_CRASH_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (FLEETLINE_CRASH_SEED)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	s, path := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 1_000_000})
	s.Close()

	var lines []string
	deadline := time.Now().Add(budget)
	done := 0
	for round := 0; round < rounds && time.Now().Before(deadline); round++ {
		// Odd rounds run 4 boards at once, so that the kill also lands
		// in groups of units of work sharing a commit.
		workers := 1 + 3*(round%2)
		cmd, out := helper(t, "loop", path, (round+1)*1000, 1000, "FLEETLINE_AUDIT_WORKERS="+strconv.Itoa(workers))
		ready := make(chan struct{})
		got := make(chan []string, 1)
		go func() {
			var ls []string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if sc.Text() == "ready" {
					close(ready)
					continue
				}
				ls = append(ls, sc.Text())
			}
			got <- ls
		}()
		if rng.IntN(10) == 0 {
			// During start-up: open, migrate, close interrupted attempts.
			time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		} else {
			select {
			case <-ready:
			case <-time.After(20 * time.Second):
				t.Fatal("helper never got ready")
			}
			time.Sleep(time.Duration(rng.IntN(60_000)) * time.Microsecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		lines = append(lines, <-got...)
		if err := cmd.Wait(); err != nil && !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: helper failed: %v", round, err)
		}
		done++
	}
	t.Logf("%d rounds, %d completed steps logged", done, len(lines))
	checkAfterCrashes(t, path, lines)
}

// checkAfterCrashes compares what the killed processes said they did with
// what the log holds.
func checkAfterCrashes(t *testing.T, path string, lines []string) {
	ctx := context.Background()
	s, err := Open(path, Options{Station: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.InterruptOpenAttempts(ctx, "crash"); err != nil {
		t.Fatal(err)
	}
	snOf := map[string]string{}
	macOf := map[string]string{}
	var attempts, finished []int64
	for _, l := range lines {
		f := strings.Fields(l)
		switch f[0] {
		case "reserved":
			m, sn := f[1], f[2]
			if old, ok := snOf[m]; ok && old != sn {
				t.Errorf("MAC %s was given %s and later %s", m, old, sn)
			}
			if old, ok := macOf[sn]; ok && old != m {
				t.Errorf("SN %s issued to %s and %s", sn, old, m)
			}
			snOf[m], macOf[sn] = sn, m
			u, err := s.UnitBySN(ctx, sn)
			if err != nil || u.MAC != m {
				t.Errorf("reported reservation %s -> %s not in the log: %+v, %v", m, sn, u, err)
			}
		case "confirmed", "voided":
			u, err := s.UnitBySN(ctx, f[1])
			if want := map[string]string{"confirmed": StateConfirmed, "voided": StateVoided}[f[0]]; err != nil || u.State != want {
				t.Errorf("SN %s reported %s, log says %q (%v)", f[1], f[0], u.State, err)
			}
		case "attempt":
			id, _ := strconv.ParseInt(f[1], 10, 64)
			attempts = append(attempts, id)
		case "finished":
			id, _ := strconv.ParseInt(f[1], 10, 64)
			finished = append(finished, id)
		}
	}
	outcome := func(id int64) string {
		var o string
		scanRow(t, s.r.QueryRow(`SELECT COALESCE((SELECT outcome FROM attempt_ends WHERE attempt_id = ?), '')`, id), &o)
		return o
	}
	for _, id := range attempts {
		if o := outcome(id); o == "" {
			t.Errorf("attempt %d has no outcome after InterruptOpenAttempts", id)
		}
	}
	for _, id := range finished {
		if o := outcome(id); o != OutcomePass && o != OutcomeFail {
			t.Errorf("finished attempt %d reads %q", id, o)
		}
	}
	var open, rows, seqs, minSeq, maxSeq, dupMAC int64
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM attempts a WHERE NOT EXISTS (SELECT 1 FROM attempt_ends e WHERE e.attempt_id = a.id)`), &open)
	scanRow(t, s.r.QueryRow(`SELECT count(*), count(DISTINCT seq), COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM sn_reservations`), &rows, &seqs, &minSeq, &maxSeq)
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM (SELECT unit_id FROM sn_reservations GROUP BY unit_id HAVING count(*) > 1)`), &dupMAC)
	if open != 0 {
		t.Errorf("%d attempts still open", open)
	}
	if rows != seqs || (rows > 0 && maxSeq-minSeq+1 != rows) || dupMAC != 0 {
		t.Errorf("reservations: %d rows, %d distinct seqs in %d..%d, %d units with two SNs", rows, seqs, minSeq, maxSeq, dupMAC)
	}
	if int64(len(macOf)) > rows {
		t.Errorf("processes reported %d SNs, the log holds %d", len(macOf), rows)
	}
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("chain after crashes: %+v (%v), %v", rep, rep.Bad, err)
	}
	t.Logf("%d reservations, %d attempts reported, %d records verified", rows, len(attempts), rep.Records)
}
