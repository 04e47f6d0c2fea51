// Package portio is the seam between the flasher and whatever carries bytes
// to a board: a USB-serial device, an RFC 2217 server, a raw TCP socket, the
// virtual board, or an in-memory pipe in a test.
//
// A Port reads with a timeout that is reported as ErrTimeout — never as the
// (0, nil) that go.bug.st/serial returns — writes everything or fails, and
// drives the DTR and RTS lines that an auto-reset circuit turns into EN and
// GPIO0. A port that has gone away (a yanked cable, a closed connection)
// reports ErrClosed, so "port closed" is never mistaken for "timeout".
//
// Ports whose bytes arrive on a goroutine of their own (a socket, a port
// shared between sessions) keep them in an Inbox, which gives their Read
// the same timeout and ErrClosed behaviour without polling; a Receiver
// adds the read timeout and close state they would otherwise each repeat.
//
// The package is a leaf: flasher, flasher/serialport, flasher/rfc2217 and
// sim/board all import it, and it imports none of them.
package portio
