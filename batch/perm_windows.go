//go:build windows

package batch

// keyPermissionWarning is not checked on Windows: ACLs, not mode bits,
// decide who may read the file, and Go does not expose them.
func keyPermissionWarning(string) string { return "" }
