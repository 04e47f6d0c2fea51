package slip

// Frame delimiter and escape bytes.
const (
	End    = 0xC0 // starts and ends every frame
	Esc    = 0xDB // introduces an escaped byte
	EscEnd = 0xDC // Esc EscEnd stands for End inside a frame
	EscEsc = 0xDD // Esc EscEsc stands for Esc inside a frame
)

// AppendFrame appends payload to dst as one complete SLIP frame, both
// delimiters included, and returns the extended slice.
func AppendFrame(dst, payload []byte) []byte {
	dst = append(dst, End)
	for _, b := range payload {
		switch b {
		case End:
			dst = append(dst, Esc, EscEnd)
		case Esc:
			dst = append(dst, Esc, EscEsc)
		default:
			dst = append(dst, b)
		}
	}
	return append(dst, End)
}

// Encode returns payload as one SLIP frame.
func Encode(payload []byte) []byte {
	return AppendFrame(make([]byte, 0, len(payload)+len(payload)/32+2), payload)
}

// EncodedLen is the number of bytes payload takes on the wire as a frame;
// used to compute wire time without encoding.
func EncodedLen(payload []byte) int {
	n := 2
	for _, b := range payload {
		if b == End || b == Esc {
			n += 2
		} else {
			n++
		}
	}
	return n
}
