package slip

import (
	"errors"
	"fmt"
)

// DefaultMaxFrame bounds a decoded frame. The largest legitimate packet is a
// stub flash block (16 KiB of data plus headers); a frame longer than this is
// line noise and is dropped rather than buffered without limit.
const DefaultMaxFrame = 64 * 1024

// MaxNoise is how many bytes of between-frame noise a Decoder keeps; older
// noise is discarded first. A ROM banner is well under this.
const MaxNoise = 4096

// ErrBadEscape reports an Esc followed by something other than EscEnd or
// EscEsc. In strict mode the frame is discarded.
var ErrBadEscape = errors.New("slip: invalid escape sequence")

// ErrFrameTooLong reports a frame that exceeded the decoder's limit; the
// frame is discarded and decoding resumes at the next delimiter.
var ErrFrameTooLong = errors.New("slip: frame too long")

// Decoder turns a byte stream into frames. Feed it bytes in any chunking and
// take complete frames with Next. The zero value is ready: strict escapes and
// DefaultMaxFrame.
type Decoder struct {
	// Lenient decodes an invalid escape the way the ESP32 ROM does: the Esc
	// byte is dropped and the following byte is taken literally. When false,
	// the frame is reported as ErrBadEscape and discarded.
	Lenient bool
	// MaxFrame overrides DefaultMaxFrame when non-zero.
	MaxFrame int

	inFrame bool
	escaped bool
	bad     error
	cur     []byte
	ready   [][]byte
	errs    []error
	noise   []byte
}

// Feed consumes p. Complete frames become available through Next.
// Empty frames (two delimiters in a row) are dropped.
func (d *Decoder) Feed(p []byte) {
	limit := d.MaxFrame
	if limit == 0 {
		limit = DefaultMaxFrame
	}
	for _, b := range p {
		if !d.inFrame {
			if b == End {
				d.inFrame = true
				d.cur = d.cur[:0]
				d.escaped, d.bad = false, nil
				continue
			}
			d.addNoise(b)
			continue
		}
		if b == End {
			d.finish()
			continue
		}
		if d.bad != nil {
			continue // skip the rest of a frame already known bad
		}
		if d.escaped {
			d.escaped = false
			switch b {
			case EscEnd:
				b = End
			case EscEsc:
				b = Esc
			default:
				if !d.Lenient {
					d.bad = fmt.Errorf("%w: 0x%02X 0x%02X at frame byte %d", ErrBadEscape, Esc, b, len(d.cur))
					continue
				}
			}
		} else if b == Esc {
			d.escaped = true
			continue
		}
		if len(d.cur) >= limit {
			d.bad = fmt.Errorf("%w: more than %d bytes", ErrFrameTooLong, limit)
			continue
		}
		d.cur = append(d.cur, b)
	}
}

// finish closes the current frame at a delimiter. A frame with no bytes is
// the start of the next one (C0 C0 between packets).
func (d *Decoder) finish() {
	switch {
	case d.bad != nil:
		d.errs = append(d.errs, d.bad)
		d.ready = append(d.ready, nil)
	case len(d.cur) == 0:
		// C0 C0 with nothing between: an empty frame, not a packet. Going
		// back to "between frames" (as esptool does) keeps a banner that
		// follows the ROM's C0 C0 after a baud change or reboot out of the
		// next frame.
	default:
		f := make([]byte, len(d.cur))
		copy(f, d.cur)
		d.ready = append(d.ready, f)
		d.errs = append(d.errs, nil)
	}
	d.inFrame = false
	d.cur = d.cur[:0]
	d.escaped, d.bad = false, nil
}

// Next returns the oldest complete frame. ok is false when none is ready.
// A frame that was malformed comes back as (nil, err, true) so the caller can
// count it; decoding has already moved past it.
func (d *Decoder) Next() (frame []byte, err error, ok bool) {
	if len(d.ready) == 0 {
		return nil, nil, false
	}
	frame, err = d.ready[0], d.errs[0]
	d.ready[0], d.errs[0] = nil, nil
	d.ready, d.errs = d.ready[1:], d.errs[1:]
	return frame, err, true
}

// Pending reports whether a frame has begun but not ended.
func (d *Decoder) Pending() bool { return d.inFrame && (len(d.cur) > 0 || d.escaped || d.bad != nil) }

// Noise returns and clears the bytes seen outside frames since the last call
// (at most MaxNoise, the newest kept).
func (d *Decoder) Noise() []byte {
	n := d.noise
	d.noise = nil
	return n
}

// PeekNoise returns the bytes seen outside frames without clearing them.
func (d *Decoder) PeekNoise() []byte { return d.noise }

// Reset forgets any partial frame, queued frames and noise.
func (d *Decoder) Reset() {
	d.inFrame, d.escaped, d.bad = false, false, nil
	d.cur = d.cur[:0]
	d.ready, d.errs, d.noise = nil, nil, nil
}

func (d *Decoder) addNoise(b byte) {
	if len(d.noise) >= MaxNoise {
		copy(d.noise, d.noise[1:])
		d.noise = d.noise[:len(d.noise)-1]
	}
	d.noise = append(d.noise, b)
}
