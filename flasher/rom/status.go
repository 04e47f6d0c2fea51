package rom

import "fmt"

// Status trailer lengths.
const (
	StatusLenROM  = 4 // ESP32, S2, S3, C3, C6… ROM: status, error, 2 stale bytes
	StatusLenStub = 2 // flasher stub: status, error
)

// Status is the trailer of a response.
type Status struct {
	Failed bool      // first trailer byte non-zero
	Code   ErrorCode // why, when Failed
	// Stub is set when the trailer had a flasher stub's failure form
	// (code, 0) rather than the ROM's (1, code).
	Stub bool
}

// SplitStatus separates a response's data into command-specific bytes and
// the status trailer. want is the number of command-specific bytes the
// command returns (0 for most, 32 for the ROM's MD5, 64 for READ_FLASH_SLOW,
// 20 for GET_SECURITY_INFO); it reads the two meaningful trailer bytes right
// after them, as esptool does, so a 2- or 4-byte trailer both work.
func SplitStatus(data []byte, want int) (payload []byte, st Status, err error) {
	if len(data) < want+2 {
		return nil, Status{}, fmt.Errorf("rom: response has %d data bytes, want %d plus a 2-byte status", len(data), want)
	}
	first, second := data[want], data[want+1]
	st = Status{Failed: first != 0, Code: ErrorCode(second)}
	if first > 1 {
		// A flasher stub reports failure as (code, 0): the code is the
		// first byte. The ROM always sends 1 there.
		st.Code, st.Stub = ErrorCode(first), true
	}
	return data[:want], st, nil
}

// AppendStatus appends a trailer of n bytes (StatusLenROM or StatusLenStub)
// to dst. stale fills the ROM's two reserved bytes (the real ROM leaves old
// buffer contents there); pass nil for zeros.
func AppendStatus(dst []byte, n int, st Status, stale []byte) []byte {
	var first byte
	if st.Failed {
		first = 1
	}
	if n == StatusLenStub {
		if st.Failed {
			return append(dst, byte(st.Code), 0)
		}
		return append(dst, 0, 0)
	}
	dst = append(dst, first, byte(st.Code))
	var r0, r1 byte
	if len(stale) >= 2 {
		r0, r1 = stale[0], stale[1]
	}
	return append(dst, r0, r1)
}
