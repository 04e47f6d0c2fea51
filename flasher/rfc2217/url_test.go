package rfc2217

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in      string
		addr    string
		timeout time.Duration
		ignore  bool
		err     string // substring of the error; "" for success
	}{
		{in: "rfc2217://127.0.0.1:2217", addr: "127.0.0.1:2217"},
		{in: "localhost:4000", addr: "localhost:4000"},
		{in: "rfc2217://[::1]:2217", addr: "[::1]:2217"},
		{in: "RFC2217://host:1", addr: "host:1"},
		{in: "rfc2217://host:4001?ign_set_control&timeout=0.5&logging=debug", addr: "host:4001", timeout: 500 * time.Millisecond, ignore: true},
		{in: "rfc2217://::1", err: "IPv6 address in brackets"},
		{in: "rfc2217://host", err: "want rfc2217://host:port"},
		{in: "rfc2217://host:99999", err: `TCP port "99999" out of range`},
		{in: "socket://host:1", err: `scheme "socket" is not rfc2217://`},
		{in: "rfc2217://host:1?timeout=-1", err: "not a positive number of seconds"},
		{in: "rfc2217://host:1?baud=9600", err: `unknown option "baud"`},
		{in: "justahost", err: "want rfc2217://host:port or host:port"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			addr, d, err := ParseURL(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.in) {
					t.Fatalf("ParseURL = %q, %v; want an error naming %q with %q", addr, err, tc.in, tc.err)
				}
				return
			}
			if err != nil || addr != tc.addr || d.ReplyTimeout != tc.timeout || d.IgnoreSetControl != tc.ignore {
				t.Fatalf("ParseURL = %q, %+v, %v; want %q, timeout %v, ignore %v", addr, d, err, tc.addr, tc.timeout, tc.ignore)
			}
		})
	}
}
