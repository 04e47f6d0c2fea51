package line

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"

	"fleetline/flasher/portio"
	"fleetline/flasher/rfc2217"
	"fleetline/sim/board"
)

// Config describes a line.
type Config struct {
	Boards    int
	Chip      string // default "esp32"
	Timing    board.Timing
	Bridge    string // default "cp2102n"
	FlashSize uint32 // default 4 MiB
	StateDir  string // keep identities and flash contents across runs
	// EsptoolStub makes every board take code started from RAM for
	// esptool's flasher stub (board.Config.EsptoolStub).
	EsptoolStub bool
	Seed        uint64
	Faults      []board.FaultRule
	// Listen is host:port for the first board's listener. Port 0 gives
	// every board a free port; port P gives board i port P+i.
	Listen string
	// DirectLines passes each DTR/RTS change straight to the board. By
	// default the endpoints assist resets as esp_rfc2217_server does (see
	// assistPort), which esptool's default reset needs over RFC 2217.
	DirectLines bool
	// PTY serves each board on a pseudo-terminal instead (Unix only).
	PTY bool
	// App returns the firmware behaviour of the board in slot i; nil, or a
	// nil result, leaves boards that boot from flash idle after the boot log.
	App func(slot int) board.App
	// Logf receives server session events; nil discards them.
	Logf func(format string, args ...any)
}

// Endpoint is how a station reaches one board.
type Endpoint struct {
	Slot int    `json:"slot"`
	URL  string `json:"url"` // rfc2217://host:port, or the pty path
	MAC  string `json:"mac"`
	Chip string `json:"chip"`
}

// Line is a running set of boards and their servers.
type Line struct {
	boards []*board.Board
	eps    []Endpoint
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
	closes []func() error
}

// Start builds the boards and starts serving them. It returns once every
// endpoint accepts connections; Close stops them.
func Start(ctx context.Context, cfg Config) (*Line, error) {
	if cfg.Boards < 1 {
		return nil, fmt.Errorf("line: %d boards: need at least one", cfg.Boards)
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("line: listen address %q: %w", cfg.Listen, err)
	}
	basePort, err := strconv.Atoi(portStr)
	if err != nil || basePort < 0 || basePort+cfg.Boards-1 > 65535 {
		return nil, fmt.Errorf("line: listen port %q: want 0 or a port with room for %d boards", portStr, cfg.Boards)
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Line{cancel: cancel}
	for i := 0; i < cfg.Boards; i++ {
		bc := board.Config{
			Chip: cfg.Chip, Index: i, Seed: cfg.Seed, Timing: cfg.Timing, Bridge: cfg.Bridge,
			FlashSize: cfg.FlashSize, StateDir: cfg.StateDir, Faults: board.FaultsFor(cfg.Faults, i),
			EsptoolStub: cfg.EsptoolStub,
		}
		if cfg.App != nil {
			bc.App = cfg.App(i)
		}
		b, err := board.New(bc)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("line: slot %d: %w", i, err)
		}
		l.boards = append(l.boards, b)
		ep := Endpoint{Slot: i, MAC: b.MAC(), Chip: b.Chip()}
		open := func() (portio.Port, error) {
			p, err := b.Open()
			if err != nil || cfg.DirectLines {
				return p, err
			}
			return &assistPort{Port: p}, nil
		}
		if cfg.PTY {
			path, closer, err := servePTY(ctx, b, &l.wg, l.fail)
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("line: slot %d: %w", i, err)
			}
			l.closes = append(l.closes, closer)
			ep.URL = path
		} else {
			port := 0
			if basePort != 0 {
				port = basePort + i
			}
			ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("line: slot %d: listen: %w", i, err)
			}
			ep.URL = "rfc2217://" + ln.Addr().String()
			srv := &rfc2217.Server{Open: open, Logf: cfg.Logf}
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				if err := srv.Serve(ctx, ln); err != nil {
					l.fail(fmt.Errorf("slot %d: %w", i, err))
				}
			}()
		}
		l.eps = append(l.eps, ep)
	}
	return l, nil
}

func (l *Line) fail(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

// Endpoints lists the boards in slot order.
func (l *Line) Endpoints() []Endpoint { return append([]Endpoint(nil), l.eps...) }

// Boards returns the boards in slot order (for tests and the demo's
// direct inspection of flash).
func (l *Line) Boards() []*board.Board { return append([]*board.Board(nil), l.boards...) }

// Close stops every server and powers the boards off. It returns the
// errors servers met while running.
func (l *Line) Close() error {
	l.cancel()
	for _, c := range l.closes {
		c()
	}
	l.wg.Wait()
	for _, b := range l.boards {
		b.Close()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.errs...)
}

// WriteEndpoints writes eps as a JSON array to path. The file appears
// whole: it is written beside path and renamed over it, so a station or
// script polling for it never reads half an array.
func WriteEndpoints(path string, eps []Endpoint) error {
	b, err := json.MarshalIndent(eps, "", "  ")
	if err != nil {
		return fmt.Errorf("line: encode endpoints: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("line: write endpoints: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("line: write endpoints: %w", err)
	}
	return nil
}
