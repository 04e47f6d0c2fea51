package rfc2217

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
)

// recorder keeps what a decoder reports as strings, merging data runs so
// that different chunkings of one stream compare equal.
type recorder struct{ events []string }

func (r *recorder) data(p []byte) {
	if n := len(r.events); n > 0 && strings.HasPrefix(r.events[n-1], "data ") {
		r.events[n-1] += hex.EncodeToString(p)
		return
	}
	r.events = append(r.events, "data "+hex.EncodeToString(p))
}
func (r *recorder) negotiate(verb, opt byte) {
	r.events = append(r.events, fmt.Sprintf("neg %x %x", verb, opt))
}
func (r *recorder) subneg(p []byte) { r.events = append(r.events, "sb "+hex.EncodeToString(p)) }
func (r *recorder) command(c byte)  { r.events = append(r.events, fmt.Sprintf("cmd %x", c)) }

func decodeAll(p []byte) []string {
	var d decoder
	var r recorder
	d.decode(p, &r)
	return r.events
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in string // hex
		want     []string
	}{
		{"data", "41 42 43", []string{"data 414243"}},
		{"escaped IAC", "41 ff ff 42", []string{"data 41ff42"}},
		{"only IACs", "ff ff ff ff", []string{"data ffff"}},
		{"negotiation", "ff fb 2c ff fe 01", []string{"neg fb 2c", "neg fe 1"}},
		{"set baud", "ff fa 2c 01 00 01 c2 00 ff f0", []string{"sb 2c010001c200"}},
		{"IAC inside subneg", "ff fa 2c 0b ff ff ff f0", []string{"sb 2c0bff"}},
		{"data around subneg", "61 ff fa 2c 6b 30 ff f0 62", []string{"data 61", "sb 2c6b30", "data 62"}},
		{"NOP and stray SE", "61 ff f1 ff f0 62", []string{"data 61", "cmd f1", "cmd f0", "data 62"}},
		{"empty subneg dropped", "ff fa ff f0 61", []string{"data 61"}},
		{"unterminated subneg", "ff fa 2c 01 00 ff fd 2c 61", []string{"neg fd 2c", "data 61"}},
		{"IAC IAC after broken subneg", "ff fa 2c ff fb 01", []string{"neg fb 1"}},
		{"incomplete at end", "61 ff", []string{"data 61"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := hex.DecodeString(strings.ReplaceAll(tc.in, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			got := decodeAll(in)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("decode(% x) = %q, want %q", in, got, tc.want)
			}
		})
	}
}

func TestDecodeOverlongSubneg(t *testing.T) {
	in := append([]byte{cmdIAC, cmdSB, optComPort}, bytes.Repeat([]byte{1}, maxSubneg+10)...)
	in = append(in, cmdIAC, cmdSE, 'x')
	if got := decodeAll(in); len(got) != 1 || got[0] != "data 78" {
		t.Errorf("overlong subnegotiation: %q", got)
	}
}

// decodeChopped reads the stream through r in whatever pieces it gives.
func decodeChopped(t *testing.T, r io.Reader) []string {
	var d decoder
	var rec recorder
	buf := make([]byte, 7)
	for {
		n, err := r.Read(buf)
		d.decode(buf[:n], &rec)
		if err == io.EOF {
			return rec.events
		}
		if err != nil && err != iotest.ErrTimeout {
			t.Fatal(err)
		}
	}
}

func TestDecodeChopped(t *testing.T) {
	var in []byte
	in = append(in, 0x41, 0xFF, 0xFF)
	in = appendNegotiation(in, cmdWILL, optComPort)
	in = appendComPort(in, cpSetBaud, baudValue(0x01FFFF00)...)
	in = appendEscaped(in, []byte{0xFF, 0xC0, 0xFF, 0xFF, 0xDB})
	in = append(in, cmdIAC, cmdNOP)
	in = appendComPort(in, cpSetModemMask, 0xFF)
	want := decodeAll(in)
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(in)),
		"half":     iotest.HalfReader(bytes.NewReader(in)),
		"data err": iotest.DataErrReader(bytes.NewReader(in)),
		"timeout":  iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(in))),
	} {
		if got := decodeChopped(t, r); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: %q\nwant %q", name, got, want)
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"00 01", "00 01"},
		{"ff", "ff ff"},
		{"ff ff 00 ff", "ff ff ff ff 00 ff ff"},
	} {
		in, _ := hex.DecodeString(strings.ReplaceAll(tc.in, " ", ""))
		want, _ := hex.DecodeString(strings.ReplaceAll(tc.want, " ", ""))
		if got := appendEscaped(nil, in); !bytes.Equal(got, want) {
			t.Errorf("appendEscaped(% x) = % x, want % x", in, got, want)
		}
	}
	// SET-BAUDRATE 115200, the example in the package documentation.
	want := []byte{0xFF, 0xFA, 0x2C, 0x01, 0x00, 0x01, 0xC2, 0x00, 0xFF, 0xF0}
	if got := appendComPort(nil, cpSetBaud, baudValue(115200)...); !bytes.Equal(got, want) {
		t.Errorf("SET-BAUDRATE 115200 = % x, want % x", got, want)
	}
}

func FuzzTelnetDecode(f *testing.F) {
	f.Add([]byte{0x41, 0xFF, 0xFF, 0x42}, uint8(1))
	f.Add([]byte{0xFF, 0xFA, 0x2C, 0x01, 0x00, 0x01, 0xC2, 0x00, 0xFF, 0xF0}, uint8(3))
	f.Add([]byte{0xFF, 0xFB, 0x2C, 0xFF, 0xFD, 0x00, 0xFF}, uint8(2))
	f.Add([]byte{0xFF, 0xFA, 0x2C, 0xFF, 0xFF, 0xFF, 0xFD, 0x01, 0xFF, 0xF0}, uint8(5))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		whole := decodeAll(in)
		// Any chunking gives the same events.
		var d decoder
		var r recorder
		step := int(chunk%16) + 1
		for i := 0; i < len(in); i += step {
			d.decode(in[i:min(i+step, len(in))], &r)
		}
		if strings.Join(r.events, "|") != strings.Join(whole, "|") {
			t.Fatalf("chunked by %d: %q\nwhole: %q", step, r.events, whole)
		}
		for _, e := range whole {
			if strings.HasPrefix(e, "sb ") && len(e) > 3+2*maxSubneg {
				t.Fatalf("subnegotiation longer than %d bytes: %s", maxSubneg, e)
			}
		}
		// Escaped data decodes to itself and nothing else.
		back := decodeAll(appendEscaped(nil, in))
		if len(in) == 0 {
			if len(back) != 0 {
				t.Fatalf("empty input gave %q", back)
			}
			return
		}
		if len(back) != 1 || back[0] != "data "+hex.EncodeToString(in) {
			t.Fatalf("escaped % x decoded to %q", in, back)
		}
	})
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"rfc2217://127.0.0.1:2217", "rfc2217://host:4001?ign_set_control&timeout=0.5",
		"localhost:2217", "rfc2217://[::1]:1?logging=debug", "socket://x:1", "rfc2217://h", "rfc2217://h:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, d, err := ParseURL(s)
		if err != nil {
			return
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			t.Fatalf("ParseURL(%q) accepted address %q: %v", s, addr, err)
		}
		if d.ReplyTimeout < 0 {
			t.Fatalf("ParseURL(%q): negative timeout %v", s, d.ReplyTimeout)
		}
	})
}
