package audit

import (
	"bytes"
	"context"
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

// tableCursor walks one table in id order alongside the records.
type tableCursor struct {
	rows *sql.Rows
	vals []any
	id   int64
	done bool
}

func (c *tableCursor) next() error {
	if c.rows.Next() {
		ptrs := make([]any, len(c.vals)+1)
		ptrs[0] = &c.id
		for i := range c.vals {
			ptrs[i+1] = &c.vals[i]
		}
		return c.rows.Scan(ptrs...)
	}
	c.done = true
	return c.rows.Err()
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
		rows, err := t.QueryContext(ctx, "SELECT id, "+strings.Join(tableColumns[tbl], ", ")+" FROM "+tbl+" ORDER BY id")
		if err != nil {
			return rep, err
		}
		c := &tableCursor{rows: rows, vals: make([]any, len(tableColumns[tbl]))}
		cursors[tbl] = c
		if err := c.next(); err != nil {
			return rep, err
		}
	}
	recs, err := t.QueryContext(ctx, `SELECT seq, tbl, row_id, prev_hash, hash FROM records ORDER BY seq`)
	if err != nil {
		return rep, err
	}
	defer recs.Close()
	prev, lastSeq := zeroHash, int64(0)
	bad := func(b BadRecord) (VerifyReport, error) {
		rep.Bad = &b
		return rep, nil
	}
	for recs.Next() {
		var seq, rowID int64
		var tbl string
		var prevHash, hash []byte
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
		sum, err := recordHash(prevHash, seq, tbl, rowID, c.vals)
		if err != nil {
			return rep, err
		}
		if !bytes.Equal(sum, hash) {
			br.Problem = "row or record edited: hash does not match"
			return bad(br)
		}
		if err := c.next(); err != nil {
			return rep, err
		}
		prev, lastSeq = hash, seq
		rep.Records, rep.Head = seq, hex.EncodeToString(hash)
	}
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
