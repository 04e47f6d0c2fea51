package audit

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema step, applied in a transaction.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order; numbering is 1, 2, 3...
func migrations() []migration {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	var out []migration
	for i, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		v, err := strconv.Atoi(base[:4])
		if err != nil || v != i+1 {
			panic("audit: migration " + base + " is out of sequence")
		}
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			panic(err)
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(b)})
	}
	return out
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return len(migrations()) }

// identify refuses files that are not ours before anything is written.
func (s *Store) identify(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return mapErr(s.path, "read schema", err)
	}
	defer rows.Close()
	var tables []string
	ours := false
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return mapErr(s.path, "read schema", err)
		}
		tables = append(tables, n)
		ours = ours || n == "schema_migrations"
	}
	if err := rows.Err(); err != nil {
		return mapErr(s.path, "read schema", err)
	}
	if len(tables) > 0 && !ours {
		if len(tables) > 5 {
			tables = append(tables[:5], "...")
		}
		return fmt.Errorf("audit %s: open: %w (it has tables %s and no schema_migrations): choose another --db path",
			s.path, ErrForeign, strings.Join(tables, ", "))
	}
	return nil
}

// version reads the applied schema version (0 for a new file).
func version(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var exists int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists); err != nil || exists == 0 {
		return 0, err
	}
	var v int
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// checkVersion is the read-only open's check: the schema must be current.
func (s *Store) checkVersion(ctx context.Context) error {
	v, err := version(ctx, s.r)
	if err != nil {
		return mapErr(s.path, "read schema version", err)
	}
	switch want := SchemaVersion(); {
	case v > want:
		return fmt.Errorf("audit %s: schema version %d, this build knows up to %d: %w; use a newer station program", s.path, v, want, ErrTooNew)
	case v == 0:
		return fmt.Errorf("audit %s: empty database, no audit log: %w", s.path, ErrNotFound)
	case v < want:
		return fmt.Errorf("audit %s: schema version %d needs migrating to %d: open it once with a station (read-write) first", s.path, v, want)
	}
	return nil
}

// migrate applies pending migrations in one transaction: a crash leaves the
// old version intact.
func (s *Store) migrate(ctx context.Context) error {
	return s.migrateTo(ctx, SchemaVersion())
}

func (s *Store) migrateTo(ctx context.Context, target int) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(s.path, "migrate", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`); err != nil {
		return mapErr(s.path, "migrate", err)
	}
	cur, err := version(ctx, tx)
	if err != nil {
		return mapErr(s.path, "migrate: read version", err)
	}
	if cur > SchemaVersion() {
		return fmt.Errorf("audit %s: schema version %d, this build knows up to %d: %w; use a newer station program", s.path, cur, SchemaVersion(), ErrTooNew)
	}
	for _, m := range migrations() {
		if m.version <= cur || m.version > target {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return mapErr(s.path, "migrate to "+m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, stamp(s.opts.Clock())); err != nil {
			return mapErr(s.path, "migrate to "+m.name, err)
		}
	}
	return mapErr(s.path, "migrate: commit", tx.Commit())
}
