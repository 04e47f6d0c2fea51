package nvs

import (
	"bytes"
	"errors"
	"fmt"
)

// Set stores e (an integer, String or Blob) under e.Namespace and e.Key,
// creating the namespace if needed, as nvs_set_* followed by nvs_commit
// does. Setting a key to the value it already holds writes nothing.
func (s *Store) Set(e Entry) error {
	if err := s.set(e); err != nil {
		return fmt.Errorf("nvs: set %s/%s: %w", e.Namespace, e.Key, err)
	}
	return nil
}

// SetString stores a string.
func (s *Store) SetString(ns, key, v string) error { return s.Set(Str(ns, key, v)) }

// SetBlob stores a blob.
func (s *Store) SetBlob(ns, key string, b []byte) error { return s.Set(BlobEntry(ns, key, b)) }

// SetUint stores an unsigned integer of type t.
func (s *Store) SetUint(ns, key string, t Type, v uint64) error { return s.Set(Uint(ns, key, t, v)) }

// SetInt stores a signed integer of type t.
func (s *Store) SetInt(ns, key string, t Type, v int64) error { return s.Set(Int(ns, key, t, v)) }

func (s *Store) set(e Entry) error {
	if err := checkKey(e.Key); err != nil {
		return err
	}
	switch {
	case e.Type.IsInt():
		if err := e.checkInt(); err != nil {
			return err
		}
	case e.Type == String:
		if len(e.Data)+1 > MaxStringLen {
			return fmt.Errorf("%w: string of %d bytes (NUL included) exceeds %d", ErrValueTooLarge, len(e.Data)+1, MaxStringLen)
		}
	case e.Type.normal() == Blob:
		e.Type = Blob
		if limit := min(len(s.part.Pages)-1, 127) * maxChunkData; len(e.Data) > limit {
			return fmt.Errorf("%w: blob of %d bytes exceeds the %d this partition holds", ErrValueTooLarge, len(e.Data), limit)
		}
	default:
		return fmt.Errorf("%w: %s", ErrType, e.Type)
	}
	if old, ok := s.part.Get(e.Namespace, e.Key); ok && old.Type == e.Type && old.Bits == e.Bits && bytes.Equal(old.Data, e.Data) {
		return nil
	}
	ns, err := s.namespace(e.Namespace)
	if err != nil {
		return err
	}
	if e.Type == Blob {
		return s.setBlob(ns, e)
	}
	var hdr [EntrySize]byte
	var payload []byte
	if e.Type == String {
		payload = append(bytes.Clone(e.Data), 0)
		hdr = makeEntry(ns, String, uint8(spanFor(len(payload))), chunkAny, e.Key, varData(payload))
	} else {
		hdr = makeEntry(ns, e.Type, 1, chunkAny, e.Key, intData(e.Type, e.Bits))
	}
	if err := s.writeMoving(hdr, payload); err != nil {
		return err
	}
	keep := s.current()
	at := s.nextFree(keep) - spanFor(len(payload))
	return s.eraseKey(ns, e.Key, func(it Item) bool { return it.Page == keep && it.Index == at })
}

// writeMoving writes an item, moving to a new page once if the current
// one cannot take it.
func (s *Store) writeMoving(hdr [EntrySize]byte, payload []byte) error {
	err := s.writeItem(hdr, payload)
	if !errors.Is(err, errPageFull) {
		return err
	}
	if err := s.nextPage(); err != nil {
		return err
	}
	if err := s.writeItem(hdr, payload); errors.Is(err, errPageFull) {
		return ErrNotEnoughSpace
	} else if err != nil {
		return err
	}
	return nil
}

// setBlob writes a version 2 blob as nvs_flash does: chunks numbered from
// the other chunk-index half than the blob's previous version, the first
// chunk moved to a fresh page when the current one has little room, then
// the index; the previous version is erased afterwards.
func (s *Store) setBlob(ns uint8, e Entry) (err error) {
	start := uint8(0)
	for _, it := range s.part.Items {
		if it.State == EntryWritten && it.Err == nil && it.NS == ns && it.Key == e.Key && it.Type == BlobIdx && it.Data[5] == 0 {
			start = verOffset1
		}
	}
	data := e.Data
	chunks := 0
	defer func() {
		if err == nil || chunks == 0 {
			return
		}
		// Like nvs_flash, drop the chunks of a blob that could not be finished.
		_ = s.eraseKey(ns, e.Key, func(it Item) bool {
			return it.Type != BlobData || it.Chunk < start || int(it.Chunk) >= int(start)+chunks
		})
	}()
	for off := 0; ; {
		room := s.tailroom(s.current())
		if chunks == 0 && (room < len(data) || (room == 0 && len(data) == 0)) && room < maxChunkData/10 {
			before := s.current()
			if err := s.nextPage(); err != nil {
				return err
			}
			if s.current() == before || s.tailroom(s.current()) == room {
				return ErrNotEnoughSpace
			}
			continue
		}
		if room == 0 {
			return ErrNotEnoughSpace
		}
		n := min(room, len(data)-off)
		chunk := data[off : off+n]
		hdr := makeEntry(ns, BlobData, uint8(spanFor(n)), start+uint8(chunks), e.Key, varData(chunk))
		if err := s.writeItem(hdr, chunk); err != nil {
			return err
		}
		chunks++
		off += n
		if off < len(data) || room-n < EntrySize {
			if err := s.nextPage(); err != nil {
				return err
			}
		}
		if off == len(data) {
			break
		}
	}
	idx := makeEntry(ns, BlobIdx, 1, chunkAny, e.Key, indexData(uint32(len(data)), uint8(chunks), start))
	if err := s.writeItem(idx, nil); err != nil {
		return err
	}
	return s.eraseKey(ns, e.Key, func(it Item) bool {
		switch it.Type {
		case BlobIdx:
			return it.Data[5] == start
		case BlobData:
			return it.Chunk >= start && int(it.Chunk) < int(start)+chunks
		}
		return false
	})
}

// Erase removes a key of any type from a namespace, as nvs_erase_key does.
func (s *Store) Erase(namespace, key string) error {
	ns, ok := s.findNamespace(namespace)
	if !ok {
		return fmt.Errorf("nvs: erase %s/%s: %w", namespace, key, ErrNotFound)
	}
	if _, live := s.part.Get(namespace, key); !live {
		return fmt.Errorf("nvs: erase %s/%s: %w", namespace, key, ErrNotFound)
	}
	if err := s.eraseKey(ns, key, func(Item) bool { return false }); err != nil {
		return fmt.Errorf("nvs: erase %s/%s: %w", namespace, key, err)
	}
	return nil
}

// eraseKey marks every written item of ns/key erased except those keep
// selects, then rereads the partition.
func (s *Store) eraseKey(ns uint8, key string, keep func(Item) bool) error {
	if err := s.reparse(); err != nil {
		return err
	}
	for _, it := range s.part.Items {
		if it.State != EntryWritten || it.NS != ns || it.Key != key || keep(it) {
			continue
		}
		span := int(it.Span)
		if it.Err != nil {
			span = 1
		}
		for i := it.Index; i < it.Index+span; i++ {
			if err := s.setEntryState(it.Page, i, EntryErased); err != nil {
				return err
			}
		}
	}
	return s.reparse()
}

func (s *Store) findNamespace(name string) (uint8, bool) {
	for _, it := range s.part.Items {
		if it.State == EntryWritten && it.Err == nil && it.NS == 0 && it.Type == U8 && it.Key == name {
			return it.Data[0], true
		}
	}
	return 0, false
}

// namespace returns name's index, writing a namespace entry with the lowest
// unused index when it is new.
func (s *Store) namespace(name string) (uint8, error) {
	if err := checkKey(name); err != nil {
		return 0, fmt.Errorf("namespace %q: %w", name, err)
	}
	if idx, ok := s.findNamespace(name); ok {
		return idx, nil
	}
	var usedIdx [256]bool
	for _, it := range s.part.Items {
		if it.State == EntryWritten && it.Err == nil && it.NS == 0 && it.Type == U8 {
			usedIdx[it.Data[0]] = true
		}
	}
	idx := 1
	for idx < 255 && usedIdx[idx] {
		idx++
	}
	if idx == 255 {
		return 0, ErrTooManyNamespaces
	}
	hdr := makeEntry(0, U8, 1, chunkAny, name, intData(U8, uint64(idx)))
	if err := s.writeMoving(hdr, nil); err != nil {
		return 0, err
	}
	if err := s.reparse(); err != nil {
		return 0, err
	}
	return uint8(idx), nil
}
