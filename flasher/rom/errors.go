package rom

import "fmt"

// ErrorCode is the second byte of a failed status trailer (or the first, for
// a stub).
type ErrorCode byte

// ROM loader error codes.
const (
	ErrBadMessage        ErrorCode = 0x05 // unknown command, bad length, out of sequence
	ErrOperationFailed   ErrorCode = 0x06 // e.g. FLASH_BEGIN at an unaligned offset
	ErrBadChecksum       ErrorCode = 0x07
	ErrFlashWrite        ErrorCode = 0x08 // readback CRC after programming mismatched
	ErrFlashRead         ErrorCode = 0x09
	ErrReadLength        ErrorCode = 0x0A
	ErrDeflate           ErrorCode = 0x0B
	ErrAdler32           ErrorCode = 0x0C
	ErrDeflateParam      ErrorCode = 0x0D
	ErrRAMBinarySize     ErrorCode = 0x0E
	ErrRAMAddress        ErrorCode = 0x0F
	ErrInvalidParameter  ErrorCode = 0x64
	ErrInvalidFormat     ErrorCode = 0x65
	ErrDescriptionLong   ErrorCode = 0x66
	ErrBadEncoding       ErrorCode = 0x67
	ErrInsufficientSpace ErrorCode = 0x69
)

// Flasher stub error codes.
const (
	StubErrDataLength    ErrorCode = 0xC0
	StubErrDataChecksum  ErrorCode = 0xC1
	StubErrBlockSize     ErrorCode = 0xC2
	StubErrInvalidCmd    ErrorCode = 0xC3
	StubErrSPIOp         ErrorCode = 0xC4
	StubErrSPIUnlock     ErrorCode = 0xC5
	StubErrNotFlashMode  ErrorCode = 0xC6
	StubErrInflate       ErrorCode = 0xC7
	StubErrNotEnoughData ErrorCode = 0xC8
	StubErrTooMuchData   ErrorCode = 0xC9
	StubErrNotImpl       ErrorCode = 0xFF
)

var errorMeanings = map[ErrorCode]string{
	ErrBadMessage:        "received message is invalid (unknown command, bad length or out of sequence)",
	ErrOperationFailed:   "failed to act on received message",
	ErrBadChecksum:       "invalid CRC in message",
	ErrFlashWrite:        "flash write error: data read back after programming did not match",
	ErrFlashRead:         "flash read error",
	ErrReadLength:        "flash read length error",
	ErrDeflate:           "deflate error: compressed data is corrupt",
	ErrAdler32:           "deflate Adler-32 error",
	ErrDeflateParam:      "deflate parameter error",
	ErrRAMBinarySize:     "invalid RAM binary size",
	ErrRAMAddress:        "invalid RAM binary address",
	ErrInvalidParameter:  "invalid parameter",
	ErrInvalidFormat:     "invalid format",
	ErrDescriptionLong:   "description too long",
	ErrBadEncoding:       "bad encoding description",
	ErrInsufficientSpace: "insufficient storage",
	StubErrDataLength:    "stub: bad data length",
	StubErrDataChecksum:  "stub: bad data checksum",
	StubErrBlockSize:     "stub: bad block size",
	StubErrInvalidCmd:    "stub: invalid command",
	StubErrSPIOp:         "stub: SPI operation failed",
	StubErrSPIUnlock:     "stub: SPI unlock failed",
	StubErrNotFlashMode:  "stub: not in flash mode",
	StubErrInflate:       "stub: inflate error",
	StubErrNotEnoughData: "stub: not enough data",
	StubErrTooMuchData:   "stub: too much data",
	StubErrNotImpl:       "stub: command not implemented",
}

// String returns the code's documented meaning.
func (c ErrorCode) String() string {
	if m, ok := errorMeanings[c]; ok {
		return m
	}
	return fmt.Sprintf("unknown error 0x%02X", byte(c))
}

// StatusError is a failed status trailer from the chip, with the command it
// answered.
type StatusError struct {
	Op   Op        // the command that failed
	Code ErrorCode // the ROM's reason
}

// Error prints the two status bytes as esptool does (0x01XX for a ROM
// error, 0xXX00 for a stub error) and the code's meaning.
func (e *StatusError) Error() string {
	if e.Code >= StubErrDataLength {
		return fmt.Sprintf("%s failed: status 0x%02X00: %s", e.Op, byte(e.Code), e.Code)
	}
	return fmt.Sprintf("%s failed: status 0x01%02X: %s", e.Op, byte(e.Code), e.Code)
}

// Unsupported reports whether the chip refused the command as unknown:
// esptool's rule is status failed with code 0x05 (bad message).
func (e *StatusError) Unsupported() bool { return e.Code == ErrBadMessage }
