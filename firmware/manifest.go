package firmware

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// ErrManifest is wrapped by every failure to read a fleetline manifest.
var ErrManifest = errors.New("bad bundle manifest")

// Manifest is fleetline's bundle manifest: the files a batch flashes, each
// with the SHA-256 it was signed off with. It is read from TOML:
//
//	chip = "esp32s3"
//	flash_mode = "dio"
//	flash_size = "4MB"
//	flash_freq = "80m"
//
//	[[files]]
//	name = "bootloader"
//	offset = 0x0
//	path = "bootloader/bootloader.bin"
//	sha256 = "9f2c…"
//
// or the same keys in JSON ("files": [{"offset": "0x10000", ...}]). Offsets
// may be numbers or strings ("0x10000", "64K"); paths are relative to the
// manifest's directory.
type Manifest struct {
	Chip      string         `toml:"chip" json:"chip"`
	FlashMode string         `toml:"flash_mode" json:"flash_mode"`
	FlashSize string         `toml:"flash_size" json:"flash_size"`
	FlashFreq string         `toml:"flash_freq" json:"flash_freq"`
	Files     []ManifestFile `toml:"files" json:"files"`
}

// ManifestFile is one [[files]] entry.
type ManifestFile struct {
	Name      string         `toml:"name" json:"name,omitempty"`
	Offset    ManifestOffset `toml:"offset" json:"offset"`
	Path      string         `toml:"path" json:"path"`
	SHA256    string         `toml:"sha256" json:"sha256,omitempty"`
	Encrypted bool           `toml:"encrypted" json:"encrypted,omitempty"`
}

// ManifestOffset is a flash offset written as a number or a string.
type ManifestOffset uint32

// UnmarshalJSON accepts 4096, "4096", "0x1000" or "4K".
func (o *ManifestOffset) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	v, err := parseOffset(s)
	if err != nil {
		return err
	}
	*o = ManifestOffset(v)
	return nil
}

// MarshalJSON writes the offset as a hex string.
func (o ManifestOffset) MarshalJSON() ([]byte, error) {
	return json.Marshal(fmt.Sprintf("0x%x", uint32(o)))
}

// UnmarshalTOML accepts a TOML integer (0x1000 is valid TOML) or a string.
func (o *ManifestOffset) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		if x < 0 || x > 0xFFFFFFFF {
			return fmt.Errorf("offset %d is out of range", x)
		}
		*o = ManifestOffset(x)
	case string:
		u, err := parseOffset(x)
		if err != nil {
			return err
		}
		*o = ManifestOffset(u)
	default:
		return fmt.Errorf("offset must be an integer or a string, not %T", v)
	}
	return nil
}

// ParseManifest decodes a manifest; format is "toml" or "json" ("" sniffs:
// a leading '{' means JSON).
func ParseManifest(data []byte, format string) (*Manifest, error) {
	if format == "" {
		format = "toml"
		if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
			format = "json"
		}
	}
	var m Manifest
	switch format {
	case "json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrManifest, err)
		}
	case "toml":
		md, err := toml.Decode(string(data), &m)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrManifest, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return nil, fmt.Errorf("%w: unknown key %q", ErrManifest, und[0].String())
		}
	default:
		return nil, fmt.Errorf("%w: unknown format %q (want toml or json)", ErrManifest, format)
	}
	if len(m.Files) == 0 {
		return nil, fmt.Errorf("%w: no [[files]] entries", ErrManifest)
	}
	for i, f := range m.Files {
		if f.Path == "" {
			return nil, fmt.Errorf("%w: files[%d] has no path", ErrManifest, i)
		}
		if f.SHA256 != "" {
			if h, err := hex.DecodeString(f.SHA256); err != nil || len(h) != 32 {
				return nil, fmt.Errorf("%w: files[%d] (%s): sha256 %q is not 64 hex digits", ErrManifest, i, f.Path, f.SHA256)
			}
		}
	}
	return &m, nil
}

// LoadManifest reads a manifest file (.json for JSON, anything else TOML)
// and the files it names.
func LoadManifest(path string) (*Bundle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load bundle manifest: %w", err)
	}
	format := "toml"
	if strings.EqualFold(filepath.Ext(path), ".json") {
		format = "json"
	}
	m, err := ParseManifest(data, format)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m.Bundle(filepath.Dir(path), path), nil
}

// Bundle loads the files the manifest names, relative to dir.
func (m *Manifest) Bundle(dir, source string) *Bundle {
	b := &Bundle{Chip: m.Chip, FlashMode: m.FlashMode, FlashSize: m.FlashSize, FlashFreq: m.FlashFreq, Source: source}
	for _, f := range m.Files {
		name := f.Name
		if name == "" {
			name = regionNameFor(uint32(f.Offset), f.Path)
		}
		b.Regions = append(b.Regions, Region{Name: name, Offset: uint32(f.Offset), Path: resolve(dir, f.Path),
			Encrypted: f.Encrypted, ExpectedSHA256: strings.ToLower(f.SHA256)})
	}
	b.load()
	return b
}

// Manifest returns a manifest that signs off the bundle as it is now: every
// region with its current SHA-256, paths relative to dir where possible.
func (b *Bundle) Manifest(dir string) *Manifest {
	m := &Manifest{Chip: b.Chip, FlashMode: b.FlashMode, FlashSize: b.FlashSize, FlashFreq: b.FlashFreq}
	for _, r := range b.Regions {
		p := r.Path
		if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
			p = filepath.ToSlash(rel)
		}
		m.Files = append(m.Files, ManifestFile{Name: r.Name, Offset: ManifestOffset(r.Offset), Path: p,
			SHA256: hex.EncodeToString(r.SHA256[:]), Encrypted: r.Encrypted})
	}
	return m
}

// TOML encodes the manifest as TOML.
func (m *Manifest) TOML() ([]byte, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}
