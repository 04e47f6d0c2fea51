package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestServePortArgs(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "ttyUSB9")
	tests := []cmdCase{
		{name: "no port", args: []string{"serve-port"}, code: 2, stderr: []string{"usage: station serve-port --port P"}},
		{name: "stray argument", args: []string{"serve-port", "--port", missing, "extra"}, code: 2, stderr: []string{"usage:"}},
		{name: "bad baud", args: []string{"serve-port", "--port", missing, "--baud", "0"}, code: 2, stderr: []string{"--baud 0: must be positive"}},
		{name: "unknown flag", args: []string{"serve-port", "--speed", "9600"}, code: 2, stderr: []string{"-speed"}},
		{name: "missing device", args: []string{"serve-port", "--port", missing, "--listen", "127.0.0.1:0"}, code: 1,
			stderr: []string{missing, "station ports"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t)
		})
	}
}

func TestClientURL(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2217}, "rfc2217://127.0.0.1:2217"},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 4000}, "rfc2217://[::1]:4000"},
	}
	for _, tc := range tests {
		if got := clientURL(tc.addr); got != tc.want {
			t.Errorf("clientURL(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	// A wildcard address names this host rather than 0.0.0.0.
	if got := clientURL(&net.TCPAddr{IP: net.IPv4zero, Port: 2217}); strings.Contains(got, "0.0.0.0") && !strings.HasSuffix(got, ":2217") {
		t.Errorf("clientURL(0.0.0.0:2217) = %q", got)
	}
}
