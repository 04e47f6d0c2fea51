package audit

import (
	"bytes"
	"crypto/sha256"
	"runtime"
)

// Verify's hashing runs beside the walk. Given the stored hashes every
// record's check (stored hash == SHA-256 of its bytes) is independent of
// the others, so the walk, which checks order and links, hands records in
// batches to a pool of hashers and looks at the batches' results in the
// order it made them: the first bad record is still the first one reported,
// and at most a few batches are in flight, so memory stays bounded.

// hashBatchRecords is how many records a hasher takes at a time (a
// variable for tests, which need many batches in a small log).
var hashBatchRecords = 512

// hashRec is what a bad hash is reported with.
type hashRec struct {
	seq, rowID int64
	tbl        string
	prev, hash []byte // stored; they point into the record stream's chunks
	end        int    // end of the record's bytes in hashBatch.buf
}

// hashBatch is records' hashed bytes, back to back, and their stored hashes.
type hashBatch struct {
	buf  []byte
	recs []hashRec
	bad  int // index of the first record whose hash does not match, or -1
	done chan struct{}
}

func (b *hashBatch) check() {
	b.bad = -1
	start := 0
	for i, r := range b.recs {
		if sum := sha256.Sum256(b.buf[start:r.end]); !bytes.Equal(sum[:], r.hash) {
			b.bad = i
			break
		}
		start = r.end
	}
	b.done <- struct{}{}
}

// hasher is the pool and the walk's queue of batches in flight.
type hasher struct {
	jobs     chan *hashBatch
	queue    []*hashBatch // submitted, oldest first
	free     []*hashBatch
	cur      *hashBatch
	size     int // records per batch
	inFlight int
}

func newHasher() *hasher {
	n := max(1, runtime.GOMAXPROCS(0))
	h := &hasher{jobs: make(chan *hashBatch, n), size: hashBatchRecords, inFlight: 2 * n}
	for range n {
		go func() {
			for b := range h.jobs {
				b.check()
			}
		}()
	}
	return h
}

// stop ends the hashers once the batches given to them are done.
func (h *hasher) stop() { close(h.jobs) }

// batch returns the batch being filled.
func (h *hasher) batch() *hashBatch {
	if h.cur == nil {
		if n := len(h.free); n > 0 {
			h.cur, h.free = h.free[n-1], h.free[:n-1]
			h.cur.buf, h.cur.recs = h.cur.buf[:0], h.cur.recs[:0]
		} else {
			h.cur = &hashBatch{recs: make([]hashRec, 0, h.size), done: make(chan struct{}, 1)}
		}
	}
	return h.cur
}

// add queues record r, whose hashed bytes are the ones just appended to
// batch().buf. It returns the first bad record of the oldest batches it
// had to wait for, if one was bad.
func (h *hasher) add(r hashRec) *hashRec {
	b := h.cur
	r.end = len(b.buf)
	b.recs = append(b.recs, r)
	if len(b.recs) < h.size {
		return nil
	}
	h.cur = nil
	h.queue = append(h.queue, b)
	h.jobs <- b
	for len(h.queue) > h.inFlight {
		if bad := h.pop(); bad != nil {
			return bad
		}
	}
	return nil
}

// drain hashes what is left and returns the first bad record, if any.
func (h *hasher) drain() *hashRec {
	if b := h.cur; b != nil && len(b.recs) > 0 {
		h.cur = nil
		h.queue = append(h.queue, b)
		h.jobs <- b
	}
	for len(h.queue) > 0 {
		if bad := h.pop(); bad != nil {
			return bad
		}
	}
	return nil
}

// pop waits for the oldest batch and returns its bad record, if any.
func (h *hasher) pop() *hashRec {
	b := h.queue[0]
	h.queue = h.queue[1:]
	<-b.done
	if b.bad >= 0 {
		r := b.recs[b.bad]
		return &r
	}
	h.free = append(h.free, b)
	return nil
}
