package audit

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
)

// Group commit. Every unit of work ends in a durable commit, and with
// synchronous=FULL a commit costs an fsync of the WAL: one writer alone
// manages about a thousand a second. A station records from up to 32 slots
// at once, so the units of work that queue while one commit is in flight
// are run together in the next transaction, each inside its own savepoint,
// and share its single fsync. Each caller still returns only once its own
// work is committed, and a unit of work that fails is rolled back to its
// savepoint alone: the others in its group do not see it.

// maxGroup caps the units of work of one transaction, so that a group's
// commit (and the wait of its first caller) stays short.
const maxGroup = 64

// writeReq is one caller's unit of work waiting for the committer.
type writeReq struct {
	ctx  context.Context
	step string
	fn   func(*tx) error
	err  error         // the outcome, set before done is closed
	done chan struct{} // closed when the outcome is known

	taken bool // guarded by committer.mu: in the group being run, no withdrawing
}

// committer runs the queued units of work of a Store, a group at a time,
// on its own goroutine.
type committer struct {
	mu     sync.Mutex
	queue  []*writeReq
	closed bool
	kick   chan struct{} // cap 1: the queue is not empty
	exited chan struct{} // closed when the goroutine has returned

	commits atomic.Int64 // transactions committed (tests)

	// Tests only; set before the first write. hook hears "queued" with
	// each request's step, and "closed" once Close has stopped taking
	// requests. beforeCommit failing makes a group's transaction fail
	// at its COMMIT.
	hook         func(event, step string)
	beforeCommit func() error
}

// startCommitter starts the goroutine that serves s.write.
func (s *Store) startCommitter() {
	s.c = &committer{kick: make(chan struct{}, 1), exited: make(chan struct{})}
	go s.commitLoop()
}

// stopCommitter fails the units of work still queued, lets the group in
// flight finish, and waits for the committer to return.
func (s *Store) stopCommitter() {
	c := s.c
	if c == nil {
		return
	}
	c.mu.Lock()
	wasClosed := c.closed
	c.closed = true
	hook := c.hook
	c.mu.Unlock()
	if !wasClosed {
		if hook != nil {
			hook("closed", "")
		}
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	<-c.exited
}

// enqueue hands r to the committer, or fails it if the Store is closed.
func (s *Store) enqueue(r *writeReq) error {
	c := s.c
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return s.closedErr(r.step)
	}
	c.queue = append(c.queue, r)
	hook := c.hook
	c.mu.Unlock()
	if hook != nil {
		hook("queued", r.step)
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return nil
}

// withdraw removes r from the queue if the committer has not taken it.
func (c *committer) withdraw(r *writeReq) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.taken {
		return false
	}
	for i, q := range c.queue {
		if q == r {
			c.queue = append(c.queue[:i], c.queue[i+1:]...)
			return true
		}
	}
	return false // done already
}

func (s *Store) closedErr(step string) error {
	return fmt.Errorf("audit %s: %s: %w: nothing of it was recorded", s.path, step, ErrClosed)
}

// commitLoop serves the queue until the Store is closed.
func (s *Store) commitLoop() {
	c := s.c
	defer close(c.exited)
	for range c.kick {
		for {
			c.mu.Lock()
			if c.closed {
				rest := c.queue
				c.queue = nil
				c.mu.Unlock()
				for _, r := range rest {
					r.err = s.closedErr(r.step)
					close(r.done)
				}
				return
			}
			n := min(len(c.queue), maxGroup)
			group := make([]*writeReq, n)
			copy(group, c.queue)
			c.queue = append(c.queue[:0], c.queue[n:]...)
			for _, r := range group {
				r.taken = true
			}
			c.mu.Unlock()
			if n == 0 {
				break
			}
			if n == 1 {
				group[0].err = s.writeAlone(group[0].ctx, group[0].step, group[0].fn)
			} else {
				s.writeGroup(group)
			}
			for _, r := range group {
				close(r.done)
			}
		}
	}
}

// writeGroup runs group in one transaction, one savepoint per request,
// and sets every request's err. Should the transaction itself fail
// (BEGIN, a savepoint, COMMIT), nobody has been told anything yet, and
// each request runs alone as if there had been no group.
func (s *Store) writeGroup(group []*writeReq) {
	// One caller's cancel must not interrupt everyone's statements: the
	// group's context is never canceled; each caller's is checked before
	// its work starts.
	ctx := context.WithoutCancel(group[0].ctx)
	alone := func(rs []*writeReq) {
		for _, r := range rs {
			r.err = s.writeAlone(r.ctx, r.step, r.fn)
		}
	}
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		alone(group)
		return
	}
	t := &tx{Tx: sqlTx, ctx: ctx, s: s, stmts: map[string]*sql.Stmt{}}
	var retry, pending []*writeReq // pending: all not skipped
	ok := true
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("%s: %w", r.step, err)
			continue
		}
		pending = append(pending, r)
		var fnErr error
		if ok, fnErr = t.savepoint(r); !ok {
			pending = append(pending, group[i+1:]...)
			break
		}
		switch {
		case fnErr == nil:
		case sqliteCode(fnErr) != 0:
			// A database error (disk full, busy, ...): run it alone
			// afterwards, so that it meets exactly the handling of a
			// transaction of its own.
			retry = append(retry, r)
		default:
			r.err = fmt.Errorf("%s: %w", r.step, fnErr)
		}
	}
	if ok && s.c.beforeCommit != nil {
		ok = s.c.beforeCommit() == nil
	}
	if ok {
		err = sqlTx.Commit()
	} else {
		sqlTx.Rollback()
	}
	if len(t.learn) > 0 {
		s.learn(ctx, t.learn)
	}
	if ok && err == nil {
		s.c.commits.Add(1)
		alone(retry)
		return
	}
	// Nothing of the transaction was kept and nobody was told: everyone
	// not skipped for a canceled context starts again, alone.
	alone(pending)
}

// savepoint runs r's work inside a savepoint of t. ok false means the
// transaction itself is in doubt and must be abandoned; otherwise fnErr is
// r's own failure, of which nothing is left in t.
func (t *tx) savepoint(r *writeReq) (ok bool, fnErr error) {
	if t.exec(`SAVEPOINT unit_of_work`) != nil {
		return false, nil
	}
	head := t.head
	t.now = t.s.opts.Clock()
	if fnErr = r.fn(t); fnErr == nil {
		return t.exec(`RELEASE unit_of_work`) == nil, nil
	}
	if t.exec(`ROLLBACK TO unit_of_work`) != nil || t.exec(`RELEASE unit_of_work`) != nil {
		return false, fnErr
	}
	t.head = head // the chain records of r are gone with its savepoint
	return true, fnErr
}

// exec runs a cached statement that returns no rows.
func (t *tx) exec(query string, args ...any) error {
	st, err := t.stmt(query)
	if err == nil {
		_, err = st.ExecContext(t.ctx, args...)
	}
	return err
}
