package nvs

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Encrypted NVS (CONFIG_NVS_ENCRYPTION): every entry that is not empty is
// encrypted with AES-256-XTS, one 32-byte data unit per entry, the tweak
// being the entry's byte offset within the partition, little-endian. Page
// headers and state bitmaps stay in the clear, and CRCs are over the
// plaintext. The 64-byte key (XTS data key, then tweak key) lives in an
// nvs_keys partition: the key, its CRC32 and erased bytes to 4096.

// KeySize is the XTS key length: a 32-byte AES-256 data key and a 32-byte
// tweak key.
const KeySize = 64

// ErrKey: an nvs_keys partition or key that cannot be used.
var ErrKey = errors.New("bad NVS encryption key")

// Key is an NVS encryption key as an nvs_keys partition holds it.
type Key [KeySize]byte

// NewKey returns a random key.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("nvs: generate key: %w", err)
	}
	return k, nil
}

// KeysPartition is the nvs_keys partition image holding k, as
// nvs_partition_gen.py generate-key writes it.
func KeysPartition(k Key) []byte {
	img := erased(PageSize)
	copy(img, k[:])
	binary.LittleEndian.PutUint32(img[KeySize:], crc(k[:]))
	return img
}

// ParseKeysPartition reads a key from an nvs_keys partition image (or the
// first 64 bytes of a key file), checking the CRC when there is one.
func ParseKeysPartition(img []byte) (Key, error) {
	var k Key
	if len(img) < KeySize {
		return k, fmt.Errorf("nvs: keys partition of %d bytes: %w: want at least 64", len(img), ErrKey)
	}
	copy(k[:], img)
	if allErased(k[:]) {
		return k, fmt.Errorf("nvs: keys partition: %w: erased (no key written)", ErrKey)
	}
	if len(img) >= KeySize+4 {
		if got := binary.LittleEndian.Uint32(img[KeySize:]); got != crc(k[:]) {
			// The computed CRC is not shown: it is a function of the key.
			return k, fmt.Errorf("nvs: keys partition: %w: stored CRC 0x%08x does not match the key (not an nvs_keys partition, or damaged)", ErrKey, got)
		}
	}
	return k, nil
}

type xts struct{ data, tweak cipher.Block }

func newXTS(k Key) (*xts, error) {
	if [32]byte(k[:32]) == [32]byte(k[32:]) {
		return nil, fmt.Errorf("nvs: %w: the two key halves must differ", ErrKey)
	}
	d, err := aes.NewCipher(k[:32])
	if err != nil {
		return nil, err
	}
	t, err := aes.NewCipher(k[32:])
	if err != nil {
		return nil, err
	}
	return &xts{data: d, tweak: t}, nil
}

// crypt en- or decrypts one 32-byte entry at partition offset addr.
func (x *xts) crypt(entry []byte, addr uint64, decrypt bool) {
	var t [16]byte
	binary.LittleEndian.PutUint64(t[:], addr)
	x.tweak.Encrypt(t[:], t[:])
	for blk := 0; blk < EntrySize; blk += 16 {
		b := entry[blk : blk+16]
		for i := range b {
			b[i] ^= t[i]
		}
		if decrypt {
			x.data.Decrypt(b, b)
		} else {
			x.data.Encrypt(b, b)
		}
		for i := range b {
			b[i] ^= t[i]
		}
		// Multiply the tweak by x in GF(2^128), little-endian.
		carry := t[15] >> 7
		for i := 15; i > 0; i-- {
			t[i] = t[i]<<1 | t[i-1]>>7
		}
		t[0] = t[0]<<1 ^ carry*0x87
	}
}

// cryptImage en- or decrypts, in place, every non-empty entry of every page
// that has a header.
func cryptImage(img []byte, k Key, decrypt bool) error {
	x, err := newXTS(k)
	if err != nil {
		return err
	}
	for n := 0; n+PageSize <= len(img); n += PageSize {
		pg := img[n : n+PageSize]
		if PageState(binary.LittleEndian.Uint32(pg)) == PageEmpty {
			continue
		}
		for i := 0; i < EntriesPerPage; i++ {
			if entryState(pg, i) == EntryEmpty {
				continue
			}
			off := firstEntry + i*EntrySize
			x.crypt(pg[off:off+EntrySize], uint64(n+off), decrypt)
		}
	}
	return nil
}

// Encrypt returns an encrypted copy of a plaintext image, byte for byte as
// `nvs_partition_gen.py encrypt` writes it for the same key.
func Encrypt(img []byte, k Key) ([]byte, error) {
	out := append([]byte(nil), img...)
	if err := cryptImage(out, k, false); err != nil {
		return nil, err
	}
	return out, nil
}

// Decrypt returns the plaintext of an encrypted image, ready for Parse.
func Decrypt(img []byte, k Key) ([]byte, error) {
	out := append([]byte(nil), img...)
	if err := cryptImage(out, k, true); err != nil {
		return nil, err
	}
	return out, nil
}
