// Package rfc2217 carries a serial port over TCP with the Telnet
// COM-PORT-OPTION (RFC 2217), the protocol of pyserial's rfc2217://
// ports, ser2net and Espressif's esp_rfc2217_server. Unlike a raw socket it
// carries the baud rate and the DTR/RTS lines, so a remote board can still
// be reset into its ROM loader.
//
// On the wire the connection is telnet (RFC 854): data bytes equal to IAC
// (0xFF) are doubled, and commands start with IAC. The two ends first agree
// on options with WILL/WONT/DO/DONT (RFC 855): BINARY (a clean 8-bit path),
// SUPPRESS-GO-AHEAD and COM-PORT-OPTION (44); anything else is refused. Port
// settings then travel as subnegotiations, IAC SB 44 <code> <value> IAC SE,
// and the server answers every command with <code>+100 and the value now in
// effect. For example SET-BAUDRATE 115200 is
//
//	FF FA 2C 01 00 01 C2 00 FF F0
//
// and SET-CONTROL DTR ON is FF FA 2C 05 08 FF F0.
//
// Client (Dial) is a portio.Port: Read with a timeout, Write with IAC
// escaping, SetBaud (SET-BAUDRATE, answer checked), SetDTR/SetRTS
// (SET-CONTROL 8/9 and 11/12, answer awaited), Flush (PURGE-DATA of the
// server's receive buffer, then local input up to the server's answer is
// dropped). A server that never answers SET-CONTROL or PURGE-DATA (in its
// default mode esp_rfc2217_server swallows DTR/RTS changes and runs its own
// reset sequence) costs one ReplyTimeout and is then no longer waited for;
// "?ign_set_control" in the URL skips even that first wait.
//
// Server serves any portio.Port to one client at a time, applying data,
// baud and line changes to the port in the order they arrive, so a board
// behind it sees a client's reset sequence with the client's own timing.
// Reuse lends a long-lived port (a virtual board) to successive sessions.
package rfc2217
