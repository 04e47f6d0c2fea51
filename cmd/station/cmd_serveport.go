package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

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
	if err := fs.Parse(args); err != nil {
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
	srv := &rfc2217.Server{
		Open: func() (portio.Port, error) { return serialport.Open(*port, *baud) },
		Baud: *baud,
		Logf: func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) },
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
