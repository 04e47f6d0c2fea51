package slip

import "io"

// Reader reads frames from an io.Reader. An error from the underlying reader
// (a timeout, say) is returned as is and leaves any partial frame intact, so
// calling ReadFrame again resumes where it stopped.
type Reader struct {
	r   io.Reader
	dec Decoder
	buf []byte
}

// NewReader returns a Reader with a strict Decoder.
func NewReader(r io.Reader) *Reader { return &Reader{r: r, buf: make([]byte, 4096)} }

// Decoder exposes the underlying decoder, e.g. to set Lenient or read Noise.
func (r *Reader) Decoder() *Decoder { return &r.dec }

// ReadFrame returns the next frame. A malformed frame is returned as a nil
// frame with its error (ErrBadEscape, ErrFrameTooLong); the stream stays
// usable. A read of (0, nil) is retried; io.Reader implementations that
// return it repeatedly should be wrapped to report a timeout instead.
func (r *Reader) ReadFrame() ([]byte, error) {
	for {
		if f, err, ok := r.dec.Next(); ok {
			return f, err
		}
		n, err := r.r.Read(r.buf)
		if n > 0 {
			r.dec.Feed(r.buf[:n])
		}
		if err != nil {
			if f, ferr, ok := r.dec.Next(); ok {
				return f, ferr
			}
			return nil, err
		}
	}
}
