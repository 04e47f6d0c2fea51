package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers driver "sqlite"
)

// Options configure a Store.
type Options struct {
	// Station names the station writing through this Store; it is recorded
	// on batches, reservations and attempts. Default: the host name.
	Station string
	// Clock supplies the time of every record. Default: time.Now.
	Clock func() time.Time
	// ReadOnly opens an existing log for queries, verify and export only:
	// nothing is created or migrated.
	ReadOnly bool
	// BusyTimeout is how long a writer waits for another process's
	// transaction. Default 10 s.
	BusyTimeout time.Duration

	maxPages int  // tests: PRAGMA max_page_count, to make the disk "full"
	forceRO  bool // tests: open the file read-only as a read-only mount would
}

// Store is an open audit log. It is safe for concurrent use; several
// processes may open the same file.
type Store struct {
	path string
	opts Options
	w    *sql.DB    // writers: one connection, BEGIN IMMEDIATE
	r    *sql.DB    // readers
	c    *committer // runs s.write's units of work, see group.go

	mu     sync.Mutex
	stmts  map[string]*sql.Stmt // prepared on w, see tx.stmt
	rstmts map[string]*sql.Stmt // prepared on r, see readStmt
}

// Open opens (creating if needed) the audit log at path, migrates it to the
// current schema and checks that it can be written, so a station that
// cannot record refuses to start instead of failing mid-batch.
func Open(path string, opts Options) (*Store, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Station == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "station"
		}
		opts.Station = h
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if path == "" {
		return nil, fmt.Errorf("audit: open: empty path: %w", ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("audit %s: open: %w", path, err)
	}
	if err := preflight(abs, opts.ReadOnly); err != nil {
		return nil, err
	}
	s, err := openPools(abs, opts)
	if err != nil {
		return nil, err
	}
	if err := s.init(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openPools opens the writer and reader pools without touching the file.
func openPools(abs string, opts Options) (*Store, error) {
	s := &Store{path: abs, opts: opts, stmts: map[string]*sql.Stmt{}, rstmts: map[string]*sql.Stmt{}}
	var err error
	if s.w, err = sql.Open("sqlite", s.dsn(true)); err != nil {
		return nil, mapErr(abs, "open", err)
	}
	s.w.SetMaxOpenConns(1) // writers queue here instead of spinning on locks
	if s.r, err = sql.Open("sqlite", s.dsn(false)); err != nil {
		s.w.Close()
		return nil, mapErr(abs, "open", err)
	}
	s.r.SetMaxOpenConns(4)
	s.r.SetMaxIdleConns(4) // a new connection costs far more than a query
	if !opts.ReadOnly {
		s.startCommitter()
	}
	return s, nil
}

// Check opens the log at path as a station would and closes it again: nil
// means the station can record there.
func Check(path string) error {
	s, err := Open(path, Options{})
	if err != nil {
		return err
	}
	return s.Close()
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database. Units of work in flight finish first; those
// still queued fail with ErrClosed, and so does any write after Close.
func (s *Store) Close() error {
	s.stopCommitter()
	var errs []error
	s.mu.Lock()
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	for _, st := range s.rstmts {
		errs = append(errs, st.Close())
	}
	s.stmts, s.rstmts = nil, nil
	s.mu.Unlock()
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// dsn builds the connection string. synchronous=FULL on every connection:
// in WAL mode NORMAL may lose the last commits on power loss, and a lost
// reservation or confirmation could hand a labelled board's SN to another
// board. One WAL fsync per commit costs about a millisecond, far below a
// line's pace.
func (s *Store) dsn(writer bool) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(s.path)}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path // Windows: file:///C:/...
	}
	q := []string{
		"_pragma=busy_timeout(" + fmt.Sprint(s.opts.BusyTimeout.Milliseconds()) + ")",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(FULL)",
	}
	// journal_mode is set in init, after identify: setting it here would
	// rewrite the header of a file that turns out not to be ours.
	if s.opts.ReadOnly || s.opts.forceRO {
		q = append(q, "mode=ro")
	} else {
		q = append(q, "mode=rwc")
	}
	if s.opts.maxPages > 0 {
		q = append(q, fmt.Sprintf("_pragma=max_page_count(%d)", s.opts.maxPages))
	}
	if writer {
		q = append(q, "_txlock=immediate")
	} else {
		q = append(q, "_pragma=query_only(1)")
	}
	return u.String() + "?" + strings.Join(q, "&")
}

// preflight gives clear errors for what SQLite would report vaguely.
func preflight(path string, readOnly bool) error {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("audit %s: open: is a directory: %w", path, ErrInvalid)
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("audit %s: open: %w", path, err)
	case readOnly:
		return fmt.Errorf("audit %s: open: no audit log there: %w", path, ErrNotFound)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("audit %s: open: directory %s does not exist: create it or choose another path", path, dir)
	}
	return nil
}

// init checks what the file is, migrates it, and probes that it is writable.
func (s *Store) init() error {
	ctx := context.Background()
	if err := s.identify(ctx); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return s.checkVersion(ctx)
	}
	// WAL is a property of the file: set once, every connection uses it.
	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return mapErr(s.path, "set WAL mode", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("audit %s: journal mode is %q, not WAL: %w", s.path, mode, ErrReadOnly)
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	return s.probeWrite(ctx)
}

// probeWrite writes and rolls back, so a read-only file, directory or
// mount fails now rather than in the middle of a batch.
func (s *Store) probeWrite(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(s.path, "check writable", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE write_probe (x INTEGER)`); err != nil {
		return mapErr(s.path, "check writable", err)
	}
	return nil
}
