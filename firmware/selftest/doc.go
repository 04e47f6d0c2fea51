// Package selftest is the first-boot console protocol between the factory
// firmware on a board and the station that flashed it.
//
// After flashing, the station resets the board into its app and keeps reading
// its console (UART0, 115200 8N1 unless the batch says otherwise). Among the
// ordinary ESP-IDF log lines the factory firmware prints protocol lines:
//
//	@FCT1 {"type":"test","name":"vdd_3v3","value":3.31,"unit":"V","low":3.135,"high":3.465,"pass":true} *0262d164
//
// A protocol line is the marker "@FCT" followed by the protocol version in
// decimal (1), one space, a compact JSON object, one space, '*' and the
// CRC-32 of the JSON bytes as exactly 8 hex digits. The CRC is
// CRC-32/ISO-HDLC, the one zlib's crc32() and Go's hash/crc32.ChecksumIEEE
// compute (check value: "123456789" → cbf43926). The line ends with "\n"; a
// "\r" before it, trailing blanks and an ANSI colour reset (as ESP_LOGx
// appends) are ignored, and so is any text before the marker, so the
// firmware may print protocol lines through ESP_LOGI as well as printf.
//
// The JSON object always has a "type" field naming the message. Unknown
// fields are ignored, so either side may add fields without a version bump.
// A line whose check value does not match, whose JSON is broken or whose
// version is not 1 is rejected whole and never partly read: the Scanner
// reports it with ErrChecksum, ErrSyntax or ErrVersion and the station logs
// it. A well-formed line of an unknown type is reported as *Unknown with
// ErrUnknownType. Lines without the marker are plain console text.
//
// The station writes its messages to the board in the same line format:
// Time (the current UTC time, so a board whose RTC is wrong does not fail
// TLS with "certificate is not yet valid"), then Start (self test and
// provisioning) or Retest (report identity and run the tests only).
//
// The conversation, in order:
//
//	board:   hello              (repeated every second until the station speaks)
//	station: time, start        (or time, retest)
//	board:   clock              (the board's clock after applying time)
//	board:   test …             (one per self test)
//	board:   prov step=key_generated, csr_created, cert_received,
//	         thing_registered, claim_erased
//	board:   cert               (the device certificate PEM, never the key)
//	board:   prov_result        (ok, or the cloud's statusCode/errorCode/errorMessage)
//	board:   verdict            (pass or fail with a reason; always last)
//
// A retest (or a board whose NVS already holds a device certificate) says
// mode "retest" in hello, sends cert and its tests, and skips provisioning.
//
// LooksLikePrivateKey lets the station catch firmware that prints key
// material on the console, marked or not.
package selftest
