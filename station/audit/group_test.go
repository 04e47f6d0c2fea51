package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fleetline/serialno"
)

// gate holds the committer inside a unit of work of its own until the
// test has queued what it wants grouped behind it.
type gate struct {
	inside  chan struct{}
	release chan struct{}
	done    chan error
}

// holdWriter starts a unit of work that blocks the committer until
// g.release is closed.
func holdWriter(t *testing.T, s *Store) *gate {
	t.Helper()
	g := &gate{inside: make(chan struct{}), release: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		g.done <- s.write(context.Background(), "hold", func(*tx) error {
			close(g.inside)
			<-g.release
			return nil
		})
	}()
	<-g.inside
	return g
}

// open lets the held unit of work commit and waits for it.
func (g *gate) open(t *testing.T) {
	t.Helper()
	close(g.release)
	if err := <-g.done; err != nil {
		t.Fatalf("held unit of work: %v", err)
	}
}

// queueWatch reports each request queued with a step containing want,
// but for holdWriter's.
func queueWatch(s *Store, want string) <-chan string {
	ch := make(chan string, 256)
	s.c.hook = func(event, step string) {
		if event == "queued" && step != "hold" && strings.Contains(step, want) {
			ch <- step
		}
	}
	return ch
}

// waitQueued waits for n requests to be queued.
func waitQueued(ch <-chan string, n int) {
	for range n {
		<-ch
	}
}

func mustVerify(t *testing.T, s *Store) {
	t.Helper()
	if rep, err := s.Verify(context.Background()); err != nil || !rep.OK {
		t.Fatalf("Verify = %+v (%+v), %v", rep, rep.Bad, err)
	}
}

// Reserves queued behind a unit of work in flight are committed together:
// one transaction for all of them.
func TestGroupCommitCoalesces(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 1000})
	queued := queueWatch(s, "reserve SN")
	const n = 20
	g := holdWriter(t, s)
	before := s.c.commits.Load()
	sns := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var r Reservation
			r, errs[i] = s.Reserve(ctx, "B1", mac(i))
			sns[i] = r.SN
		})
	}
	waitQueued(queued, n)
	g.open(t)
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil || sns[i] == "" || seen[sns[i]] {
			t.Fatalf("Reserve %d = %q, %v (SNs so far %v)", i, sns[i], errs[i], seen)
		}
		seen[sns[i]] = true
	}
	if got := s.c.commits.Load() - before; got != 2 {
		t.Errorf("%d commits for the held unit of work and %d reserves, want 2", got, n)
	}
	mustVerify(t, s)
	for i := range n {
		if r, err := s.Reserve(ctx, "B1", mac(i)); err != nil || r.SN != sns[i] || r.New {
			t.Errorf("board %d again = %+v, %v; want %s", i, r, err, sns[i])
		}
	}
}

// groupCase is a unit of work queued into one group, and what it must
// return whether it runs in a group or alone.
type groupCase struct {
	name string
	run  func(ctx context.Context, s *Store) error
	want error // nil: it commits
}

// groupCases mixes units of work that fail, some after appending records,
// with ones that commit. Batch B1 has room; B2 (1..1) is full.
func groupCases() []groupCase {
	var cs []groupCase
	for i := range 12 {
		cs = append(cs, groupCase{fmt.Sprintf("reserve+confirm %d", i), func(ctx context.Context, s *Store) error {
			r, err := s.Reserve(ctx, "B1", mac(100+i))
			if err != nil {
				return err
			}
			return s.Confirm(ctx, r.SN)
		}, nil})
	}
	cs = append(cs,
		groupCase{"confirm unknown SN", func(ctx context.Context, s *Store) error {
			return s.Confirm(ctx, "SL999999999")
		}, ErrNotFound},
		// The new unit is appended (row and chain record) before the
		// range is found full: its savepoint must take both away.
		groupCase{"reserve in full range", func(ctx context.Context, s *Store) error {
			_, err := s.Reserve(ctx, "B2", mac(900))
			return err
		}, ErrRangeExhausted},
		groupCase{"reserve and start in full range", func(ctx context.Context, s *Store) error {
			_, _, err := s.ReserveAndStart(ctx, AttemptStart{Batch: "B2", MAC: mac(901)})
			return err
		}, ErrRangeExhausted},
		groupCase{"finish unknown attempt", func(ctx context.Context, s *Store) error {
			return s.FinishAttempt(ctx, 12345, Outcome{Result: OutcomePass})
		}, ErrNotFound},
		groupCase{"secret", func(ctx context.Context, s *Store) error {
			_, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(902), Operator: "-----BEGIN " + "PRIVATE KEY-----\nMIIB\n-----END " + "PRIVATE KEY-----"})
			return err
		}, ErrSecret},
	)
	return cs
}

// runGrouped runs every case at once behind a held writer, so that their
// first writes queue into one group, and returns each case's error.
func runGrouped(t *testing.T, ctx context.Context, s *Store, cases []groupCase) []error {
	t.Helper()
	queued := queueWatch(s, "")
	g := holdWriter(t, s)
	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Go(func() { errs[i] = c.run(ctx, s) })
	}
	waitQueued(queued, len(cases))
	g.open(t)
	wg.Wait()
	return errs
}

func groupStore(t *testing.T) *Store {
	s, _ := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 1000})
	mustBatch(t, s, "B2", serialno.Range{First: 5000, Last: 5000})
	if _, err := s.Reserve(context.Background(), "B2", mac(1)); err != nil {
		t.Fatal(err)
	}
	return s
}

// A failing unit of work in a group leaves nothing and returns the error
// it returns alone, word for word; the others in the group commit.
func TestGroupFailureIsolated(t *testing.T) {
	ctx := context.Background()
	cases := groupCases()
	// What each case returns in a transaction of its own.
	alone := groupStore(t)
	wantMsg := map[string]string{}
	for _, c := range cases {
		err := c.run(ctx, alone)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Fatalf("%s alone = %v, want %v", c.name, err, c.want)
		}
		if err != nil {
			wantMsg[c.name] = err.Error()
		}
	}

	s := groupStore(t)
	var records int64
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM records`), &records)
	// Each case's first (or only) write is queued: they make one group
	// (the confirms after the reserves may or may not group).
	errs := runGrouped(t, ctx, s, cases)
	for i, c := range cases {
		switch {
		case c.want == nil && errs[i] != nil:
			t.Errorf("%s: %v", c.name, errs[i])
		case c.want != nil && (!errors.Is(errs[i], c.want) || errs[i].Error() != wantMsg[c.name]):
			t.Errorf("%s in a group = %v\nalone it is %s", c.name, errs[i], wantMsg[c.name])
		}
	}
	mustVerify(t, s)
	var units, confirmed, attempts, after int64
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM units WHERE mac IN (?, ?, ?)`, mac(900), mac(901), mac(902)), &units)
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM sn_state WHERE state = 'confirmed'`), &confirmed)
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM attempts`), &attempts)
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM records`), &after)
	if units != 0 || attempts != 0 || confirmed != 12 {
		t.Errorf("after the group: %d units of failed work, %d attempts, %d confirmed (want 0, 0, 12)", units, attempts, confirmed)
	}
	// 12 units, 12 reservations, 12 confirmations, one station row.
	if after-records != 12*3 {
		t.Errorf("the group appended %d records, want %d", after-records, 12*3)
	}
}

// When a group's transaction fails at COMMIT, every unit of work in it
// runs again alone and returns what it returns alone; nothing of the
// first run shows.
func TestGroupCommitFailsFallsBack(t *testing.T) {
	ctx := context.Background()
	s := groupStore(t)
	fail := true
	s.c.beforeCommit = func() error {
		if fail {
			fail = false
			return errors.New("injected COMMIT failure")
		}
		return nil
	}
	before := s.c.commits.Load()
	cases := groupCases()
	errs := runGrouped(t, ctx, s, cases)
	for i, c := range cases {
		if !errors.Is(errs[i], c.want) || (c.want == nil) != (errs[i] == nil) {
			t.Errorf("%s = %v, want %v", c.name, errs[i], c.want)
		}
	}
	if fail {
		t.Fatal("no group was formed")
	}
	if got := s.c.commits.Load() - before; got < 13 {
		t.Errorf("%d commits: the failed group's reserves did not run alone", got)
	}
	mustVerify(t, s)
	var confirmed, seqs int64
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM sn_state WHERE state = 'confirmed'`), &confirmed)
	scanRow(t, s.r.QueryRow(`SELECT MAX(seq) FROM sn_reservations WHERE batch_id = (SELECT id FROM batches WHERE batch = 'B1')`), &seqs)
	if confirmed != 12 || seqs != 12 {
		t.Errorf("%d confirmed, B1 up to seq %d; want 12 and 12 (no number taken by the failed group)", confirmed, seqs)
	}
}

// A caller canceled while queued gets its context's error and nothing of
// its work is written: whether it was still waiting, or already taken
// into a group that had not reached it.
func TestGroupCanceledWhileQueued(t *testing.T) {
	s, _ := openTest(t)
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 1000})
	queued := queueWatch(s, "")
	g := holdWriter(t, s)

	// Waiting in the queue: withdrawn at once, the committer still held.
	ctx1, cancel1 := context.WithCancel(context.Background())
	res1 := make(chan error, 1)
	go func() { _, err := s.Reserve(ctx1, "B1", mac(1)); res1 <- err }()
	waitQueued(queued, 1)
	cancel1()
	if err := <-res1; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled while queued = %v, want context.Canceled", err)
	}

	// Taken into a group behind a unit of work that blocks: skipped.
	inside, release := make(chan struct{}), make(chan struct{})
	blocker := make(chan error, 1)
	go func() {
		blocker <- s.write(context.Background(), "blocker", func(t *tx) error {
			close(inside)
			<-release
			_, err := t.unitID(mac(2), "", "", "")
			return err
		})
	}()
	ctx3, cancel3 := context.WithCancel(context.Background())
	res3, res4 := make(chan error, 1), make(chan error, 1)
	waitQueued(queued, 1)
	go func() { _, err := s.Reserve(ctx3, "B1", mac(3)); res3 <- err }()
	waitQueued(queued, 1)
	go func() { _, err := s.Reserve(context.Background(), "B1", mac(4)); res4 <- err }()
	waitQueued(queued, 1)
	g.open(t)
	<-inside // the group of three is taken
	cancel3()
	close(release)
	if err := <-blocker; err != nil {
		t.Errorf("blocker: %v", err)
	}
	if err := <-res3; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled in a group = %v, want context.Canceled", err)
	}
	if err := <-res4; err != nil {
		t.Errorf("the rest of the group: %v", err)
	}
	var gone, kept int
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM units WHERE mac IN (?, ?)`, mac(1), mac(3)), &gone)
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM units WHERE mac IN (?, ?)`, mac(2), mac(4)), &kept)
	if gone != 0 || kept != 2 {
		t.Errorf("%d units of canceled callers, %d of the others (want 0, 2)", gone, kept)
	}
	mustVerify(t, s)
}

// Close lets the unit of work in flight commit and fails those still
// queued with ErrClosed, writing nothing of them.
func TestCloseWithQueued(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := Open(path, Options{Station: "st1", Clock: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	mustBatch(t, s, "B1", serialno.Range{First: 1, Last: 1000})
	events := make(chan string, 16)
	s.c.hook = func(event, _ string) { events <- event }
	g := holdWriter(t, s)
	<-events // the hold itself
	const n = 3
	errs := make(chan error, n)
	for i := range n {
		go func() { _, err := s.Reserve(context.Background(), "B1", mac(i)); errs <- err }()
	}
	for range n {
		if e := <-events; e != "queued" {
			t.Fatalf("event %q", e)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	if e := <-events; e != "closed" {
		t.Fatalf("event %q, want closed", e)
	}
	g.open(t)
	for range n {
		if err := <-errs; !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "reserve SN") {
			t.Errorf("queued at Close = %v, want ErrClosed naming the step", err)
		}
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := s.Reserve(context.Background(), "B1", mac(9)); !errors.Is(err, ErrClosed) {
		t.Errorf("Reserve after Close = %v, want ErrClosed", err)
	}
	s, err = Open(path, Options{Station: "st1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var units int
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM units`), &units)
	if units != 0 {
		t.Errorf("%d units written by callers failed at Close", units)
	}
	mustVerify(t, s)
}

// Many goroutines, as many as a station has slots, run boards through
// reserve, record and confirm at once, with failing units of work mixed
// in: every SN is distinct, every pass confirmed, and the chain verifies.
func TestGroupManySlots(t *testing.T) {
	s := groupStore(t)
	ctx := context.Background()
	const slots, boards = 32, 6
	var wg sync.WaitGroup
	errs := make(chan error, slots*boards)
	for slot := range slots {
		wg.Go(func() {
			for b := range boards {
				m := mac(1000 + slot*boards + b)
				r, id, err := s.ReserveAndStart(ctx, AttemptStart{Batch: "B1", MAC: m, Slot: fmt.Sprint(slot)})
				if err != nil {
					errs <- err
					return
				}
				if err := s.Confirm(ctx, "SL9"+r.SN[3:]); !errors.Is(err, ErrNotFound) {
					errs <- fmt.Errorf("confirm of a foreign SN = %v", err)
				}
				if _, err := s.Reserve(ctx, "B2", mac(5000+slot*boards+b)); !errors.Is(err, ErrRangeExhausted) {
					errs <- fmt.Errorf("reserve in a full range = %v", err)
				}
				if err := s.CompleteAndConfirm(ctx, id, []Step{{Name: "flash", Result: "pass"}}, nil, Outcome{Result: OutcomePass}, r.SN); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var rows, seqs, confirmed, foreign int64
	scanRow(t, s.r.QueryRow(`SELECT count(*), count(DISTINCT sn) FROM sn_reservations WHERE batch_id = (SELECT id FROM batches WHERE batch = 'B1')`), &rows, &seqs)
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM sn_state WHERE state = 'confirmed'`), &confirmed)
	scanRow(t, s.r.QueryRow(`SELECT count(*) FROM units WHERE mac >= ?`, mac(5000)), &foreign)
	if rows != slots*boards || seqs != rows || confirmed != rows || foreign != 0 {
		t.Errorf("%d reservations, %d distinct, %d confirmed, %d units of failed reserves", rows, seqs, confirmed, foreign)
	}
	mustVerify(t, s)
	t.Logf("%d commits", s.c.commits.Load())
}

// Slots recording at once into a log that fills up: each caller gets
// ErrStoreFull for its own unit of work or a commit, never a half of one,
// and what was reported recorded is there.
func TestGroupStoreFull(t *testing.T) {
	ctx := context.Background()
	s := openNearlyFull(t, 16)
	path := s.Path()
	big := strings.Repeat("x", 3000)
	const slots = 16
	var started [slots]int
	var wg sync.WaitGroup
	errs := make([]error, slots)
	for slot := range slots {
		wg.Go(func() {
			for i := 0; i < 1000; i++ {
				if _, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(slot*1000 + i), Operator: big}); err != nil {
					errs[slot] = err
					return
				}
				started[slot]++
			}
		})
	}
	wg.Wait()
	total := 0
	for slot, err := range errs {
		if !errors.Is(err, ErrStoreFull) || !strings.Contains(err.Error(), path) {
			t.Errorf("slot %d stopped at %v, want ErrStoreFull naming %s", slot, err, path)
		}
		total += started[slot]
	}
	var attempts, units int
	scanRow(t, s.r.QueryRow(`SELECT count(*), count(DISTINCT unit_id) FROM attempts`), &attempts, &units)
	if attempts != total || units != total {
		t.Errorf("%d attempts of %d units in the log, %d reported", attempts, units, total)
	}
	mustVerify(t, s)
}
