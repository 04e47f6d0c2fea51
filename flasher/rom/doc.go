// Package rom is the wire format of the ESP ROM serial loader, shared by the
// flasher client and the virtual board: opcodes, request and response
// packets, the data-block checksum, status trailers and error codes, and the
// payload layouts of each command.
//
// A request is
//
//	u8 direction (0x00) | u8 opcode | u16 data length | u32 checksum | data
//
// and a response is
//
//	u8 direction (0x01) | u8 opcode | u16 data length | u32 value | data
//
// with every integer little-endian. The data of a response ends in a status
// trailer: four bytes from an ESP32-family ROM (status, error, two bytes the
// ROM leaves stale), two from a flasher stub. Status 0 is success; otherwise
// the error byte is one of the codes in errors.go.
//
// Only MEM_DATA, FLASH_DATA and FLASH_DEFL_DATA carry a checksum: 0xEF XORed
// with every payload byte after their 16-byte block header.
//
// This package holds no behaviour: it neither times out nor retries, and it
// knows nothing of chips. The client (package flasher) and the simulator
// (package sim/board) each bring their own logic, so that a misunderstanding
// in one is caught by the other.
package rom
