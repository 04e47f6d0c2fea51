package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
)

// VerifyReport is the result of walking the hash chain.
type VerifyReport struct {
	Records int64  // records checked
	Head    string // hex hash of the last good record: note it to detect truncation later
	OK      bool
	Bad     *BadRecord // the first problem, when !OK
}

// BadRecord names the first record (or row) that does not fit the chain.
type BadRecord struct {
	Seq     int64  // record number (0 if the problem is a row without a record)
	Table   string // the table of the row concerned
	RowID   int64
	Problem string // "row edited", "record missing", ...
}

func (b *BadRecord) String() string {
	if b.Seq == 0 {
		return fmt.Sprintf("%s row %d: %s", b.Table, b.RowID, b.Problem)
	}
	return fmt.Sprintf("record %d (%s row %d): %s", b.Seq, b.Table, b.RowID, b.Problem)
}

// tableCursor walks one table in id order alongside the records. Values
// are scanned by declared column type into reused buffers, so the walk
// allocates little per row.
type tableCursor struct {
	rows  *sql.Rows
	types []byte // per column: 'i' INTEGER, 't' TEXT, 'b' BLOB, 'a' other
	ints  []int64
	raws  []sql.RawBytes
	anys  []any
	dest  []any
	id    int64
	done  bool
	bad   error // a value that could not be read as its declared type
}

func newCursor(ctx context.Context, t *sql.Tx, tbl string) (*tableCursor, error) {
	cols := tableColumns[tbl]
	decl, err := columnTypes(ctx, t, tbl)
	if err != nil {
		return nil, err
	}
	c := &tableCursor{types: make([]byte, len(cols)), ints: make([]int64, len(cols)),
		raws: make([]sql.RawBytes, len(cols)), anys: make([]any, len(cols))}
	c.dest = append(c.dest, &c.id)
	for i, col := range cols {
		switch decl[col] {
		case "INTEGER":
			c.types[i] = 'i'
			c.dest = append(c.dest, &c.ints[i])
		case "TEXT":
			c.types[i] = 't'
			c.dest = append(c.dest, &c.raws[i])
		case "BLOB":
			c.types[i] = 'b'
			c.dest = append(c.dest, &c.raws[i])
		default:
			c.types[i] = 'a'
			c.dest = append(c.dest, &c.anys[i])
		}
	}
	c.rows, err = t.QueryContext(ctx, "SELECT id, "+strings.Join(cols, ", ")+" FROM "+tbl+" ORDER BY id")
	if err != nil {
		return nil, err
	}
	return c, c.next()
}

// columnTypes reads the declared types of a table's columns.
func columnTypes(ctx context.Context, t *sql.Tx, tbl string) (map[string]string, error) {
	rows, err := t.QueryContext(ctx, "SELECT name, type FROM pragma_table_info(?)", tbl)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, typ string
		if err := rows.Scan(&n, &typ); err != nil {
			return nil, err
		}
		out[n] = strings.ToUpper(typ)
	}
	return out, rows.Err()
}

func (c *tableCursor) next() error {
	if !c.rows.Next() {
		c.done = true
		return c.rows.Err()
	}
	c.bad = c.rows.Scan(c.dest...)
	return nil
}

// hash computes the record hash of the current row into buf.
func (c *tableCursor) hash(buf, prev []byte, seq int64, tbl string) ([]byte, [32]byte, error) {
	b := appendHead(buf[:0], prev, seq, tbl, c.id)
	for i, typ := range c.types {
		switch typ {
		case 'i':
			b = appendInt(b, c.ints[i])
		case 't', 'b':
			b = appendBytes(b, typ, c.raws[i])
		default:
			sum, err := recordHash(prev, seq, tbl, c.id, c.slowValues())
			if err != nil || sum == nil {
				return b, [32]byte{}, err
			}
			return b, [32]byte(sum), nil
		}
	}
	return b, sha256.Sum256(b), nil
}

// slowValues returns the row as generic values (for an undeclared type).
func (c *tableCursor) slowValues() []any {
	vals := make([]any, len(c.types))
	for i, typ := range c.types {
		switch typ {
		case 'i':
			vals[i] = c.ints[i]
		case 't':
			vals[i] = string(c.raws[i])
		case 'b':
			vals[i] = []byte(c.raws[i])
		default:
			vals[i] = c.anys[i]
		}
	}
	return vals
}

// Verify walks the whole chain in one read snapshot: every record follows
// its predecessor, every hash matches its row as stored, and every row of
// every history table has exactly one record, in order. It reads each table
// once, sequentially. An error is returned only when the walk itself fails;
// a broken chain is reported in VerifyReport.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	err := s.read(ctx, "verify chain", func(t *sql.Tx) error {
		var err error
		rep, err = verifyTx(ctx, t)
		return err
	})
	return rep, err
}

func verifyTx(ctx context.Context, t *sql.Tx) (VerifyReport, error) {
	rep := VerifyReport{Head: hex.EncodeToString(zeroHash)}
	cursors := map[string]*tableCursor{}
	defer func() {
		for _, c := range cursors {
			c.rows.Close()
		}
	}()
	for _, tbl := range chainTables {
		c, err := newCursor(ctx, t, tbl)
		if c != nil {
			cursors[tbl] = c
		}
		if err != nil {
			return rep, err
		}
	}
	recs, err := t.QueryContext(ctx, `SELECT seq, tbl, row_id, prev_hash, hash FROM records ORDER BY seq`)
	if err != nil {
		return rep, err
	}
	defer recs.Close()
	prev, lastSeq := append([]byte(nil), zeroHash...), int64(0)
	var buf []byte
	var prevHash, hash sql.RawBytes
	bad := func(b BadRecord) (VerifyReport, error) {
		rep.Bad, rep.Head = &b, hex.EncodeToString(prev)
		return rep, nil
	}
	for recs.Next() {
		var seq, rowID int64
		var tbl string
		if err := recs.Scan(&seq, &tbl, &rowID, &prevHash, &hash); err != nil {
			return rep, err
		}
		br := BadRecord{Seq: seq, Table: tbl, RowID: rowID}
		c, ok := cursors[tbl]
		switch {
		case seq != lastSeq+1:
			br.Problem = fmt.Sprintf("records %d..%d are missing", lastSeq+1, seq-1)
			return bad(br)
		case !bytes.Equal(prevHash, prev):
			br.Problem = "prev_hash does not match the record before it (removed, inserted or reordered)"
			return bad(br)
		case !ok:
			br.Problem = "names an unknown table"
			return bad(br)
		case !c.done && c.id < rowID:
			return bad(BadRecord{Table: tbl, RowID: c.id, Problem: "row has no record in the chain (inserted outside the log)"})
		case c.done || c.id > rowID:
			br.Problem = "its row is missing (deleted)"
			return bad(br)
		}
		if c.bad != nil {
			br.Problem = "row has a value of the wrong type: " + c.bad.Error()
			return bad(br)
		}
		var sum [32]byte
		buf, sum, err = c.hash(buf, prevHash, seq, tbl)
		if err != nil {
			return rep, err
		}
		if !bytes.Equal(sum[:], hash) {
			br.Problem = "row or record edited: hash does not match"
			return bad(br)
		}
		if err := c.next(); err != nil {
			return rep, err
		}
		prev, lastSeq = append(prev[:0], hash...), seq
		rep.Records = seq
	}
	rep.Head = hex.EncodeToString(prev)
	if err := recs.Err(); err != nil {
		return rep, err
	}
	for _, tbl := range chainTables {
		if c := cursors[tbl]; !c.done {
			return bad(BadRecord{Table: tbl, RowID: c.id, Problem: "row has no record in the chain (inserted outside the log)"})
		}
	}
	rep.OK = true
	return rep, nil
}
