package slip

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"empty", nil, []byte{End, End}},
		{"plain", []byte{1, 2, 3}, []byte{End, 1, 2, 3, End}},
		{"end", []byte{End}, []byte{End, Esc, EscEnd, End}},
		{"esc", []byte{Esc}, []byte{End, Esc, EscEsc, End}},
		{"both", []byte{Esc, End, 0}, []byte{End, Esc, EscEsc, Esc, EscEnd, 0, End}},
		{"escape bytes alone", []byte{EscEnd, EscEsc}, []byte{End, EscEnd, EscEsc, End}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Encode(tt.in)
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("Encode(% X) = % X, want % X", tt.in, got, tt.want)
			}
			if n := EncodedLen(tt.in); n != len(tt.want) {
				t.Fatalf("EncodedLen = %d, want %d", n, len(tt.want))
			}
		})
	}
}

// frames drains every ready frame from d.
func frames(d *Decoder) (fs [][]byte, errs []error) {
	for {
		f, err, ok := d.Next()
		if !ok {
			return fs, errs
		}
		fs = append(fs, f)
		errs = append(errs, err)
	}
}

func TestDecoder(t *testing.T) {
	tests := []struct {
		name      string
		lenient   bool
		in        []byte
		want      [][]byte
		wantErr   []error
		wantNoise string
	}{
		{name: "one frame", in: []byte{End, 1, 2, End}, want: [][]byte{{1, 2}}, wantErr: []error{nil}},
		{name: "escapes", in: []byte{End, Esc, EscEnd, Esc, EscEsc, End}, want: [][]byte{{End, Esc}}, wantErr: []error{nil}},
		{name: "empty frames dropped", in: []byte{End, End, End, End}},
		{
			name: "garbage between frames is noise", in: append(append([]byte("boot:0x13\r\n"), End, 7, End), []byte("xyz")...),
			want: [][]byte{{7}}, wantErr: []error{nil}, wantNoise: "boot:0x13\r\nxyz",
		},
		{
			name: "banner after C0 C0 stays out of the next frame", in: append([]byte{End, 1, End, End, End}, append([]byte("ets Jun  8"), End, 2, End)...),
			want: [][]byte{{1}, {2}}, wantErr: []error{nil, nil}, wantNoise: "ets Jun  8",
		},
		{
			name: "strict bad escape", in: []byte{End, 1, Esc, 0x00, 2, End, End, 3, End},
			want: [][]byte{nil, {3}}, wantErr: []error{ErrBadEscape, nil},
		},
		{
			name: "lenient bad escape drops Esc", lenient: true, in: []byte{End, 1, Esc, 0x00, 2, End},
			want: [][]byte{{1, 0, 2}}, wantErr: []error{nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Decoder{Lenient: tt.lenient}
			d.Feed(tt.in)
			fs, errs := frames(d)
			if len(fs) != len(tt.want) {
				t.Fatalf("got %d frames % X, want %d", len(fs), fs, len(tt.want))
			}
			for i := range fs {
				if !bytes.Equal(fs[i], tt.want[i]) {
					t.Errorf("frame %d = % X, want % X", i, fs[i], tt.want[i])
				}
				if !errors.Is(errs[i], tt.wantErr[i]) {
					t.Errorf("frame %d err = %v, want %v", i, errs[i], tt.wantErr[i])
				}
			}
			if got := string(d.Noise()); got != tt.wantNoise {
				t.Errorf("noise = %q, want %q", got, tt.wantNoise)
			}
		})
	}
}

func TestDecoderFrameTooLong(t *testing.T) {
	d := &Decoder{MaxFrame: 4}
	d.Feed([]byte{End, 1, 2, 3, 4, 5, End, End, 9, End})
	fs, errs := frames(d)
	if len(fs) != 2 || !errors.Is(errs[0], ErrFrameTooLong) || !bytes.Equal(fs[1], []byte{9}) {
		t.Fatalf("frames % X errs %v", fs, errs)
	}
}

func TestDecoderNoiseBounded(t *testing.T) {
	var d Decoder
	d.Feed(bytes.Repeat([]byte{'a'}, MaxNoise+10))
	d.Feed([]byte("end"))
	n := d.PeekNoise()
	if len(n) != MaxNoise || !bytes.HasSuffix(n, []byte("end")) {
		t.Fatalf("noise len %d, suffix %q", len(n), n[len(n)-3:])
	}
}

func TestDecoderPendingAndReset(t *testing.T) {
	var d Decoder
	d.Feed([]byte{End, 1, 2})
	if !d.Pending() {
		t.Fatal("Pending = false mid-frame")
	}
	d.Reset()
	if d.Pending() {
		t.Fatal("Pending after Reset")
	}
	d.Feed([]byte{3, End})
	if _, _, ok := d.Next(); ok {
		t.Fatal("a frame survived Reset")
	}
}

// stream is three frames with noise between them, as a ROM banner then
// SYNC replies would arrive.
func stream() ([]byte, [][]byte) {
	want := [][]byte{
		{0x01, 0x08, 0x04, 0x00, 0x07, 0x07, 0x12, 0x20, 0, 0, 0, 0},
		{End, Esc, 0x55, End},
		bytes.Repeat([]byte{0xAB}, 300),
	}
	var s []byte
	s = append(s, "rst:0x1 (POWERON_RESET),boot:0x3\r\n"...)
	for _, f := range want {
		s = AppendFrame(s, f)
		s = append(s, "~~"...)
	}
	return s, want
}

func TestReaderChopped(t *testing.T) {
	s, want := stream()
	readers := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"onebyte":  iotest.OneByteReader,
		"halfread": iotest.HalfReader,
		"dataerr":  iotest.DataErrReader,
		"timeout":  iotest.TimeoutReader,
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			r := NewReader(wrap(bytes.NewReader(s)))
			for i, w := range want {
				f, err := r.ReadFrame()
				if errors.Is(err, iotest.ErrTimeout) {
					// A timeout leaves the partial frame intact: read on.
					f, err = r.ReadFrame()
				}
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !bytes.Equal(f, w) {
					t.Fatalf("frame %d = % X, want % X", i, f, w)
				}
			}
			_, err := r.ReadFrame()
			if errors.Is(err, iotest.ErrTimeout) {
				_, err = r.ReadFrame()
			}
			if err != io.EOF {
				t.Fatalf("after last frame: %v, want EOF", err)
			}
			if noise := string(r.Decoder().Noise()); noise != "rst:0x1 (POWERON_RESET),boot:0x3\r\n~~~~~~" {
				t.Fatalf("noise %q", noise)
			}
		})
	}
}

func TestFeedAnyChunking(t *testing.T) {
	s, want := stream()
	for size := 1; size <= len(s); size += 7 {
		var d Decoder
		for i := 0; i < len(s); i += size {
			d.Feed(s[i:min(i+size, len(s))])
		}
		fs, _ := frames(&d)
		if len(fs) != len(want) {
			t.Fatalf("chunk %d: %d frames", size, len(fs))
		}
		for i := range fs {
			if !bytes.Equal(fs[i], want[i]) {
				t.Fatalf("chunk %d frame %d differs", size, i)
			}
		}
	}
}

func FuzzDecoder(f *testing.F) {
	s, _ := stream()
	f.Add(s, false)
	f.Add([]byte{End, Esc, 0, End, End}, true)
	f.Add([]byte{Esc, End, End, Esc}, false)
	f.Fuzz(func(t *testing.T, in []byte, lenient bool) {
		d := &Decoder{Lenient: lenient, MaxFrame: 512}
		d.Feed(in)
		for {
			fr, err, ok := d.Next()
			if !ok {
				break
			}
			if err == nil && len(fr) == 0 {
				t.Fatal("empty frame reported as a packet")
			}
			if len(fr) > 512 {
				t.Fatalf("frame of %d bytes over the limit", len(fr))
			}
			if err == nil && !lenient {
				// A frame decoded strictly re-encodes to itself.
				var d2 Decoder
				d2.Feed(Encode(fr))
				g, err2, ok2 := d2.Next()
				if !ok2 || err2 != nil || !bytes.Equal(g, fr) {
					t.Fatalf("round trip of % X failed", fr)
				}
			}
		}
		if len(d.PeekNoise()) > MaxNoise {
			t.Fatal("noise over MaxNoise")
		}
	})
}
