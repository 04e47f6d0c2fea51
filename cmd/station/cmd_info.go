package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

func init() {
	register(&command{name: "info", summary: "identify a board: chip, revision, MAC, flash, security", run: runInfo})
}

// infoJSON is the --json form of station info.
type infoJSON struct {
	Port        string   `json:"port"`
	Chip        string   `json:"chip"`
	ChipID      uint32   `json:"chip_id"`
	Description string   `json:"description"`
	Revision    int      `json:"revision"`
	CrystalMHz  int      `json:"crystal_mhz"`
	Features    []string `json:"features"`
	MAC         string   `json:"mac"`
	FlashID     string   `json:"flash_id"`
	FlashSize   uint32   `json:"flash_size"`
	USBMode     string   `json:"usb_mode,omitempty"`
	Stub        bool     `json:"stub"`
	BootMode    int      `json:"boot_mode"`
	Security    *secJSON `json:"security,omitempty"`
}

type secJSON struct {
	Flags          uint32 `json:"flags"`
	SecureBoot     bool   `json:"secure_boot"`
	SecureDownload bool   `json:"secure_download"`
	FlashCryptCnt  uint8  `json:"flash_crypt_cnt"`
	APIVersion     uint32 `json:"api_version"`
}

func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("info", stderr)
	bf := addBoardFlags(fs, false)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("info takes no arguments")
	}
	s, err := bf.connect(ctx, stderr, nil)
	if err != nil {
		return err
	}
	i := s.info
	out := infoJSON{
		Port: bf.port, Chip: i.Key, ChipID: i.ID, Description: i.Description, Revision: i.Revision,
		CrystalMHz: i.CrystalMHz, Features: i.Features, MAC: i.MACString(), FlashID: fmt.Sprintf("0x%06x", i.FlashID),
		FlashSize: i.FlashSize, USBMode: i.USBMode, Stub: i.Stub, BootMode: s.conn.BootMode,
	}
	if i.Security != nil {
		out.Security = &secJSON{Flags: i.Security.Flags, SecureBoot: i.Security.Flags&1 != 0,
			SecureDownload: i.Security.Flags&4 != 0, FlashCryptCnt: i.Security.FlashCryptCnt, APIVersion: i.Security.APIVersion}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "Chip:        %s (chip_id %d)\n", i.Description, i.ID)
		fmt.Fprintf(stdout, "Revision:    v%d.%d\n", i.Revision/100, i.Revision%100)
		fmt.Fprintf(stdout, "Features:    %s\n", strings.Join(i.Features, ", "))
		fmt.Fprintf(stdout, "Crystal:     %d MHz\n", i.CrystalMHz)
		fmt.Fprintf(stdout, "MAC:         %s\n", i.MACString())
		fmt.Fprintf(stdout, "Flash:       JEDEC 0x%06x (manufacturer 0x%02x, device 0x%04x), %s\n",
			i.FlashID, i.FlashID&0xFF, i.FlashID>>8&0xFFFF, sizeString(i.FlashSize))
		if i.Security != nil {
			sec := out.Security
			fmt.Fprintf(stdout, "Security:    flags 0x%08x, secure boot %v, secure download %v, flash crypt count %d\n",
				sec.Flags, sec.SecureBoot, sec.SecureDownload, sec.FlashCryptCnt)
		}
		if i.USBMode != "" {
			fmt.Fprintf(stdout, "USB mode:    %s\n", i.USBMode)
		}
	}
	return bf.finish(ctx, s, stderr)
}
