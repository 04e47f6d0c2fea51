// Package slip frames and unframes the byte stream spoken by the ESP ROM
// serial loader.
//
// Every packet of the loader protocol travels inside one SLIP frame (RFC 1055
// as Espressif uses it): the frame opens and closes with 0xC0, and inside it
// 0xC0 is sent as DB DC and 0xDB as DB DD. Escaping happens after the packet's
// length and checksum fields are computed, so framing is independent of the
// packet layer in package rom.
//
// The decoder is stream-safe: bytes may arrive in any chunking, a read
// timeout in the middle of a frame loses nothing, and bytes outside frames
// (a ROM boot banner, line noise at the wrong baud rate) are kept aside as
// "noise" rather than mixed into frames, so a client can still read a banner
// such as "boot:0x13" that arrives between packets.
package slip
