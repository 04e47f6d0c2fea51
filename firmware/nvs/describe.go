package nvs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// keyOpenings are how P-256 private keys begin without PEM armour: SEC 1
// and PKCS#8 DER, and the base64 of each, as firmware sometimes stores a
// key body in a string.
var keyOpenings = [][]byte{
	{0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20},
	{0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01},
	[]byte("MHcCAQEEI"),
	[]byte("MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"),
}

// IsPrivateKey reports whether b looks like a private key: PEM ("-----BEGIN
// ... PRIVATE KEY-----", RSA, EC, encrypted or PKCS#8), or a P-256 key's
// DER or base64 body without the armour. Dumps, logs and errors must never
// show such a value.
func IsPrivateKey(b []byte) bool {
	trimmed := bytes.TrimSpace(b)
	for _, p := range keyOpenings {
		if bytes.HasPrefix(trimmed, p) {
			return true
		}
	}
	i := bytes.Index(b, []byte("-----BEGIN "))
	if i < 0 {
		return false
	}
	rest := b[i+len("-----BEGIN "):]
	end := bytes.Index(rest, []byte("-----"))
	if end < 0 {
		return false
	}
	return bytes.HasSuffix(rest[:end], []byte("PRIVATE KEY"))
}

// Describe renders a string or blob value for a human without leaking
// secrets: private keys become "<private key, N bytes, redacted>", blobs show
// their size and a SHA-256 prefix, strings are quoted.
func Describe(b []byte, isString bool) string {
	if IsPrivateKey(b) {
		return fmt.Sprintf("<private key, %d bytes, redacted>", len(b))
	}
	if isString {
		return strconv.Quote(string(b))
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("<blob, %d bytes, sha256 %s>", len(b), hex.EncodeToString(sum[:6]))
}

// describeInput renders a CSV value for an error message: a private key is
// redacted and a long value is given by its length only, so that a "file"
// row with the wrong encoding cannot put the file (a claim key) into an
// error, a log line or an event. Short values are quoted.
func describeInput(s string) string {
	const max = 32
	if IsPrivateKey([]byte(s)) {
		return Describe([]byte(s), true)
	}
	if len(s) > max {
		return fmt.Sprintf("a value of %d bytes", len(s))
	}
	return strconv.Quote(s)
}
