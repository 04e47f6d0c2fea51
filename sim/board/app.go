package board

import (
	"context"
	"fmt"
	"io"
)

// App is the firmware a virtual board runs when it boots from flash: after a
// reset with GPIO0 high, once the second-stage boot checks of the bootloader,
// partition table and app image have passed and the boot log is printed.
// sim/factoryapp provides the factory firmware; a board with no App prints
// the boot log and idles, as a real board whose app prints nothing.
type App interface {
	// Run executes the app. It must return promptly once ctx is done: the
	// board was reset, powered off or unplugged. A returned error is printed
	// on the console as an abort (a Guru Meditation, on real hardware).
	Run(ctx context.Context, dev Device) error
}

// AppFunc adapts a function to App.
type AppFunc func(ctx context.Context, dev Device) error

// Run implements App.
func (f AppFunc) Run(ctx context.Context, dev Device) error { return f(ctx, dev) }

// Device is what a running app sees of its board.
type Device interface {
	// Console is UART0 at the app's baud. Read blocks until bytes arrive
	// and returns io.EOF once the app must stop; Write returns an error then.
	Console() io.ReadWriter
	// Flash is the board's SPI flash chip.
	Flash() Flash
	// Identity is the board's factory identity, as its eFuses hold it.
	Identity() Identity
	// Restart reboots the board from flash (esp_restart): the current Run's
	// context is cancelled and the boot sequence starts again.
	Restart()
}

// Flash is the board's NOR flash as firmware sees it: erased bytes read 0xFF,
// programming can only clear bits.
type Flash interface {
	// Size is the chip's capacity in bytes, as its JEDEC id announces.
	Size() uint32
	// ReadAt reads as io.ReaderAt does; past the end it returns io.EOF.
	ReadAt(p []byte, off int64) (int, error)
	// Erase sets [off, off+size) to 0xFF; both must be multiples of 4 KiB.
	Erase(off, size uint32) error
	// Program ANDs data into flash at off (NOR semantics).
	Program(off uint32, data []byte) error
}

// Identity is what a board's eFuses say about it.
type Identity struct {
	Chip     string // "esp32", "esp32s3", "esp32c3"
	Revision int    // major*100 + minor, as image headers count it
	MAC      [6]byte
	FlashID  uint32 // JEDEC id: manufacturer | type<<8 | capacity<<16
}

// MACString returns the base MAC as aa:bb:cc:dd:ee:ff, the spelling of the
// boot log, the self-test hello and the endpoints file.
func (id Identity) MACString() string {
	m := id.MAC
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}
