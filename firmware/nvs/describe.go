package nvs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// IsPrivateKey reports whether b looks like a PEM private key ("-----BEGIN
// ... PRIVATE KEY-----", RSA, EC, encrypted or PKCS#8). Dumps, logs and
// errors must never show such a value.
func IsPrivateKey(b []byte) bool {
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
