package station

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"fleetline/flasher"
	"fleetline/flasher/portio"
)

// OpenFunc opens a slot's port at baud; an error means nothing answers at
// the address (the engine then waits quietly for a board).
type OpenFunc func(ctx context.Context, address string, baud int) (portio.Port, error)

// OpenPort opens rfc2217://, socket:// and local device addresses through
// the flasher. A local device that is absent (unplugged) fails to open,
// which the connector reports as ErrNoBoard.
func OpenPort(ctx context.Context, address string, baud int) (portio.Port, error) {
	return flasher.Open(ctx, address, baud)
}

// FlasherConnector connects slots with the fleetline flasher: open the
// port, reset into the ROM loader, SYNC, identify, and switch to the
// flashing baud.
type FlasherConnector struct {
	Open  OpenFunc        // default OpenPort
	Reset []flasher.Reset // reset strategies; nil: the flasher's defaults
	// Attempts bounds the reset+SYNC attempts of one connect (default the
	// flasher's, as esptool's 7).
	Attempts int
	Logf     func(string, ...any)

	mu    sync.Mutex
	plans map[string]*flasher.WritePlan // prepared shared regions, by identity
	held  map[string]portio.Port        // ports a watch left open, by address
}

// writeOptions are how every board is written.
var writeOptions = flasher.WriteOptions{Compress: true, Verify: true, SkipUnchanged: true}

// plan returns the prepared write of regions, from the cache when they
// are shared (the bundle: compressing it once instead of once per board is
// most of the station's CPU on a full line).
func (fc *FlasherConnector) plan(regions []Region, shared bool) (*flasher.WritePlan, error) {
	rs := make([]flasher.Region, len(regions))
	var key strings.Builder
	for i, r := range regions {
		rs[i] = flasher.Region{Name: r.Name, Offset: r.Offset, Data: r.Data}
		if len(r.Data) > 0 {
			fmt.Fprintf(&key, "%s@%x+%d:%p;", r.Name, r.Offset, len(r.Data), &r.Data[0])
		}
	}
	if !shared {
		o := writeOptions
		o.FastCompress = true // written once: host CPU matters more than a few bytes
		return flasher.PrepareWrite(rs, o)
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if p, ok := fc.plans[key.String()]; ok {
		return p, nil
	}
	p, err := flasher.PrepareWrite(rs, writeOptions)
	if err != nil {
		return nil, err
	}
	if fc.plans == nil {
		fc.plans = map[string]*flasher.WritePlan{}
	}
	fc.plans[key.String()] = p
	return p, nil
}

// Connect implements Connector.
func (fc *FlasherConnector) Connect(ctx context.Context, slot Slot, baud int) (Board, error) {
	open := fc.Open
	if open == nil {
		open = OpenPort
	}
	port := fc.takeHeld(slot.Address)
	if port == nil {
		var err error
		if port, err = open(ctx, slot.Address, 115200); err != nil {
			return nil, fmt.Errorf("open %s: %w: %w", slot.Address, ErrNoBoard, err)
		}
	}
	b := &flasherBoard{port: port, fc: fc}
	b.client = flasher.New(port, flasher.Options{Baud: 115200, Resets: fc.Reset, ConnectAttempts: fc.Attempts, Logf: fc.Logf, Progress: b.onProgress})
	if _, err := b.client.Connect(ctx); err != nil {
		port.Close()
		return nil, connectFailure(err)
	}
	info, err := b.client.Identify(ctx)
	if err != nil {
		port.Close()
		return nil, classify(StepIdentify, err, ReasonConnectFailed)
	}
	if baud > 0 && baud != 115200 {
		if err := b.client.ChangeBaud(ctx, baud); err != nil {
			port.Close()
			return nil, classify(StepConnect, err, ReasonConnectFailed)
		}
	}
	b.info = ChipInfo{Chip: info.Key, Revision: info.Revision, MAC: info.MACString(), FlashSize: info.FlashSize}
	if info.Security != nil && info.Security.Flags&secureDownloadFlag != 0 {
		b.info.SecureDownload = true
	}
	return b, nil
}

const secureDownloadFlag = 1 << 2 // rom.SecFlagSecureDownload

func connectFailure(err error) error {
	var wb *flasher.WrongBootModeError
	switch {
	case errors.As(err, &wb):
		return fail(StepConnect, ReasonWrongBootMode, err, "%v", err)
	case errors.Is(err, flasher.ErrNoSync):
		return fail(StepConnect, ReasonNoSync, err, "%v", err)
	}
	return classify(StepConnect, err, ReasonConnectFailed)
}

// flasherBoard is a Board over a flasher.Client.
type flasherBoard struct {
	fc     *FlasherConnector
	port   portio.Port
	client *flasher.Client
	info   ChipInfo

	mu       sync.Mutex
	progress Progress
}

func (b *flasherBoard) onProgress(p flasher.Progress) {
	b.mu.Lock()
	fn := b.progress
	b.mu.Unlock()
	if fn != nil && (p.Step == "write" || p.Step == "verify" || p.Step == "skip") {
		fn(p.Region, int64(p.Done), int64(p.Total))
	}
}

// Info implements Board.
func (b *flasherBoard) Info() ChipInfo { return b.info }

// Write implements Board: compressed, skipping regions already correct,
// verified by MD5.
func (b *flasherBoard) Write(ctx context.Context, regions []Region, progress Progress) (WriteReport, error) {
	b.mu.Lock()
	b.progress = progress
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.progress = nil
		b.mu.Unlock()
	}()
	var shared, own []Region
	for _, r := range regions {
		if r.Shared {
			shared = append(shared, r)
		} else {
			own = append(own, r)
		}
	}
	var reps []flasher.WriteReport
	var err error
	for i, group := range [][]Region{shared, own} {
		if len(group) == 0 {
			continue
		}
		p, perr := b.fc.plan(group, i == 0)
		if perr != nil {
			return WriteReport{}, fail(StepFlash, ReasonInternal, perr, "prepare the write: %v", perr)
		}
		var r []flasher.WriteReport
		r, err = b.client.WritePlan(ctx, p)
		reps = append(reps, r...)
		if err != nil {
			break
		}
	}
	var out WriteReport
	for _, r := range reps {
		if r.Skipped {
			out.Skipped = append(out.Skipped, r.Name)
		} else {
			out.Written = append(out.Written, r.Name)
		}
		out.Bytes += int64(r.Wire)
	}
	if err != nil {
		return out, writeFailure(err)
	}
	return out, nil
}

func writeFailure(err error) error {
	var ve *flasher.VerifyError
	var be *flasher.BlockError
	var se *flasher.StatusError
	switch {
	case errors.Is(err, portio.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return classify(StepFlash, err, ReasonFlashWriteFailed)
	case errors.As(err, &ve):
		return fail(StepVerify, ReasonMD5Mismatch, err, "%v", err)
	case errors.As(err, &be), errors.As(err, &se):
		return fail(StepFlash, ReasonFlashWriteFailed, err, "%v", err)
	}
	return fail(StepFlash, ReasonFlashWriteFailed, err, "%v", err)
}

// ReadFlash implements Board.
func (b *flasherBoard) ReadFlash(ctx context.Context, offset, size uint32) ([]byte, error) {
	var buf bytes.Buffer
	if err := b.client.ReadFlash(ctx, offset, size, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// BootApp implements Board: hard reset into the app, then the port at the
// app's baud becomes its console.
func (b *flasherBoard) BootApp(ctx context.Context, baud int) (Console, error) {
	if err := b.port.Flush(); err != nil {
		return nil, err
	}
	if err := b.port.SetBaud(baud); err != nil {
		return nil, fmt.Errorf("set console baud %d: %w", baud, err)
	}
	if err := b.client.HardReset(ctx); err != nil {
		return nil, err
	}
	return NewPortConsole(b.port)
}

// Close implements Board.
func (b *flasherBoard) Close() error { return b.port.Close() }
