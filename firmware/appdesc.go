package firmware

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Descriptor magics and sizes.
const (
	AppDescMagic        = 0xABCD5432
	AppDescSize         = 256
	BootloaderDescMagic = 0x50
	BootloaderDescSize  = 80
)

// ErrNoDescriptor is returned when bytes do not start with the descriptor's
// magic.
var ErrNoDescriptor = errors.New("no descriptor")

// AppDesc is ESP-IDF's esp_app_desc_t, the first 256 bytes of an app's
// first (DROM) segment: what the app says about itself.
type AppDesc struct {
	Magic          uint32
	SecureVersion  uint32 // anti-rollback counter
	Version        string // PROJECT_VER, e.g. "1.4.2" or a git describe
	ProjectName    string
	Time           string // __TIME__ of the build, "15:04:05"
	Date           string // __DATE__ of the build, "Jan  2 2006"
	IDFVersion     string // e.g. "v5.2.1"
	ELFSHA256      [32]byte
	MinEfuseBlkRev uint16 // major*100+minor
	MaxEfuseBlkRev uint16
	MMUPageSize    uint8 // log2 of the MMU page size; 0 = not recorded
}

// ParseAppDesc decodes an esp_app_desc_t from the first 256 bytes of b.
func ParseAppDesc(b []byte) (*AppDesc, error) {
	if len(b) < AppDescSize {
		return nil, fmt.Errorf("%w: app descriptor needs %d bytes, have %d", ErrNoDescriptor, AppDescSize, len(b))
	}
	d := &AppDesc{Magic: binary.LittleEndian.Uint32(b[0:])}
	if d.Magic != AppDescMagic {
		return nil, fmt.Errorf("%w: app descriptor magic 0x%08X, want 0x%08X", ErrNoDescriptor, d.Magic, uint32(AppDescMagic))
	}
	d.SecureVersion = binary.LittleEndian.Uint32(b[4:])
	d.Version = cString(b[16:48])
	d.ProjectName = cString(b[48:80])
	d.Time = cString(b[80:96])
	d.Date = cString(b[96:112])
	d.IDFVersion = cString(b[112:144])
	copy(d.ELFSHA256[:], b[144:176])
	d.MinEfuseBlkRev = binary.LittleEndian.Uint16(b[176:])
	d.MaxEfuseBlkRev = binary.LittleEndian.Uint16(b[178:])
	d.MMUPageSize = b[180]
	return d, nil
}

// MarshalBinary encodes the descriptor as its 256 bytes. Strings longer
// than their field (minus the terminating NUL) are an error.
func (d *AppDesc) MarshalBinary() ([]byte, error) {
	b := make([]byte, AppDescSize)
	magic := d.Magic
	if magic == 0 {
		magic = AppDescMagic
	}
	binary.LittleEndian.PutUint32(b[0:], magic)
	binary.LittleEndian.PutUint32(b[4:], d.SecureVersion)
	for _, f := range []struct {
		name string
		val  string
		dst  []byte
	}{
		{"version", d.Version, b[16:48]},
		{"project name", d.ProjectName, b[48:80]},
		{"time", d.Time, b[80:96]},
		{"date", d.Date, b[96:112]},
		{"IDF version", d.IDFVersion, b[112:144]},
	} {
		if len(f.val) >= len(f.dst) {
			return nil, fmt.Errorf("app descriptor %s %q is %d bytes, the field holds %d", f.name, f.val, len(f.val), len(f.dst)-1)
		}
		copy(f.dst, f.val)
	}
	copy(b[144:176], d.ELFSHA256[:])
	binary.LittleEndian.PutUint16(b[176:], d.MinEfuseBlkRev)
	binary.LittleEndian.PutUint16(b[178:], d.MaxEfuseBlkRev)
	b[180] = d.MMUPageSize
	return b, nil
}

// BootloaderDesc is ESP-IDF's esp_bootloader_desc_t (v5.2 and later), the
// first 80 bytes of a bootloader's first DRAM segment.
type BootloaderDesc struct {
	Version    uint32 // CONFIG_BOOTLOADER_PROJECT_VER
	IDFVersion string
	DateTime   string // "Jan  2 2006 15:04:05"
}

// ParseBootloaderDesc decodes an esp_bootloader_desc_t from the first 80
// bytes of b.
func ParseBootloaderDesc(b []byte) (*BootloaderDesc, error) {
	if len(b) < BootloaderDescSize {
		return nil, fmt.Errorf("%w: bootloader descriptor needs %d bytes, have %d", ErrNoDescriptor, BootloaderDescSize, len(b))
	}
	if b[0] != BootloaderDescMagic {
		return nil, fmt.Errorf("%w: bootloader descriptor magic 0x%02X, want 0x%02X", ErrNoDescriptor, b[0], BootloaderDescMagic)
	}
	return &BootloaderDesc{
		Version:    binary.LittleEndian.Uint32(b[4:]),
		IDFVersion: cString(b[8:40]),
		DateTime:   cString(b[40:64]),
	}, nil
}

// MarshalBinary encodes the descriptor as its 80 bytes.
func (d *BootloaderDesc) MarshalBinary() ([]byte, error) {
	b := make([]byte, BootloaderDescSize)
	b[0] = BootloaderDescMagic
	binary.LittleEndian.PutUint32(b[4:], d.Version)
	if len(d.IDFVersion) >= 32 {
		return nil, fmt.Errorf("bootloader descriptor IDF version %q is longer than 31 bytes", d.IDFVersion)
	}
	if len(d.DateTime) >= 24 {
		return nil, fmt.Errorf("bootloader descriptor date/time %q is longer than 23 bytes", d.DateTime)
	}
	copy(b[8:40], d.IDFVersion)
	copy(b[40:64], d.DateTime)
	return b, nil
}

// cString returns the bytes before the first NUL, as C reads a char array.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
