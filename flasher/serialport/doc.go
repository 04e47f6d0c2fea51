// Package serialport opens local serial devices (USB-UART bridges, the
// ESP32-S3/C3/C6 USB-Serial/JTAG, Linux ptys) as portio.Ports and lists the
// ports on the machine. It is the only importer of go.bug.st/serial, and it
// hides that library's traps:
//
//   - Read returns (0, nil) when its timeout passes; here that is
//     portio.ErrTimeout.
//   - Write may take only part of the buffer; here it loops.
//   - Opening a tty asserts DTR and RTS; here both are released right
//     after open (see Open for the short glitch this leaves on POSIX).
//   - A device that vanished shows up as EIO, ENXIO, "bad file descriptor"
//     or a PortClosed code; here all of them are portio.ErrClosed,
//     wrapped in an *Error that names the port.
//
// Errors name the port, the step and what to do: permission denied says to
// join the dialout group, a missing port says to run `station ports`.
//
// On Linux DTR and RTS are set with one TIOCMSET (SetLines), as esptool's
// "unix-tight" reset expects. A pty has no modem lines: its ioctls fail
// with ENOTTY, so SetDTR/SetRTS return ErrNoControlLines and ControlLines
// reports false, but data flows normally.
//
// List enumerates ports with their USB VID:PID, serial number, the
// /dev/serial/by-path and by-id names, and the bridge family (CP210x,
// CH34x, FTDI, Espressif USB-Serial/JTAG or USB-OTG); Match selects ports
// for a station's slot map.
package serialport
