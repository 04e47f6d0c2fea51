package nvs

import (
	"errors"
	"fmt"
)

// Errors callers branch on. Messages say what to change.
var (
	// ErrKeyTooLong: a key or namespace name is longer than MaxKeyLen bytes.
	ErrKeyTooLong = errors.New("key longer than 15 characters")
	// ErrValueTooLarge: a string or blob exceeds what nvs_flash stores.
	ErrValueTooLarge = errors.New("value too large")
	// ErrValueRange: an integer does not fit its type.
	ErrValueRange = errors.New("integer out of range")
	// ErrPartitionSize: the partition size is not a multiple of 4096 or is too small.
	ErrPartitionSize = errors.New("bad partition size")
	// ErrPartitionFull: the entries do not fit the partition size.
	ErrPartitionFull = errors.New("size parameter is less than the size of the data; increase the partition size")
	// ErrNoNamespace: an entry came before any namespace.
	ErrNoNamespace = errors.New("entry before any namespace")
	// ErrTooManyNamespaces: more than 254 namespaces.
	ErrTooManyNamespaces = errors.New("more than 254 namespaces")
	// ErrEncoding: an unknown encoding or a value that does not decode.
	ErrEncoding = errors.New("bad encoding")
	// ErrType: an entry type that cannot be written.
	ErrType = errors.New("unsupported entry type")
	// ErrNotFound: no such namespace or key.
	ErrNotFound = errors.New("not found")
	// ErrTypeMismatch: the key holds a different type than asked for.
	ErrTypeMismatch = errors.New("type mismatch")
	// ErrNotEnoughSpace: the partition has no room left even after reclaiming pages.
	ErrNotEnoughSpace = errors.New("not enough space in the NVS partition")
	// ErrNoFreePages: a read/write partition has no free page (nvs_flash refuses it).
	ErrNoFreePages = errors.New("no free page (nvs_flash needs one spare page; erase the partition)")
	// ErrCorrupt: the image cannot be read as NVS at all.
	ErrCorrupt = errors.New("not an NVS partition")
)

// CSVError is a problem in one line of a generator CSV file.
type CSVError struct {
	File string // as given, may be empty for a reader
	Line int    // 1-based line of the row
	Key  string
	Err  error
}

// Error reads FILE:LINE: key "K": problem, as compilers print it, so
// editors can jump to the row.
func (e *CSVError) Error() string {
	where := e.File
	if where == "" {
		where = "csv"
	}
	if e.Key != "" {
		return fmt.Sprintf("%s:%d: key %q: %v", where, e.Line, e.Key, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", where, e.Line, e.Err)
}

// Unwrap returns the problem, often one of the sentinel errors above.
func (e *CSVError) Unwrap() error { return e.Err }

// CRCError reports an entry or page whose stored CRC does not match.
type CRCError struct {
	Page   int    // page number within the partition
	Entry  int    // entry index, -1 for the page header
	What   string // "header", "entry" or "data"
	Stored uint32
	Actual uint32
}

// Error names the page (and entry) and both CRC values.
func (e *CRCError) Error() string {
	if e.Entry < 0 {
		return fmt.Sprintf("page %d: header CRC 0x%08x, computed 0x%08x", e.Page, e.Stored, e.Actual)
	}
	return fmt.Sprintf("page %d entry %d: %s CRC 0x%08x, computed 0x%08x", e.Page, e.Entry, e.What, e.Stored, e.Actual)
}
