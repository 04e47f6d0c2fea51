//go:build !windows

package batch

import (
	"fmt"
	"os"
)

// keyPermissionWarning says whether the key file is readable by group or
// others; the claim key lets anyone who has it provision devices.
func keyPermissionWarning(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if mode := st.Mode().Perm(); mode&0o077 != 0 {
		return fmt.Sprintf("claim key %s is readable by others (mode %04o)", path, mode)
	}
	return ""
}
