package nvs

import (
	"fmt"
	"math"
)

// Entry is one key-value pair as an application sees it: a namespace, a
// key and a typed value. Integers keep their two's-complement bits in Bits;
// strings (without the NUL nvs_flash stores) and blobs keep their bytes in
// Data.
type Entry struct {
	Namespace string
	Key       string
	Type      Type   // an integer type, String or Blob
	Bits      uint64 // integers only
	Data      []byte // strings and blobs only
}

// Uint returns an entry holding an unsigned integer of type t (U8..U64).
func Uint(ns, key string, t Type, v uint64) Entry {
	return Entry{Namespace: ns, Key: key, Type: t, Bits: v}
}

// Int returns an entry holding a signed integer of type t (I8..I64).
func Int(ns, key string, t Type, v int64) Entry {
	return Entry{Namespace: ns, Key: key, Type: t, Bits: uint64(v)}
}

// Str returns an entry holding a string.
func Str(ns, key, s string) Entry {
	return Entry{Namespace: ns, Key: key, Type: String, Data: []byte(s)}
}

// BlobEntry returns an entry holding a blob.
func BlobEntry(ns, key string, b []byte) Entry {
	return Entry{Namespace: ns, Key: key, Type: Blob, Data: b}
}

// Int64 returns an integer entry's value sign-extended from its width.
func (e Entry) Int64() int64 {
	w := uint(e.Type.width()) * 8
	if w == 0 || w >= 64 {
		return int64(e.Bits)
	}
	shift := 64 - w
	return int64(e.Bits<<shift) >> shift
}

// Uint64 returns an integer entry's value truncated to its width.
func (e Entry) Uint64() uint64 {
	w := uint(e.Type.width()) * 8
	if w == 0 || w >= 64 {
		return e.Bits
	}
	return e.Bits & (1<<w - 1)
}

// checkInt reports whether an integer entry's value fits its type.
func (e Entry) checkInt() error {
	w := uint(e.Type.width()) * 8
	if w >= 64 {
		return nil
	}
	if e.Type.signed() {
		v := int64(e.Bits)
		lo, hi := -int64(1)<<(w-1), int64(1)<<(w-1)-1
		if v < lo || v > hi {
			return fmt.Errorf("%w: %d does not fit %s", ErrValueRange, v, e.Type)
		}
		return nil
	}
	if e.Bits > math.MaxUint64>>(64-w) {
		return fmt.Errorf("%w: %d does not fit %s", ErrValueRange, e.Bits, e.Type)
	}
	return nil
}

// normal returns the stored kind of an entry type: BlobData, BlobIdx and
// BlobV1 all read as Blob.
func (t Type) normal() Type {
	if t == BlobData || t == BlobIdx {
		return Blob
	}
	return t
}

// valueString renders the value for dumps, never the contents of a private
// key.
func (e Entry) valueString() string {
	switch {
	case e.Type.IsInt() && e.Type.signed():
		return fmt.Sprint(e.Int64())
	case e.Type.IsInt():
		return fmt.Sprint(e.Uint64())
	}
	return Describe(e.Data, e.Type == String)
}
