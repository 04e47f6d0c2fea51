package board

import (
	"compress/zlib"
	"errors"
	"io"
	"sync"
)

// errInflaterClosed ends the inflater goroutine when a session is dropped.
var errInflaterClosed = errors.New("inflate session closed")

// errStreamEnded is a block fed after the zlib stream's end. The real ROM
// never returns from such a block (under QEMU both the ESP32 and the C3
// loaders fall silent until reset).
var errStreamEnded = errors.New("data after the end of the deflate stream")

// inflater decompresses one FLASH_DEFL session's zlib stream as its blocks
// arrive. compress/zlib cannot resume after its source runs dry, so it runs
// in its own goroutine reading from a source that blocks; feed hands over a
// block and waits until the decompressor has used all of it (or failed),
// so each block's reply reflects what it did, as on the ROM.
type inflater struct {
	mu       sync.Mutex
	cond     *sync.Cond
	in       []byte
	closed   bool
	starved  bool // the decompressor waits for input and in is empty
	done     bool
	err      error
	produced int
	write    func(p []byte, pos uint32) error
	pos      uint32
}

func newInflater(write func(p []byte, pos uint32) error) *inflater {
	f := &inflater{write: write}
	f.cond = sync.NewCond(&f.mu)
	go f.run()
	return f
}

func (f *inflater) run() {
	zr, err := zlib.NewReader(f)
	if err == nil {
		buf := make([]byte, 32*1024)
		for {
			n, rerr := zr.Read(buf)
			if n > 0 {
				if werr := f.write(buf[:n], f.pos); werr != nil {
					err = werr
					break
				}
				f.mu.Lock()
				f.pos += uint32(n)
				f.produced += n
				f.mu.Unlock()
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				err = rerr
				break
			}
		}
	}
	f.mu.Lock()
	f.done, f.err = true, err
	f.cond.Broadcast()
	f.mu.Unlock()
}

// ReadByte feeds the decompressor one byte, blocking until a block brings
// more. Implementing io.ByteReader keeps zlib from reading ahead.
func (f *inflater) ReadByte() (byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.in) == 0 {
		if f.closed {
			return 0, errInflaterClosed
		}
		f.starved = true
		f.cond.Broadcast()
		f.cond.Wait()
	}
	f.starved = false
	c := f.in[0]
	f.in = f.in[1:]
	return c, nil
}

// Read implements io.Reader for the zlib header and trailer.
func (f *inflater) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := f.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

// feed hands one block of compressed data over and returns how many bytes
// it inflated to, and the stream's error if it failed.
func (f *inflater) feed(data []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		if f.err == nil {
			return 0, errStreamEnded
		}
		return 0, f.err
	}
	before := f.produced
	f.in = append(f.in, data...)
	f.starved = false
	f.cond.Broadcast()
	for !f.done && !(f.starved && len(f.in) == 0) {
		f.cond.Wait()
	}
	return f.produced - before, f.err
}

// close stops the goroutine.
func (f *inflater) close() {
	f.mu.Lock()
	f.closed = true
	f.cond.Broadcast()
	f.mu.Unlock()
}
