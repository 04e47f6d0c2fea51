package flasher

import (
	"errors"
	"fmt"

	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
)

// ErrTimeout means the board did not answer in time. It is portio's
// sentinel, so errors.Is works the same on port and client errors.
var ErrTimeout = portio.ErrTimeout

// ErrClosed means the port went away: closed, or a yanked cable. It is never
// reported as a timeout.
var ErrClosed = portio.ErrClosed

// ErrNoSync means the chip never answered SYNC on any connect attempt.
// WrongBootModeError and ErrTXPathDown are more precise forms of it.
var ErrNoSync = errors.New("no reply to SYNC: the chip is not in its serial download mode, or not connected")

// ErrTXPathDown means the ROM printed "waiting for download" (so the board
// did reset into download mode and its TX reaches us) but never answered
// SYNC: the host's TX line does not reach the chip's RX.
var ErrTXPathDown = fmt.Errorf("%w: download mode detected but SYNC got no reply; the serial TX path to the chip seems to be down (check the RX/TX wiring and the bridge)", ErrNoSync)

// ErrMACCRC means the ESP32's factory MAC in eFuse does not match the CRC8
// stored beside it: the eFuse block is corrupt or unprogrammed.
var ErrMACCRC = errors.New("MAC CRC8 in eFuse does not match")

// ErrUnknownChip means neither GET_SECURITY_INFO nor the magic register
// identified a chip in the table.
var ErrUnknownChip = errors.New("unknown chip")

// WrongBootModeError is returned by Connect when SYNC failed and the ROM
// banner shows the chip booted in a mode other than serial download.
type WrongBootModeError struct {
	Boot   uint32 // the boot:0x.. value (GPIO strapping)
	Banner string // what the chip printed after reset
}

// Error says what the boot value means and what to check on the board.
func (e *WrongBootModeError) Error() string {
	return fmt.Sprintf("wrong boot mode: boot:0x%02x means the chip booted from flash: GPIO0 was not held low at reset"+
		" — check the auto-reset circuit (EN capacitor 1–10 µF, DTR/RTS transistors), the BOOT button,"+
		" strapping pins GPIO0/GPIO2 (ESP32) or GPIO9 (C3)", e.Boot)
}

// Unwrap makes a wrong boot mode match ErrNoSync too.
func (e *WrongBootModeError) Unwrap() error { return ErrNoSync }

// ProtocolError reports a reply that breaks the loader protocol: too short,
// the wrong size for the command, or never arriving among the frames read.
type ProtocolError struct {
	Op  rom.Op // the command whose reply broke the protocol
	Msg string // what was wrong with it
}

// Error names the command and the violation.
func (e *ProtocolError) Error() string { return fmt.Sprintf("%s: protocol violation: %s", e.Op, e.Msg) }

// VerifyError reports a region whose flash MD5 differs from the data sent.
type VerifyError struct {
	Region     string
	Offset     uint32
	Size       uint32
	Want, Got  [16]byte // MD5 of the data sent, and the flash's
	AfterWrite bool     // the check followed a write (not a skip check)
}

// Error gives both digests.
func (e *VerifyError) Error() string {
	return fmt.Sprintf("verify %s 0x%x (+%d bytes): flash MD5 %x, expected %x: the data read back differs from what was written",
		e.Region, e.Offset, e.Size, e.Got, e.Want)
}

// StatusError is the ROM's or stub's failure status, with its code's
// meaning; inspect it with errors.As.
type StatusError = rom.StatusError

// fatal reports errors that no retry can fix: the port is gone or the
// caller gave up.
func fatal(err error) bool {
	return errors.Is(err, ErrClosed) || errors.Is(err, errContext)
}

// errContext marks a context cancellation seen by the client, so retries
// stop at once; the context's own error is wrapped beside it.
var errContext = errors.New("canceled")

func ctxErr(err error) error { return fmt.Errorf("%w: %w", errContext, err) }
