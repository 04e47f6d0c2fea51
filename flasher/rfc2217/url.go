package rfc2217

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Scheme is the URL scheme of an RFC 2217 port, as pyserial and esptool
// spell it: rfc2217://host:port[?option&...].
const Scheme = "rfc2217"

// ParseURL splits an rfc2217:// URL into the TCP address and the dialer
// options its query selects. The options are pyserial's: "timeout=SECONDS"
// (how long to wait for negotiation and for the server's answers) and
// "ign_set_control" (do not wait for SET-CONTROL answers, for servers such as
// esp_rfc2217_server that swallow DTR/RTS changes); "logging=..." and
// "poll_modem" are accepted and ignored. A bare "host:port" is accepted too.
func ParseURL(s string) (addr string, d Dialer, err error) {
	if !strings.Contains(s, "://") {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return "", d, fmt.Errorf("rfc2217 port %q: want rfc2217://host:port or host:port: %w", s, err)
		}
		return s, d, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", d, fmt.Errorf("rfc2217 port %q: %w", s, err)
	}
	if u.Scheme != Scheme {
		return "", d, fmt.Errorf("rfc2217 port %q: scheme %q is not %s://", s, u.Scheme, Scheme)
	}
	// url.Parse takes "::1" for host ":" and port "1"; SplitHostPort
	// insists on brackets around an IPv6 address, as Dial needs.
	if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" {
		return "", d, fmt.Errorf("rfc2217 port %q: want rfc2217://host:port (an IPv6 address in brackets: rfc2217://[::1]:2217)", s)
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return "", d, fmt.Errorf("rfc2217 port %q: TCP port %q out of range", s, u.Port())
	}
	for key, vals := range u.Query() {
		switch key {
		case "timeout":
			if len(vals) == 0 {
				return "", d, fmt.Errorf("rfc2217 port %q: timeout needs a value in seconds", s)
			}
			sec, err := strconv.ParseFloat(vals[0], 64)
			if err != nil || sec <= 0 {
				return "", d, fmt.Errorf("rfc2217 port %q: timeout=%q is not a positive number of seconds", s, vals[0])
			}
			d.ReplyTimeout = time.Duration(sec * float64(time.Second))
		case "ign_set_control":
			d.IgnoreSetControl = true
		case "logging", "poll_modem":
		default:
			return "", d, fmt.Errorf("rfc2217 port %q: unknown option %q (known: timeout, ign_set_control)", s, key)
		}
	}
	return u.Host, d, nil
}
