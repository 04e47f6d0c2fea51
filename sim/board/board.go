package board

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Config describes one virtual board.
type Config struct {
	Chip      string // "esp32" (default), "esp32s3", "esp32c3"
	Index     int    // position on the line; with Seed it fixes the identity
	Seed      uint64
	Timing    Timing
	Bridge    string // "cp2102n" (default), "cp2102", "ch340", "ftdi"
	FlashSize uint32 // bytes, a power of two from 1 MiB; default 4 MiB
	// StateDir, when set, keeps the board's identity and flash contents in
	// board-NN.json and board-NN.flash there, so a board keeps its firmware
	// across simulator restarts.
	StateDir string
	Faults   Faults
	// App is what the board runs after a successful boot from flash.
	App App
	// EsptoolStub declares that code started with MEM_END is esptool's v4
	// flasher stub, and the board then answers as that stub does (see
	// stub.go). Off, started code leaves the board silent.
	EsptoolStub bool
	// LenientFlashSize lets the ROM's range checks (SPI_FLASH_MD5,
	// READ_FLASH_SLOW, FLASH_BEGIN) use the fitted chip's size from reset.
	// By default they stop at 2 MiB until SPI_SET_PARAMS declares the size,
	// as both real ROMs do: a client that reads, hashes or erases above
	// 2 MiB without SPI_SET_PARAMS fails on real boards with 01 09 / 01 06,
	// and so it does here.
	LenientFlashSize bool
	// ENDelay is how long EN takes to rise through the RC network after the
	// auto-reset transistor lets go; GPIO0 is latched at its end (or at the
	// host's next write, if sooner). Default 10 ms.
	ENDelay time.Duration
}

// ErrBusy is returned by Open while another host has the port open.
var ErrBusy = errors.New("board: port already open")

type chipMode int

const (
	modeReset   chipMode = iota // EN held low or not yet released
	modeROM                     // ROM serial loader in download mode
	modeApp                     // running the app from flash
	modeHalted                  // printed why it cannot go on, ignores input
	modeStalled                 // hung by a fault until the next reset
	modeRAM                     // running code uploaded with MEM_END: the ROM is gone
)

// Board is one virtual ESP32-family board with a USB-UART bridge.
type Board struct {
	cfg    Config
	p      *chipProfile
	id     Identity
	ck8m   uint32
	flash  *nor
	regs   *regFile
	costs  costs
	bridge Bridge
	faults Faults

	mu      sync.Mutex
	wake    chan struct{} // closed and replaced on every change a waiter cares about
	noise   *rand.Rand    // garbage on baud mismatch
	faultRn *rand.Rand    // drop and flip decisions
	jitter  *rand.Rand

	// host side: the bridge and whoever has it open
	open      *Port
	dtr, rts  bool
	hostBaud  int
	hostQ     []chunk // chip output on its way to the host (realistic timing)
	hostBuf   []byte  // arrived, not yet read
	unplugged bool
	closed    bool
	hostBytes int64
	firstTx   bool
	faultTmrs []*time.Timer

	// reset circuit
	usbArmed  bool // USB-Serial/JTAG: both lines were asserted, next reset is into download
	enHigh    bool
	pending   bool // EN rose, GPIO0 not latched yet
	pendingID int
	riseAt    time.Time
	io0Hist   []io0Event
	enTimer   *time.Timer

	// chip side
	mode      chipMode
	gen       int // bumped on every reset; stale timers and apps check it
	chipBaud  int
	autobaud  bool // baud locked by a first SYNC
	clkdiv    uint32
	strap     uint32
	busy      time.Time // the chip is working until then (realistic)
	txFree    time.Time // its UART is sending until then
	chipQ     []chunk   // host bytes on their way to the chip (realistic)
	rxTimer   *time.Timer
	rom       *loader
	app       *appRun
	stallDone bool
	brownDone bool
	starts    int // chip starts (resetLocked) since the current board's power-on, that one included
	swaps     int // boards taken out of this position before the current one
}

type io0Event struct {
	at   time.Time
	high bool
}

// New builds a board, loading its state from cfg.StateDir if set, and
// powers it on (with the lines released it boots from flash).
func New(cfg Config) (*Board, error) {
	p, err := lookupChip(cfg.Chip)
	if err != nil {
		return nil, err
	}
	br, err := LookupBridge(cfg.Bridge)
	if err != nil {
		return nil, err
	}
	if br.USB && p.name == "esp32" {
		return nil, fmt.Errorf("board %d: the ESP32 has no USB-Serial/JTAG port; use a UART bridge", cfg.Index)
	}
	if cfg.FlashSize == 0 {
		cfg.FlashSize = 4 << 20
	}
	if cfg.FlashSize < 1<<20 || cfg.FlashSize > 64<<20 || cfg.FlashSize&(cfg.FlashSize-1) != 0 {
		return nil, fmt.Errorf("board %d: flash size %d is not a power of two from 1 to 64 MiB", cfg.Index, cfg.FlashSize)
	}
	if cfg.ENDelay == 0 {
		cfg.ENDelay = 10 * time.Millisecond
	}
	id, ck8m := deriveIdentity(p, cfg.Seed, cfg.Index, 0, cfg.FlashSize)
	st := boardState{id: id, ck8m: ck8m}
	var fl *nor
	if cfg.StateDir != "" {
		if st, err = loadOrCreateIdentity(cfg.StateDir, cfg.Index, st); err != nil {
			return nil, err
		}
		_, path := statePaths(cfg.StateDir, cfg.Index)
		if fl, err = openNOR(flashSizeFromID(st.id.FlashID), path); err != nil {
			return nil, err
		}
	} else {
		fl = newNOR(flashSizeFromID(st.id.FlashID))
	}
	id, ck8m = st.id, st.ck8m
	seed := splitmix64(cfg.Seed ^ uint64(cfg.Index)*0xA24BAED4963EE407)
	b := &Board{
		cfg: cfg, p: p, id: id, ck8m: ck8m, flash: fl, bridge: br, faults: cfg.Faults,
		costs:    costs{realistic: cfg.Timing == Realistic, slow: cfg.Faults.SlowFlash},
		wake:     make(chan struct{}),
		noise:    rand.New(rand.NewPCG(seed, 1)),
		faultRn:  rand.New(rand.NewPCG(seed, 2)),
		jitter:   rand.New(rand.NewPCG(seed, 3)),
		hostBaud: 115200, chipBaud: 115200, enHigh: true, swaps: st.swaps,
	}
	b.regs = newRegFile(p, id, ck8m, fl, br.USB)
	b.mu.Lock()
	b.resetLocked(resetPowerOn, false, b.now())
	b.mu.Unlock()
	return b, nil
}

// Identity returns the factory identity of the board now in the position
// (it changes with Swap).
func (b *Board) Identity() Identity {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.id
}

// MAC returns the base MAC as aa:bb:cc:dd:ee:ff.
func (b *Board) MAC() string { return b.Identity().MACString() }

// Chip returns the chip name ("esp32", "esp32s3", "esp32c3").
func (b *Board) Chip() string { return b.p.name }

// Index returns the board's index on its line.
func (b *Board) Index() int { return b.cfg.Index }

// Flash gives direct access to the board's flash, as a test fixture or
// the station's demo would probe a board with a programmer.
// After a Swap it is the new board's flash.
func (b *Board) Flash() Flash {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flash
}

// Mode names what the chip is doing: "reset", "download", "app", "halted",
// "stalled" or "ram".
func (b *Board) Mode() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return [...]string{"reset", "download", "app", "halted", "stalled", "ram"}[b.mode]
}

// Unplugged reports whether the unplug fault has fired.
func (b *Board) Unplugged() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.unplugged
}

// Close powers the board off: the app is stopped, timers are released and
// the state file is closed. An open Port returns ErrClosed afterwards.
func (b *Board) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.stopChipLocked()
	b.cancelPendingLocked()
	for _, t := range b.faultTmrs {
		t.Stop()
	}
	b.signalLocked()
	fl := b.flash
	b.mu.Unlock()
	return fl.close()
}

// now is the wall clock in realistic mode and the zero time in instant
// mode, where nothing is scheduled.
func (b *Board) now() time.Time {
	if b.costs.realistic {
		return time.Now()
	}
	return time.Time{}
}

// signalLocked wakes everyone waiting on the board.
func (b *Board) signalLocked() {
	close(b.wake)
	b.wake = make(chan struct{})
}
