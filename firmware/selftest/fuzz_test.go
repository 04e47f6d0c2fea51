package selftest

import (
	"bytes"
	"reflect"
	"testing"
)

func FuzzDecodeLine(f *testing.F) {
	for _, m := range goldenMessages {
		line, _ := Encode(m)
		f.Add(line)
	}
	f.Add([]byte("I (312) cpu_start: Starting scheduler"))
	f.Add([]byte(`@FCT1 {"type":"x"} *00000000`))
	f.Add([]byte("@FCT1  *"))
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := DecodeLine(line)
		if err != nil {
			return
		}
		// Anything accepted re-encodes to a line that decodes the same.
		again, err := Encode(m)
		if err != nil {
			t.Fatalf("re-encode of %#v: %v", m, err)
		}
		m2, err := DecodeLine(again)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip of %q: %#v, %v; want %#v", again, m2, err, m)
		}
		s := NewScanner(bytes.NewReader(append(append([]byte(nil), line...), '\n')))
		for s.Scan() {
		}
	})
}
