package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"fleetline/flasher/serialport"
)

func init() {
	register(&command{name: "ports", summary: "list serial ports: path, by-path name, VID:PID, USB serial, bridge", run: runPorts})
}

// portJSON is one port in `station ports --json`.
type portJSON struct {
	Path         string `json:"path"`
	ByPath       string `json:"by_path,omitempty"`
	ByID         string `json:"by_id,omitempty"`
	VID          string `json:"vid,omitempty"`
	PID          string `json:"pid,omitempty"`
	SerialNumber string `json:"serial_number,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
	Bridge       string `json:"bridge,omitempty"`
}

func runPorts(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ports", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("usage: station ports [--json]")
	}
	ports, err := serialport.List()
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if *asJSON {
		out := make([]portJSON, 0, len(ports))
		for _, p := range ports {
			j := portJSON{Path: p.Path, ByPath: p.ByPath, ByID: p.ByID, SerialNumber: p.SerialNumber,
				Manufacturer: p.Manufacturer, Product: p.Product, Bridge: p.Bridge}
			if p.USB {
				j.VID, j.PID = fmt.Sprintf("%04X", p.VID), fmt.Sprintf("%04X", p.PID)
			}
			out = append(out, j)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(ports) == 0 {
		fmt.Fprintln(stderr, "no serial ports found (is the board plugged in? on Linux check `dmesg` for the bridge driver)")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tBY-PATH\tVID:PID\tSERIAL\tBRIDGE")
	for _, p := range ports {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Path, dash(p.ByPath), dash(p.VIDPID()), dash(p.SerialNumber), dash(p.Bridge))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
