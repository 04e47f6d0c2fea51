package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"fleetline/flasher"
	"fleetline/flasher/portio"
	"fleetline/flasher/rfc2217"
	"fleetline/flasher/serialport"
)

func init() {
	register(&command{name: "serve-port", summary: "share a local serial port over the network as rfc2217://", run: runServePort})
}

func runServePort(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve-port", stderr)
	port := fs.String("port", "", "serial device to share, e.g. /dev/ttyUSB0 or a /dev/serial/by-path name (required)")
	listen := fs.String("listen", "localhost:2217", "TCP address to listen on; use :2217 to serve other machines")
	baud := fs.Int("baud", 115200, "baud rate until the client sets its own")
	direct := fs.Bool("direct-lines", false, "pass DTR/RTS changes straight to the device instead of playing reset sequences locally as esp_rfc2217_server does")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *port == "" || fs.NArg() != 0 {
		return usagef("usage: station serve-port --port P [--listen ADDR] [--baud N]")
	}
	if *baud <= 0 {
		return usagef("--baud %d: must be positive", *baud)
	}
	// Open once now so that a wrong path or missing permission shows at
	// start; each client then gets the device opened afresh, so a board
	// that is re-plugged between clients keeps working.
	p, err := serialport.Open(*port, *baud)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	p.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("serve-port: listen on %s: %w", *listen, err)}
	}
	fmt.Fprintf(stdout, "Serving %s at %s (one client at a time; Ctrl-C to stop)\n", *port, clientURL(ln.Addr()))
	fmt.Fprintf(stdout, "Use it as: station flash --port %s ...\n", clientURL(ln.Addr()))
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	download, hard := assistResets(*port)
	if *direct {
		fmt.Fprintln(stdout, "DTR/RTS changes go straight to the device (--direct-lines)")
	} else {
		fmt.Fprintf(stdout, "Resets are played here: %s into download mode, %s into the app\n", download, hard)
	}
	srv := &rfc2217.Server{
		Open: func() (portio.Port, error) {
			p, err := serialport.Open(*port, *baud)
			if err != nil || *direct {
				return p, err
			}
			return &assistPort{Port: p, download: download, hard: hard, logf: logf}, nil
		},
		Baud: *baud,
		Logf: logf,
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}

// clientURL is the rfc2217:// URL a client should use for addr; for a
// wildcard address it names this host.
func clientURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "rfc2217://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return "rfc2217://" + net.JoinHostPort(host, port)
}

// assistResets picks the sequences a served port plays locally, as
// esp_rfc2217_server does: unix-tight (classic on Windows) into download
// mode and an RTS pulse into the app, or the USB-Serial/JTAG ones when the
// device is an Espressif USB-Serial/JTAG.
func assistResets(path string) (download, hard flasher.Reset) {
	if info, ok, _ := serialport.Find(path); ok && info.Bridge == serialport.BridgeUSBJTAG {
		return flasher.USBJTAG(), flasher.HardReset(true)
	}
	if runtime.GOOS == "windows" {
		return flasher.Classic(50 * time.Millisecond), flasher.HardReset(false)
	}
	return flasher.UnixTight(50 * time.Millisecond), flasher.HardReset(false)
}

// assistPort plays reset sequences on the device itself. Over RFC 2217 a
// client's line changes arrive one round trip apart (and pyserial, hence
// esptool, polls 50 ms for each answer), far too slow for the RC on an
// auto-reset circuit's EN line: the board would boot its app. So, like
// esp_rfc2217_server: DTR asserted starts a download-mode reset, RTS
// released outside one starts a hard reset, DTR released ends download
// mode, and other changes are acknowledged without effect. Sequences run
// one at a time.
type assistPort struct {
	portio.Port
	download, hard flasher.Reset
	logf           func(string, ...any)

	mu         sync.Mutex // guards inDownload
	inDownload bool
	seq        sync.Mutex // one sequence at a time
}

func (a *assistPort) SetDTR(v bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !v {
		a.inDownload = false
		return a.Port.SetDTR(false)
	}
	if !a.inDownload {
		a.inDownload = true
		go a.play(a.download)
	}
	return nil
}

func (a *assistPort) SetRTS(v bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !v && !a.inDownload {
		go a.play(a.hard)
	}
	return nil
}

func (a *assistPort) play(r flasher.Reset) {
	a.seq.Lock()
	defer a.seq.Unlock()
	if err := r.Run(context.Background(), a.Port, nil); err != nil {
		a.logf("serve-port: %v", err)
	}
}
