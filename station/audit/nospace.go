package audit

import (
	"errors"
	"strings"
	"syscall"
)

// isNoSpace reports an I/O error caused by a full disk (SQLite reports some
// ENOSPC cases as SQLITE_IOERR_WRITE rather than SQLITE_FULL).
func isNoSpace(err error) bool {
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	return strings.Contains(strings.ToLower(err.Error()), "no space")
}
