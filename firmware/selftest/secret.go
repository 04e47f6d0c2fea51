package selftest

import (
	"regexp"
	"strconv"
	"strings"
)

// pemPrivate matches a PEM private-key armour line of any flavour: PKCS#8
// ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), SEC1 ("EC PRIVATE KEY"),
// PKCS#1 ("RSA PRIVATE KEY"), OpenSSH; also its END line, and inside JSON
// strings where a newline reads "\n".
var pemPrivate = regexp.MustCompile(`-{3,}\s*(BEGIN|END)[A-Z0-9 ]*PRIVATE KEY\s*-{3,}`)

// derPrefixes are the base64 openings of P-256 private keys without their
// armour: SEC1 (30 77 02 01 01 04 20) and PKCS#8 with the P-256 OIDs. A
// firmware that prints the key body line by line is caught by these.
var derPrefixes = []string{
	"MHcCAQEEI",
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg",
}

// LooksLikePrivateKey reports whether a console line (plain or protocol)
// carries private-key material. The station fails a board whose console
// says so and never stores the line itself.
func LooksLikePrivateKey(line string) bool {
	if pemPrivate.MatchString(line) {
		return true
	}
	for _, p := range derPrefixes {
		if strings.Contains(line, p) {
			return true
		}
	}
	return false
}

// quoteField quotes a field a device sent, for an error message: redacted
// when it carries key material and cut to 32 bytes, since errors reach
// logs and events, which must never hold a key, and a device may send
// anything.
func quoteField(s string) string {
	const max = 32
	if LooksLikePrivateKey(s) {
		return "<redacted: looks like private-key material>"
	}
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
