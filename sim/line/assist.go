package line

import (
	"sync"
	"time"

	"fleetline/flasher/portio"
	"fleetline/sim/board"
)

// Reset assist. A client's DTR/RTS changes reach an RFC 2217 server one
// telnet command at a time, and pyserial (hence esptool) waits at least
// 50 ms for each command's answer, so its reset sequence arrives stretched
// far beyond what an auto-reset circuit tolerates: a real board behind a
// plain RFC 2217 server boots from flash instead of entering download mode.
// Espressif's esp_rfc2217_server therefore recognises the start of a reset
// and plays the sequence itself with local timing. assistPort does the same
// for a virtual board: DTR asserted starts a download-mode reset, RTS
// released outside one starts a hard reset, other line changes are absorbed.
type assistPort struct {
	*board.Port
	mu       sync.Mutex
	download bool
}

var _ portio.Port = (*assistPort)(nil)

// Timings of the locally played sequences (esptool's defaults).
const (
	assistResetHold = 100 * time.Millisecond
	assistBootHold  = 50 * time.Millisecond
)

func (a *assistPort) SetDTR(v bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !v {
		a.download = false
		return a.Port.SetDTR(false)
	}
	if !a.download {
		a.download = true
		go a.downloadReset()
	}
	return nil
}

func (a *assistPort) SetRTS(v bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !v && !a.download {
		go a.hardReset()
	}
	return nil
}

// SetLines is absorbed too: a client that can set both lines at once does
// not need the assist, and those clients select DirectLines.
func (a *assistPort) SetLines(dtr, rts bool) error {
	if err := a.SetDTR(dtr); err != nil {
		return err
	}
	return a.SetRTS(rts)
}

// downloadReset is the "unix tight" sequence: EN low with GPIO0 high, then
// EN released with GPIO0 low, then GPIO0 released once the chip latched it.
func (a *assistPort) downloadReset() {
	p := a.Port
	p.SetLines(false, false)
	p.SetLines(true, true)
	p.SetLines(false, true)
	time.Sleep(assistResetHold)
	p.SetLines(true, false)
	time.Sleep(assistBootHold)
	p.SetLines(false, false)
}

// hardReset pulses EN low with GPIO0 high: the chip boots from flash.
func (a *assistPort) hardReset() {
	p := a.Port
	p.SetLines(false, true)
	time.Sleep(assistResetHold)
	p.SetLines(false, false)
}
