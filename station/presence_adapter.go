package station

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"fleetline/flasher/portio"
)

// watchPoll is how often a watch looks at its context between reads.
const watchPoll = 200 * time.Millisecond

// romBanner is how every ESP32-family ROM begins its boot report
// ("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)" on the ESP32,
// "rst:0x1 (POWERON),boot:0xc (...)" on the C3 and S3), printed at 115200
// whatever the strapping pins select.
var romBanner = []byte("rst:0x")

// Watch implements Watcher: it opens the slot's port at the ROM's baud
// without touching DTR or RTS (opening leaves both released, the board's
// run state) and reads until a ROM boot banner or the port's end.
func (fc *FlasherConnector) Watch(ctx context.Context, slot Slot, watching func()) error {
	open := fc.Open
	if open == nil {
		open = OpenPort
	}
	port, err := open(ctx, slot.Address, 115200)
	if err != nil {
		return fmt.Errorf("watch %s: %w: %w", slot.Address, ErrNoBoard, err)
	}
	defer port.Close()
	if err := port.SetReadTimeout(watchPoll); err != nil {
		return fmt.Errorf("watch %s: set read timeout: %w", slot.Address, err)
	}
	watching()
	return watchPort(ctx, port, slot.Address)
}

// watchPort reads port until the ROM banner shows (nil), the port fails
// (ErrNoBoard) or ctx ends. The app's own output in between is ignored.
func watchPort(ctx context.Context, port portio.Port, address string) error {
	buf := make([]byte, 512)
	var tail []byte // the end of what came before, for a banner split across reads
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := port.Read(buf)
		if n > 0 {
			seen := append(tail, buf[:n]...)
			if bytes.Contains(seen, romBanner) {
				return nil
			}
			keep := min(len(seen), len(romBanner)-1)
			tail = append(tail[:0], seen[len(seen)-keep:]...)
		}
		switch {
		case err == nil, errors.Is(err, portio.ErrTimeout):
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			return fmt.Errorf("watch %s: the port went away: %w: %w", address, ErrNoBoard, err)
		}
	}
}
