package firmware

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrFlasherArgs is wrapped by every failure to read flasher_args.json.
var ErrFlasherArgs = errors.New("bad flasher_args.json")

// FlasherArgs is ESP-IDF's build/flasher_args.json: what "idf.py flash"
// hands to esptool.
type FlasherArgs struct {
	WriteFlashArgs []string          // e.g. --flash_mode dio --flash_size 4MB --flash_freq 80m
	FlashSettings  FlashSettings     // flash_settings
	FlashFiles     map[uint32]string // flash_files: offset → path relative to the build dir
	Extra          ExtraEsptoolArgs  // extra_esptool_args
	// Artifacts are the per-artifact objects ("bootloader", "app",
	// "partition-table", "otadata", custom images) keyed by name.
	Artifacts map[string]Artifact
}

// FlashSettings are esptool's --flash_mode/--flash_size/--flash_freq
// values as strings; "keep" (and "detect" for the size) leave the image's.
type FlashSettings struct {
	FlashMode string `json:"flash_mode"`
	FlashSize string `json:"flash_size"`
	FlashFreq string `json:"flash_freq"`
}

// ExtraEsptoolArgs is flasher_args.json's extra_esptool_args.
type ExtraEsptoolArgs struct {
	After  string `json:"after"`
	Before string `json:"before"`
	Stub   bool   `json:"stub"`
	Chip   string `json:"chip"`
}

// Artifact is one per-artifact object of flasher_args.json.
type Artifact struct {
	Offset    uint32
	File      string
	Encrypted bool // "encrypted": "true" (a string in the file)
}

// ParseFlasherArgs decodes a flasher_args.json. Offsets may be hex ("0x1000")
// or decimal; "encrypted" is accepted as the string ESP-IDF writes or a
// JSON boolean.
func ParseFlasherArgs(data []byte) (*FlasherArgs, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFlasherArgs, err)
	}
	fa := &FlasherArgs{FlashFiles: map[uint32]string{}, Artifacts: map[string]Artifact{}}
	if v, ok := raw["write_flash_args"]; ok {
		if err := json.Unmarshal(v, &fa.WriteFlashArgs); err != nil {
			return nil, fmt.Errorf("%w: write_flash_args: %v", ErrFlasherArgs, err)
		}
	}
	if v, ok := raw["flash_settings"]; ok {
		if err := json.Unmarshal(v, &fa.FlashSettings); err != nil {
			return nil, fmt.Errorf("%w: flash_settings: %v", ErrFlasherArgs, err)
		}
	}
	if v, ok := raw["extra_esptool_args"]; ok {
		if err := json.Unmarshal(v, &fa.Extra); err != nil {
			return nil, fmt.Errorf("%w: extra_esptool_args: %v", ErrFlasherArgs, err)
		}
	}
	files, ok := raw["flash_files"]
	if !ok {
		return nil, fmt.Errorf("%w: no flash_files object (is this an ESP-IDF build directory?)", ErrFlasherArgs)
	}
	var ff map[string]string
	if err := json.Unmarshal(files, &ff); err != nil {
		return nil, fmt.Errorf("%w: flash_files: %v", ErrFlasherArgs, err)
	}
	for k, path := range ff {
		off, err := parseOffset(k)
		if err != nil {
			return nil, fmt.Errorf("%w: flash_files key %q: %v", ErrFlasherArgs, k, err)
		}
		if prev, dup := fa.FlashFiles[off]; dup {
			return nil, fmt.Errorf("%w: flash_files names offset 0x%x twice (%s, %s)", ErrFlasherArgs, off, prev, path)
		}
		fa.FlashFiles[off] = path
	}
	for name, v := range raw {
		switch name {
		case "write_flash_args", "flash_settings", "extra_esptool_args", "flash_files":
			continue
		}
		var a struct {
			Offset    string          `json:"offset"`
			File      string          `json:"file"`
			Encrypted json.RawMessage `json:"encrypted"`
		}
		if json.Unmarshal(v, &a) != nil || a.File == "" || a.Offset == "" {
			continue // not an artifact object
		}
		off, err := parseOffset(a.Offset)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.offset %q: %v", ErrFlasherArgs, name, a.Offset, err)
		}
		enc := strings.Trim(strings.TrimSpace(string(a.Encrypted)), `"`)
		fa.Artifacts[name] = Artifact{Offset: off, File: a.File, Encrypted: strings.EqualFold(enc, "true")}
	}
	return fa, nil
}

// artifactName finds the artifact object describing the file at offset.
func (fa *FlasherArgs) artifactName(off uint32, path string) (string, Artifact, bool) {
	names := make([]string, 0, len(fa.Artifacts))
	for n := range fa.Artifacts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if a := fa.Artifacts[n]; a.Offset == off && a.File == path {
			return n, a, true
		}
	}
	return "", Artifact{}, false
}

// parseOffset reads "0x1000", "4096" or "64K".
func parseOffset(s string) (uint32, error) {
	v, err := parseSize(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("not an offset: %v", err)
	}
	return uint32(v), nil
}
