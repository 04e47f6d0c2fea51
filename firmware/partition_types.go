package firmware

import (
	"fmt"
	"strconv"
	"strings"
)

// App subtypes.
const (
	SubtypeFactory uint8 = 0x00
	SubtypeOTA0    uint8 = 0x10 // ota_0 .. ota_15 are 0x10 .. 0x1F
	SubtypeTest    uint8 = 0x20
	SubtypeTEE0    uint8 = 0x30
	SubtypeTEE1    uint8 = 0x31
)

// Data subtypes.
const (
	SubtypeOTAData   uint8 = 0x00
	SubtypePHY       uint8 = 0x01
	SubtypeNVS       uint8 = 0x02
	SubtypeCoreDump  uint8 = 0x03
	SubtypeNVSKeys   uint8 = 0x04
	SubtypeEfuse     uint8 = 0x05
	SubtypeUndefined uint8 = 0x06
	SubtypeESPHTTPD  uint8 = 0x80
	SubtypeFAT       uint8 = 0x81
	SubtypeSPIFFS    uint8 = 0x82
	SubtypeLittleFS  uint8 = 0x83
	SubtypeTEEOTA    uint8 = 0x90
)

// Bootloader and partition-table subtypes.
const (
	SubtypePrimary  uint8 = 0x00
	SubtypeOTA      uint8 = 0x01
	SubtypeRecovery uint8 = 0x02 // bootloader only
)

type keyword struct {
	name string
	val  uint8
}

var typeNames = []keyword{{"app", 0x00}, {"data", 0x01}, {"bootloader", 0x02}, {"partition_table", 0x03}}

var subtypeNames = map[PartitionType][]keyword{
	TypeApp: appSubtypeNames(),
	TypeData: {{"ota", 0x00}, {"phy", 0x01}, {"nvs", 0x02}, {"coredump", 0x03}, {"nvs_keys", 0x04},
		{"efuse", 0x05}, {"undefined", 0x06}, {"esphttpd", 0x80}, {"fat", 0x81}, {"spiffs", 0x82},
		{"littlefs", 0x83}, {"tee_ota", 0x90}},
	TypeBootloader:     {{"primary", 0x00}, {"ota", 0x01}, {"recovery", 0x02}},
	TypePartitionTable: {{"primary", 0x00}, {"ota", 0x01}},
}

func appSubtypeNames() []keyword {
	k := []keyword{{"factory", 0x00}, {"test", 0x20}}
	for i := 0; i < 16; i++ {
		k = append(k, keyword{fmt.Sprintf("ota_%d", i), SubtypeOTA0 + uint8(i)})
	}
	return append(k, keyword{"tee_0", SubtypeTEE0}, keyword{"tee_1", SubtypeTEE1})
}

// String returns the CSV name ("app") or the decimal number for a custom
// type, as gen_esp32part writes it.
func (t PartitionType) String() string {
	for _, k := range typeNames {
		if k.val == uint8(t) {
			return k.name
		}
	}
	return strconv.Itoa(int(t))
}

// SubtypeName returns the CSV name of a subtype ("nvs", "ota_0") or its
// decimal number when the type has no name for it.
func SubtypeName(t PartitionType, st uint8) string {
	for _, k := range subtypeNames[t] {
		if k.val == st {
			return k.name
		}
	}
	return strconv.Itoa(int(st))
}

// ParsePartitionType parses a type name or number ("data", "0x40").
func ParsePartitionType(s string) (PartitionType, error) {
	v, err := parseIntOrKeyword(s, typeNames)
	if err != nil {
		return 0, err
	}
	if v > 0xFE {
		return 0, fmt.Errorf("type %s is out of range 0x00-0xFE", s)
	}
	return PartitionType(v), nil
}

// ParseSubtype parses a subtype name or number for the type ("nvs", "0x99").
func ParseSubtype(t PartitionType, s string) (uint8, error) {
	v, err := parseIntOrKeyword(s, subtypeNames[t])
	if err != nil {
		return 0, err
	}
	if v > 0xFE {
		return 0, fmt.Errorf("subtype %s is out of range 0x00-0xFE", s)
	}
	return uint8(v), nil
}

// parseIntOrKeyword follows gen_esp32part's parse_int: a number (any Go/
// Python base prefix) with an optional K or M suffix, else a keyword.
func parseIntOrKeyword(s string, kw []keyword) (uint64, error) {
	if v, err := parseSize(s); err == nil {
		return v, nil
	}
	if len(kw) == 0 {
		return 0, fmt.Errorf("invalid field value %s (want a number)", quoteShort(s))
	}
	names := make([]string, len(kw))
	for i, k := range kw {
		if strings.EqualFold(k.name, s) {
			return uint64(k.val), nil
		}
		names[i] = k.name
	}
	return 0, fmt.Errorf("value %s is not valid, known keywords: %s", quoteShort(s), strings.Join(names, ", "))
}

// parseSize parses "0x9000", "24K", "1M", "4096".
func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1024, s[:len(s)-1]
	case strings.HasSuffix(s, "m"), strings.HasSuffix(s, "M"):
		mult, s = 1024*1024, s[:len(s)-1]
	}
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, err
	}
	if v*mult > 0xFFFFFFFF {
		return 0, fmt.Errorf("%s is larger than 4 GiB", s)
	}
	return v * mult, nil
}

// formatSize writes a size as gen_esp32part does: M or K when exact, hex
// otherwise.
func formatSize(n uint32) string {
	switch {
	case n%0x100000 == 0:
		return fmt.Sprintf("%dM", n/0x100000)
	case n%0x400 == 0:
		return fmt.Sprintf("%dK", n/0x400)
	}
	return fmt.Sprintf("0x%x", n)
}

// offsetAlign is the alignment a partition's offset needs: 64 KiB for apps
// (the MMU maps them in 64 KiB pages), one 4 KiB sector for everything else.
func offsetAlign(t PartitionType) uint32 {
	if t == TypeApp {
		return 0x10000
	}
	return 0x1000
}
