package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// timeLayout is how times are stored: UTC, millisecond, fixed width.
const timeLayout = "2006-01-02T15:04:05.000Z"

// stamp formats t for storage.
func stamp(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseStamp reads a stored time ("" reads as the zero time).
func parseStamp(s string) time.Time {
	t, _ := time.Parse(timeLayout, s)
	return t
}

// tx is one unit of work: a write transaction carrying the time of all its
// records and the chain head it appends to.
type tx struct {
	*sql.Tx
	ctx   context.Context
	s     *Store
	now   time.Time
	head  *chainHead
	stmts map[string]*sql.Stmt
	learn []string // queries to prepare on the pool afterwards
}

// maxBusyRetries bounds retries of a transaction that met SQLITE_BUSY after
// the busy timeout (another process held the lock that long).
const maxBusyRetries = 3

// write runs fn in a BEGIN IMMEDIATE transaction and commits it; on any
// error nothing of fn is kept. step names the unit of work in errors.
//
// Units of work from concurrent callers share transactions (group.go):
// write returns once fn's work is durably committed, or with fn's error
// and nothing of it kept. fn may run more than once (after SQLITE_BUSY, or
// when its group's transaction fails), so it must set everything it
// reports to its caller afresh on every run.
func (s *Store) write(ctx context.Context, step string, fn func(*tx) error) error {
	if s.opts.ReadOnly {
		return fmt.Errorf("audit %s: %s: opened read-only: %w", s.path, step, ErrReadOnly)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	r := &writeReq{ctx: ctx, step: step, fn: fn, done: make(chan struct{})}
	if err := s.enqueue(r); err != nil {
		return err
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if s.c.withdraw(r) {
			return fmt.Errorf("%s: %w", step, ctx.Err())
		}
		<-r.done // taken: its outcome is the group's
	}
	return r.err
}

// writeAlone runs fn in a transaction of its own, retrying after
// SQLITE_BUSY, and names step in its error.
func (s *Store) writeAlone(ctx context.Context, step string, fn func(*tx) error) error {
	var err error
	for try := 0; try <= maxBusyRetries; try++ {
		if err = s.writeOnce(ctx, fn); err == nil || !isBusy(err) || ctx.Err() != nil {
			break
		}
	}
	if err == nil {
		return nil
	}
	if sqliteCode(err) != 0 {
		return mapErr(s.path, step, err)
	}
	return fmt.Errorf("%s: %w", step, err)
}

func (s *Store) writeOnce(ctx context.Context, fn func(*tx) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	t := &tx{Tx: sqlTx, ctx: ctx, s: s, now: s.opts.Clock(), stmts: map[string]*sql.Stmt{}}
	err = fn(t)
	if err != nil {
		sqlTx.Rollback()
	} else if err = sqlTx.Commit(); err == nil {
		s.c.commits.Add(1)
	}
	// The transaction closed its statements; the connection is free again.
	if len(t.learn) > 0 {
		s.learn(context.WithoutCancel(ctx), t.learn)
	}
	return err
}

// read runs fn in a read transaction: one consistent snapshot.
func (s *Store) read(ctx context.Context, step string, fn func(*sql.Tx) error) error {
	t, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return mapErr(s.path, step, err)
	}
	defer t.Rollback()
	if err := fn(t); err != nil {
		if sqliteCode(err) != 0 {
			return mapErr(s.path, step, err)
		}
		return fmt.Errorf("%s: %w", step, err)
	}
	return nil
}

// stmt returns query as a statement of this transaction. Statements are
// prepared once per Store on the writer pool and reused by every
// transaction (most of a unit of work's CPU time is otherwise spent
// preparing). A query seen for the first time is prepared on the
// transaction and learned for the pool after the transaction ends: the pool
// has one connection, so preparing on it now would wait for ourselves.
func (t *tx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	t.s.mu.Lock()
	dbStmt := t.s.stmts[query]
	t.s.mu.Unlock()
	var st *sql.Stmt
	if dbStmt != nil {
		st = t.StmtContext(t.ctx, dbStmt)
	} else {
		var err error
		if st, err = t.PrepareContext(t.ctx, query); err != nil {
			return nil, err
		}
		t.learn = append(t.learn, query)
	}
	t.stmts[query] = st
	return st, nil
}

// learn prepares queries on the writer pool for later transactions.
func (s *Store) learn(ctx context.Context, queries []string) {
	for _, q := range queries {
		s.mu.Lock()
		_, known := s.stmts[q]
		s.mu.Unlock()
		if known {
			continue
		}
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			continue // prepared per transaction instead
		}
		s.mu.Lock()
		if _, known := s.stmts[q]; known || s.stmts == nil {
			st.Close()
		} else {
			s.stmts[q] = st
		}
		s.mu.Unlock()
	}
}

// queryRow runs a cached single-row query.
func (t *tx) queryRow(query string, args ...any) *sql.Row {
	st, err := t.stmt(query)
	if err != nil {
		// Let the caller see the prepare error through Scan.
		return t.QueryRowContext(t.ctx, query, args...)
	}
	return st.QueryRowContext(t.ctx, args...)
}

// appendRow inserts a history row and chains it. vals are in the order of
// allColumns(table): the same list Verify reads back.
func (t *tx) appendRow(table string, vals ...any) (int64, error) {
	cols := allColumns(table)
	if len(cols) == 0 || len(cols) != len(vals) {
		return 0, fmt.Errorf("audit: internal: %s takes %d columns, got %d", table, len(cols), len(vals))
	}
	for i, v := range vals {
		if s, ok := v.(string); ok && containsPrivateKey(s) {
			return 0, fmt.Errorf("%s.%s holds a PEM private key: %w (record fingerprints, never keys)", table, cols[i], ErrSecret)
		}
	}
	st, err := t.stmt(insertSQL(table))
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(t.ctx, vals...)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	return id, t.chain(table, id, vals)
}

// insertSQL is "INSERT INTO table (cols) VALUES (?, ...)".
func insertSQL(table string) string {
	cols := allColumns(table)
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
}

// stationID returns the id of this Store's station, recording it first.
func (t *tx) stationID() (int64, error) {
	var id int64
	err := t.queryRow(`SELECT id FROM stations WHERE name = ?`, t.s.opts.Station).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		host, _ := os.Hostname()
		return t.appendRow("stations", t.s.opts.Station, host, stamp(t.now))
	}
	return id, err
}

// readStmt returns query prepared once on the reader pool; lookups by MAC
// or SN spend more time preparing than running otherwise.
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.rstmts[query]; ok {
		return st, nil
	}
	if s.rstmts == nil {
		return nil, fmt.Errorf("audit %s: store is closed", s.path)
	}
	st, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.rstmts[query] = st
	return st, nil
}
