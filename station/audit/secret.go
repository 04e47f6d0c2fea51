package audit

import "strings"

// containsPrivateKey reports text that carries a PEM private key of any
// kind ("PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", ...). The
// audit log keeps fingerprints; a key in it would leak with every export.
func containsPrivateKey(s string) bool {
	return strings.Contains(strings.ToUpper(s), "PRIVATE KEY")
}
