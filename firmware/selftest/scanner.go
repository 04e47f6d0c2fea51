package selftest

import (
	"bufio"
	"errors"
	"io"
)

// Line is one console line as the Scanner read it.
//
//   - plain console text: Msg == nil, Err == nil
//   - an accepted protocol line: Msg != nil, Err == nil
//   - a rejected protocol line: Msg == nil, Err is ErrSyntax, ErrChecksum,
//     ErrVersion or ErrTooLong (wrapped)
//   - a valid line of an unknown type: Msg is Unknown, Err is ErrUnknownType
type Line struct {
	Text string // the line without "\r\n"; at most MaxLineLen bytes
	Msg  Message
	Err  error
}

// Marked reports whether the line was meant as a protocol line.
func (l Line) Marked() bool { return l.Msg != nil || l.Err != nil }

// Scanner splits a console stream into Lines. It never stops on a bad line;
// only a read error ends it.
type Scanner struct {
	r    *bufio.Reader
	line Line
	err  error
}

// NewScanner reads console bytes from r.
func NewScanner(r io.Reader) *Scanner {
	return &Scanner{r: bufio.NewReaderSize(r, MaxLineLen)}
}

// Scan advances to the next line, returning false at the end of the stream
// or on a read error (see Err). A last line without "\n" is still returned.
func (s *Scanner) Scan() bool {
	if s.err != nil {
		return false
	}
	raw, err := s.r.ReadSlice('\n')
	tooLong := false
	if errors.Is(err, bufio.ErrBufferFull) {
		tooLong = true
		raw = append([]byte(nil), raw...)
		err = s.discardLine()
	}
	if err != nil {
		s.err = err
		if len(raw) == 0 {
			return false
		}
	}
	s.line = makeLine(raw, tooLong)
	return true
}

// discardLine skips the rest of an oversized line.
func (s *Scanner) discardLine() error {
	for {
		_, err := s.r.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

func makeLine(raw []byte, tooLong bool) Line {
	text := raw
	for len(text) > 0 && (text[len(text)-1] == '\n' || text[len(text)-1] == '\r') {
		text = text[:len(text)-1]
	}
	l := Line{Text: string(text)}
	if tooLong {
		l.Err = ErrTooLong
		return l
	}
	if msg, err := DecodeLine(text); !errors.Is(err, ErrNotMarked) {
		l.Msg, l.Err = msg, err
	}
	return l
}

// Line returns the line Scan read.
func (s *Scanner) Line() Line { return s.line }

// Err returns the read error that ended scanning, or nil at io.EOF.
func (s *Scanner) Err() error {
	if errors.Is(s.err, io.EOF) {
		return nil
	}
	return s.err
}
