package nvs

import (
	"encoding/binary"
	"fmt"
)

type liveKey struct {
	ns   uint8
	key  string
	kind Type
}

// resolve turns the written items into live entries: namespaces named,
// blob chunks joined through their index, later copies of a key winning.
func (p *Partition) resolve() {
	for _, it := range p.Items {
		if it.State != EntryWritten || it.Err != nil || it.NS != 0 || it.Type != U8 {
			continue
		}
		idx := it.Data[0]
		if _, dup := p.nsNames[idx]; !dup {
			p.nsOrder = append(p.nsOrder, it.Key)
		}
		p.nsNames[idx] = it.Key
	}
	// Chunks by key and chunk index, each with every copy's position.
	chunks := map[liveKey]map[uint8][]int{}
	for i, it := range p.Items {
		if it.State == EntryWritten && it.Err == nil && it.Type == BlobData {
			k := liveKey{it.NS, it.Key, Blob}
			if chunks[k] == nil {
				chunks[k] = map[uint8][]int{}
			}
			chunks[k][it.Chunk] = append(chunks[k][it.Chunk], i)
		}
	}
	pos := map[liveKey]int{}
	for i, it := range p.Items {
		if it.State != EntryWritten || it.Err != nil || it.NS == 0 || it.Type == BlobData {
			continue
		}
		name, ok := p.nsNames[it.NS]
		if !ok {
			p.Problems = append(p.Problems, fmt.Errorf("page %d entry %d: key %q: namespace index %d has no namespace entry", it.Page, it.Index, it.Key, it.NS))
			continue
		}
		e := Entry{Namespace: name, Key: it.Key, Type: it.Type.normal()}
		switch {
		case it.Type.IsInt():
			var b [8]byte
			copy(b[:it.Type.width()], it.Data[:])
			e.Bits = binary.LittleEndian.Uint64(b[:])
		case it.Type == String:
			e.Data = it.Payload
			if n := len(e.Data); n > 0 && e.Data[n-1] == 0 {
				e.Data = e.Data[:n-1]
			}
		case it.Type == BlobV1:
			e.Data = it.Payload
		case it.Type == BlobIdx:
			data, err := p.joinChunks(i, chunks[liveKey{it.NS, it.Key, Blob}])
			if err != nil {
				p.Problems = append(p.Problems, err)
				continue
			}
			e.Data = data
		}
		k := liveKey{it.NS, it.Key, e.Type}
		if i, ok := pos[k]; ok {
			p.live[i] = e
			continue
		}
		pos[k] = len(p.live)
		p.live = append(p.live, e)
	}
}

// joinChunks concatenates the chunks of the blob index at Items[at]. Of
// several copies of a chunk (duplicate keys, or a chunk copied by page
// reclaim), it takes the latest one before the index, else the latest.
func (p *Partition) joinChunks(at int, chunks map[uint8][]int) ([]byte, error) {
	idx := p.Items[at]
	size := binary.LittleEndian.Uint32(idx.Data[:4])
	count, start := int(idx.Data[4]), int(idx.Data[5])
	var out []byte
	for c := start; c < start+count; c++ {
		copies := chunks[uint8(c)]
		if len(copies) == 0 || c > 0xFF {
			return nil, fmt.Errorf("page %d entry %d: blob %q: chunk %d of %d missing", idx.Page, idx.Index, idx.Key, c-start+1, count)
		}
		pick := copies[len(copies)-1]
		for _, q := range copies {
			if q < at {
				pick = q
			}
		}
		out = append(out, p.Items[pick].Payload...)
	}
	if uint32(len(out)) != size {
		return nil, fmt.Errorf("page %d entry %d: blob %q: chunks hold %d bytes, index says %d", idx.Page, idx.Index, idx.Key, len(out), size)
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// Namespaces lists the namespace names in the order their entries appear.
func (p *Partition) Namespaces() []string { return append([]string(nil), p.nsOrder...) }

// Entries returns the live key-value pairs, each key once.
func (p *Partition) Entries() []Entry { return append([]Entry(nil), p.live...) }

// Get returns the live entry for namespace and key, of any type.
func (p *Partition) Get(namespace, key string) (Entry, bool) {
	for i := len(p.live) - 1; i >= 0; i-- {
		if e := p.live[i]; e.Namespace == namespace && e.Key == key {
			return e, true
		}
	}
	return Entry{}, false
}

func (p *Partition) typed(namespace, key string, want Type) (Entry, error) {
	e, ok := p.Get(namespace, key)
	if !ok {
		return Entry{}, fmt.Errorf("nvs: %s/%s: %w", namespace, key, ErrNotFound)
	}
	if e.Type != want {
		return Entry{}, fmt.Errorf("nvs: %s/%s: %w: holds %s, not %s", namespace, key, ErrTypeMismatch, e.Type, want)
	}
	return e, nil
}

// String returns a string value (without its NUL).
func (p *Partition) String(namespace, key string) (string, error) {
	e, err := p.typed(namespace, key, String)
	return string(e.Data), err
}

// Blob returns a blob value, however it is stored.
func (p *Partition) Blob(namespace, key string) ([]byte, error) {
	e, err := p.typed(namespace, key, Blob)
	return e.Data, err
}

func (p *Partition) uint(namespace, key string, t Type) (uint64, error) {
	e, err := p.typed(namespace, key, t)
	return e.Uint64(), err
}

func (p *Partition) int(namespace, key string, t Type) (int64, error) {
	e, err := p.typed(namespace, key, t)
	return e.Int64(), err
}

// U8 returns a u8 value.
func (p *Partition) U8(ns, key string) (uint8, error) {
	v, err := p.uint(ns, key, U8)
	return uint8(v), err
}

// U16 returns a u16 value.
func (p *Partition) U16(ns, key string) (uint16, error) {
	v, err := p.uint(ns, key, U16)
	return uint16(v), err
}

// U32 returns a u32 value.
func (p *Partition) U32(ns, key string) (uint32, error) {
	v, err := p.uint(ns, key, U32)
	return uint32(v), err
}

// U64 returns a u64 value.
func (p *Partition) U64(ns, key string) (uint64, error) { return p.uint(ns, key, U64) }

// I8 returns an i8 value.
func (p *Partition) I8(ns, key string) (int8, error) {
	v, err := p.int(ns, key, I8)
	return int8(v), err
}

// I16 returns an i16 value.
func (p *Partition) I16(ns, key string) (int16, error) {
	v, err := p.int(ns, key, I16)
	return int16(v), err
}

// I32 returns an i32 value.
func (p *Partition) I32(ns, key string) (int32, error) {
	v, err := p.int(ns, key, I32)
	return int32(v), err
}

// I64 returns an i64 value.
func (p *Partition) I64(ns, key string) (int64, error) { return p.int(ns, key, I64) }
