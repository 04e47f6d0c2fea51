package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"runtime"
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

// Verify walks the whole chain: every record follows its predecessor, every
// hash matches its row as stored, and every row of every history table has
// exactly one record, in order. Each table and the records are read
// sequentially, each on its own connection so decoding runs in parallel,
// all from one snapshot. An error is returned only when the walk itself
// fails; a broken chain is reported in VerifyReport.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	// The transactions live on the caller's context: canceling them with
	// the readers' would roll them back asynchronously, and Verify must
	// have closed its connections (and their WAL read locks) when it returns.
	readers := max(1, runtime.GOMAXPROCS(0))
	txs, release, err := s.snapshot(ctx, len(chainTables)+readers)
	if err != nil {
		return VerifyReport{}, mapErr(s.path, "verify chain", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	// Stop the readers first: a transaction closes only once its rows have.
	defer func() { cancel(); release() }()
	tables := map[string]*stream{}
	for i, tbl := range chainTables {
		tables[tbl] = startTable(ctx, txs[readers+i], tbl)
	}
	recs := startRecords(ctx, txs[:readers])
	rep, err := walk(recs, tables)
	if err != nil {
		return rep, mapErr(s.path, "verify chain", err)
	}
	return rep, nil
}

// snapshot begins n read transactions that all see the same commit: every
// commit appends a record, so equal record counts mean equal snapshots.
func (s *Store) snapshot(ctx context.Context, n int) ([]*sql.Tx, func(), error) {
	db, err := sql.Open("sqlite", s.dsn(false))
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(n)
	release := func(txs []*sql.Tx) {
		for _, t := range txs {
			t.Rollback()
		}
	}
	for try := 0; try < 10; try++ {
		var txs []*sql.Tx
		var first int64 = -1
		same := true
		for range n {
			t, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			if err != nil {
				release(txs)
				db.Close()
				return nil, nil, err
			}
			txs = append(txs, t)
			var seq int64
			if err := t.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM records`).Scan(&seq); err != nil {
				release(txs)
				db.Close()
				return nil, nil, err
			}
			if first < 0 {
				first = seq
			}
			same = same && seq == first
		}
		if same {
			return txs, func() { release(txs); db.Close() }, nil
		}
		release(txs)
	}
	db.Close()
	return nil, nil, fmt.Errorf("the log kept changing while verify started; retry: %w", ErrBusy)
}

// walk merges the record stream with the table streams. It checks order,
// links and rows itself and leaves the hashes to the hasher pool, whose
// results it takes in order, so a bad hash earlier in the chain is reported
// before a later problem of any kind.
func walk(recs *recordStream, tables map[string]*stream) (VerifyReport, error) {
	rep := VerifyReport{}
	h := newHasher()
	defer h.stop()
	prev, lastSeq := zeroHash, int64(0)
	// bad reports b, unless a record before it has a bad hash.
	bad := func(b BadRecord) (VerifyReport, error) {
		if hb := h.drain(); hb != nil {
			return badHash(rep, hb)
		}
		rep.Bad, rep.Head = &b, hex.EncodeToString(prev)
		return rep, nil
	}
	for {
		r, ok, err := recs.next()
		if err != nil {
			return rep, err
		}
		if !ok {
			break
		}
		br := BadRecord{Seq: r.seq, Table: r.tbl, RowID: r.rowID}
		st, known := tables[r.tbl]
		if !known {
			br.Problem = "names an unknown table"
			return bad(br)
		}
		row, have, err := st.peek()
		if err != nil {
			return rep, err
		}
		switch {
		case r.seq != lastSeq+1:
			br.Problem = fmt.Sprintf("records %d..%d are missing", lastSeq+1, r.seq-1)
			return bad(br)
		case !bytes.Equal(r.prev, prev):
			br.Problem = "prev_hash does not match the record before it (removed, inserted or reordered)"
			return bad(br)
		case have && row.id < r.rowID:
			return bad(BadRecord{Table: r.tbl, RowID: row.id, Problem: "row has no record in the chain (inserted outside the log)"})
		case !have || row.id > r.rowID:
			br.Problem = "its row is missing (deleted)"
			return bad(br)
		case row.bad != nil:
			br.Problem = "row has a value of the wrong type: " + row.bad.Error()
			return bad(br)
		}
		b := h.batch()
		b.buf = appendHead(b.buf, r.prev, r.seq, r.tbl, r.rowID)
		b.buf = append(b.buf, row.tail...)
		if hb := h.add(hashRec{seq: r.seq, rowID: r.rowID, tbl: r.tbl, prev: r.prev, hash: r.hash}); hb != nil {
			return badHash(rep, hb)
		}
		st.advance()
		prev, lastSeq = r.hash, r.seq
		rep.Records = r.seq
	}
	for _, tbl := range chainTables {
		row, have, err := tables[tbl].peek()
		if err != nil {
			return rep, err
		}
		if have {
			return bad(BadRecord{Table: tbl, RowID: row.id, Problem: "row has no record in the chain (inserted outside the log)"})
		}
	}
	if hb := h.drain(); hb != nil {
		return badHash(rep, hb)
	}
	rep.OK, rep.Head = true, hex.EncodeToString(prev)
	return rep, nil
}

// badHash reports record r, whose stored hash does not match its bytes:
// the records before it are good.
func badHash(rep VerifyReport, r *hashRec) (VerifyReport, error) {
	rep.Records, rep.Head = r.seq-1, hex.EncodeToString(r.prev)
	rep.Bad = &BadRecord{Seq: r.seq, Table: r.tbl, RowID: r.rowID, Problem: "row or record edited: hash does not match"}
	return rep, nil
}
