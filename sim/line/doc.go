// Package line starts a virtual production line: N boards from package
// sim/board, each served on its own RFC 2217 listener (DTR/RTS and baud
// changes reach the board, so a station or esptool resets it as it would a
// real one) or on a pseudo-terminal (data only, no resets).
//
// cmd/esp32sim is a thin command over Start; the station's demo builds a
// line in-process the same way, with a per-slot App factory choosing what
// firmware behaviour each board shows once it boots from flash.
package line
