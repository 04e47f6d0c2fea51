package selftest

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// consoleStream is a first boot as the station sees it: ROM and IDF log
// lines, protocol lines, a corrupted line, baud-rate garbage, an oversized
// line and a last line cut off by a reset.
func consoleStream(t *testing.T) ([]byte, []Line) {
	t.Helper()
	var b bytes.Buffer
	var want []Line
	plain := func(s string) {
		b.WriteString(s + "\r\n")
		want = append(want, Line{Text: s})
	}
	msg := func(m Message) {
		line, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		want = append(want, Line{Text: strings.TrimSuffix(string(line), "\n"), Msg: m})
	}
	plain("ets Jun  8 2016 00:22:57")
	plain("I (29) boot: ESP-IDF v5.2.1 2nd stage bootloader")
	msg(Hello{Firmware: "1.0.0", Chip: "esp32", MAC: "24:0a:c4:00:00:01", SN: "SN1", Template: "T", Mode: ModeNormal})
	plain("\x00\xff\xfe garbage at the wrong baud")
	msg(Test{Name: "vdd_3v3", Value: 3.3, Unit: "V", Low: 3.135, High: 3.465, Pass: true})
	bad, _ := Encode(Verdict{Pass: true})
	bad[20] ^= 0x04
	b.Write(bad)
	want = append(want, Line{Text: strings.TrimSuffix(string(bad), "\n"), Err: ErrChecksum})
	long := "@FCT1 " + strings.Repeat("x", MaxLineLen+10)
	b.WriteString(long + "\n")
	want = append(want, Line{Text: long[:MaxLineLen], Err: ErrTooLong})
	msg(Verdict{Pass: false, Reason: "r"})
	b.WriteString(`@FCT1 {"type":"verdict","pa`)
	want = append(want, Line{Text: `@FCT1 {"type":"verdict","pa`, Err: ErrSyntax})
	return b.Bytes(), want
}

func TestScanner(t *testing.T) {
	data, want := consoleStream(t)
	readers := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			s := NewScanner(wrap(bytes.NewReader(data)))
			var got []Line
			for s.Scan() {
				got = append(got, s.Line())
			}
			if err := s.Err(); err != nil {
				t.Fatalf("Err() = %v", err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d lines, want %d: %#v", len(got), len(want), got)
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.Text != w.Text || !reflect.DeepEqual(g.Msg, w.Msg) || !errors.Is(g.Err, w.Err) || (w.Err == nil) != (g.Err == nil) {
					t.Errorf("line %d = %#v, want %#v", i, g, w)
				}
				if g.Marked() != (w.Msg != nil || w.Err != nil) {
					t.Errorf("line %d Marked() = %v", i, g.Marked())
				}
			}
		})
	}
}

func TestScannerReadError(t *testing.T) {
	line, _ := Encode(Start{})
	s := NewScanner(iotest.TimeoutReader(bytes.NewReader(append(line, line...))))
	n := 0
	for s.Scan() {
		n++
	}
	if !errors.Is(s.Err(), iotest.ErrTimeout) {
		t.Fatalf("Err() = %v, want the reader's timeout", s.Err())
	}
	if n == 0 {
		t.Fatal("no line read before the error")
	}
}
