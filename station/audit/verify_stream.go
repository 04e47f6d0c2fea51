package audit

import (
	"context"
	"database/sql"
	"math"
	"strings"
)

// chunkRows is how many rows a reader decodes before handing them over.
const chunkRows = 1024

// tableRow is one history row as the chain walk needs it: its id and the
// canonical bytes of its values (the part of the hashed bytes after the id).
type tableRow struct {
	id   int64
	tail []byte
	bad  error // a value that could not be read as its declared type
}

type rowChunk struct {
	rows []tableRow
	err  error
}

// stream hands out a table's rows in id order, decoded by a reader goroutine.
type stream struct {
	ch   <-chan rowChunk
	cur  []tableRow
	i    int
	done bool
	err  error
}

func (s *stream) peek() (tableRow, bool, error) {
	for !s.done && s.i >= len(s.cur) {
		c, ok := <-s.ch
		switch {
		case !ok:
			s.done = true
		case c.err != nil:
			s.done, s.err = true, c.err
		default:
			s.cur, s.i = c.rows, 0
		}
	}
	if s.done {
		return tableRow{}, false, s.err
	}
	return s.cur[s.i], true, nil
}

func (s *stream) advance() { s.i++ }

// startTable reads table tbl in id order on t, in the background.
func startTable(ctx context.Context, t *sql.Tx, tbl string) *stream {
	ch := make(chan rowChunk, 4)
	go func() {
		defer close(ch)
		err := readTable(ctx, t, tbl, func(c []tableRow) bool {
			select {
			case ch <- rowChunk{rows: c}:
				return true
			case <-ctx.Done():
				return false
			}
		})
		if err != nil {
			select {
			case ch <- rowChunk{err: err}:
			case <-ctx.Done():
			}
		}
	}()
	return &stream{ch: ch}
}

// readTable scans each column by its declared type into reused buffers and
// emits the canonical bytes, chunk by chunk.
func readTable(ctx context.Context, t *sql.Tx, tbl string, emit func([]tableRow) bool) error {
	cols, base := allColumns(tbl), len(tableColumns[tbl])
	decl, err := columnTypes(ctx, t, tbl)
	if err != nil {
		return err
	}
	var id int64
	types := make([]byte, len(cols))
	ints := make([]int64, len(cols))
	raws := make([]sql.RawBytes, len(cols))
	anys := make([]any, len(cols))
	dest := []any{&id}
	for i, col := range cols {
		switch decl[col] {
		case "INTEGER":
			types[i] = 'i'
			dest = append(dest, &ints[i])
		case "TEXT":
			types[i] = 't'
			dest = append(dest, &raws[i])
		case "BLOB":
			types[i] = 'b'
			dest = append(dest, &raws[i])
		default:
			types[i] = 'a'
			dest = append(dest, &anys[i])
		}
	}
	rows, err := t.QueryContext(ctx, "SELECT id, "+strings.Join(cols, ", ")+" FROM "+tbl+" ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	chunk := make([]tableRow, 0, chunkRows)
	var arena []byte
	for rows.Next() {
		if len(chunk) == chunkRows {
			if !emit(chunk) {
				return nil
			}
			chunk, arena = make([]tableRow, 0, chunkRows), nil
		}
		if err := rows.Scan(dest...); err != nil {
			chunk = append(chunk, tableRow{id: id, bad: err})
			continue
		}
		start := len(arena)
		for i, typ := range types {
			switch typ {
			case 'i':
				arena = appendInt(arena, ints[i])
			case 't', 'b':
				if i >= base && len(raws[i]) == 0 {
					continue // an added column left empty (see addedColumns)
				}
				arena = appendBytes(arena, typ, raws[i])
			default:
				if arena, err = appendValue(arena, anys[i]); err != nil {
					return err
				}
			}
		}
		chunk = append(chunk, tableRow{id: id, tail: arena[start:len(arena):len(arena)]})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(chunk) > 0 {
		emit(chunk)
	}
	return nil
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

// record is one row of the records table.
type record struct {
	seq, rowID int64
	tbl        string
	prev, hash []byte
}

type recordChunk struct {
	recs []record
	err  error
}

// recordBlock is how many seqs a records reader takes at a time (a
// variable for tests, which need many blocks in a small log).
var recordBlock int64 = chunkRows

// recordStream hands out the records in seq order. The records are read
// in blocks of recordBlock seqs dealt round-robin to several readers, each on
// its own connection of the snapshot: decoding rows is most of Verify's
// work and one reader kept one core busy while the others waited. Taking
// the blocks back in turn keeps the order, and each reader is at most a
// few blocks ahead.
type recordStream struct {
	chs  []chan recordChunk
	turn int
	cur  []record
	i    int
	done bool
	err  error
}

func (s *recordStream) next() (record, bool, error) {
	for !s.done && s.i >= len(s.cur) {
		c, ok := <-s.chs[s.turn]
		s.turn = (s.turn + 1) % len(s.chs)
		switch {
		case !ok:
			s.done = true // that reader had no block left: neither has any after it
		case c.err != nil:
			s.done, s.err = true, c.err
		default:
			s.cur, s.i = c.recs, 0
		}
	}
	if s.done {
		return record{}, false, s.err
	}
	s.i++
	return s.cur[s.i-1], true, nil
}

// startRecords reads the records table in seq order on the transactions
// txs (one reader each, all of one snapshot), in the background.
func startRecords(ctx context.Context, txs []*sql.Tx) *recordStream {
	s := &recordStream{chs: make([]chan recordChunk, len(txs))}
	for i := range txs {
		s.chs[i] = make(chan recordChunk, 4)
	}
	var maxSeq int64
	if err := txs[0].QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM records`).Scan(&maxSeq); err != nil {
		go func() { s.chs[0] <- recordChunk{err: err} }()
		return s
	}
	size := recordBlock
	blocks := max(1, (maxSeq+size-1)/size)
	for k, t := range txs {
		go readRecordBlocks(ctx, t, s.chs[k], size, int64(k), int64(len(txs)), blocks)
	}
	return s
}

// readRecordBlocks sends blocks k, k+step, ... of size seqs of the records to ch, one
// chunk per block (empty when its records are missing). The first block has
// no lower bound and the last no upper one, so a record with an
// out-of-range seq is still read and reported.
func readRecordBlocks(ctx context.Context, t *sql.Tx, ch chan<- recordChunk, size, k, step, blocks int64) {
	defer close(ch)
	send := func(c recordChunk) bool {
		select {
		case ch <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	st, err := t.PrepareContext(ctx, `SELECT seq, tbl, row_id, prev_hash, hash FROM records WHERE seq > ? AND seq <= ? ORDER BY seq`)
	if err != nil {
		send(recordChunk{err: err})
		return
	}
	defer st.Close()
	names := map[string]string{} // one string per table name, not per record
	var tbl, prev, hash sql.RawBytes
	for b := k; b < blocks; b += step {
		lo, hi := b*size, (b+1)*size
		if b == 0 {
			lo = math.MinInt64
		}
		if b == blocks-1 {
			hi = math.MaxInt64
		}
		rows, err := st.QueryContext(ctx, lo, hi)
		if err != nil {
			send(recordChunk{err: err})
			return
		}
		chunk := make([]record, 0, size)
		arena := make([]byte, 0, size*64)
		for rows.Next() {
			var r record
			if err := rows.Scan(&r.seq, &tbl, &r.rowID, &prev, &hash); err != nil {
				rows.Close()
				send(recordChunk{err: err})
				return
			}
			name, ok := names[string(tbl)]
			if !ok {
				name = string(tbl)
				names[name] = name
			}
			r.tbl = name
			start := len(arena)
			arena = append(arena, prev...)
			arena = append(arena, hash...)
			r.prev = arena[start : start+len(prev) : start+len(prev)]
			r.hash = arena[start+len(prev) : len(arena) : len(arena)]
			chunk = append(chunk, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			send(recordChunk{err: err})
			return
		}
		if !send(recordChunk{recs: chunk}) {
			return
		}
	}
}
