package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"fleetline/firmware/nvs"
)

func init() {
	register(&command{
		name:    "nvs",
		summary: "generate an NVS partition image from a CSV, or dump one",
		run:     runNVS,
	})
}

const nvsUsage = `usage:
  station nvs generate INPUT.csv OUTPUT.bin --size 0x6000 [--version 2] [--read-only]
                       [--key nvs_keys.bin | --keygen nvs_keys.bin]
  station nvs dump FILE [--json] [--key nvs_keys.bin]`

func runNVS(_ context.Context, args []string, stdout, stderr io.Writer) error {
	return runSubcommand("nvs", nvsUsage, args, stdout, stderr, map[string]subcommand{
		"generate": runNVSGenerate,
		"dump":     runNVSDump,
	})
}

func runNVSGenerate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("nvs generate", stderr)
	size := fs.String("size", "", "partition size in bytes, a multiple of 4096 (e.g. 0x6000)")
	version := fs.Int("version", 2, "NVS format version: 2 (multi-page blobs) or 1")
	readOnly := fs.Bool("read-only", false, "allow 0x1000 and 0x2000, for partitions flagged readonly")
	keyFile := fs.String("key", "", "encrypt with the key in this nvs_keys partition image")
	keygen := fs.String("keygen", "", "encrypt with a new random key, written here as an nvs_keys partition image")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *size == "" {
		return usagef("nvs generate: want INPUT.csv OUTPUT.bin and --size\n%s", nvsUsage)
	}
	n, err := parseImageSize("nvs generate", *size, "0x6000")
	if err != nil {
		return err
	}
	opt := nvs.BuildOptions{ReadOnly: *readOnly}
	switch *version {
	case 1:
		opt.Version = nvs.Version1
	case 2:
		opt.Version = nvs.Version2
	default:
		return usagef("nvs generate: --version %d: want 1 or 2", *version)
	}
	if *keyFile != "" && *keygen != "" {
		return usagef("nvs generate: --key and --keygen exclude each other")
	}
	if *keyFile != "" {
		k, err := nvsReadKey(*keyFile)
		if err != nil {
			return err
		}
		opt.Key = &k
	}
	if *keygen != "" {
		k, err := nvs.NewKey()
		if err != nil {
			return err
		}
		if err := os.WriteFile(*keygen, nvs.KeysPartition(k), 0o600); err != nil {
			return fmt.Errorf("nvs generate: write keys partition: %w", err)
		}
		opt.Key = &k
	}
	img, err := nvs.GenerateCSVFile(pos[0], n, opt)
	if err != nil {
		return err
	}
	if err := os.WriteFile(pos[1], img, 0o644); err != nil {
		return fmt.Errorf("nvs generate: write image: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes, NVS format version %d\n", pos[1], len(img), *version)
	return nil
}

func runNVSDump(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("nvs dump", stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	keyFile := fs.String("key", "", "decrypt with the key in this nvs_keys partition image")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("nvs dump: want one FILE\n%s", nvsUsage)
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("nvs dump: %w", err)
	}
	if *keyFile != "" {
		k, err := nvsReadKey(*keyFile)
		if err != nil {
			return err
		}
		if data, err = nvs.Decrypt(data, k); err != nil {
			return err
		}
	}
	p, err := nvs.Parse(data)
	if err != nil {
		if errors.Is(err, nvs.ErrCorrupt) {
			return &exitError{code: 1, err: fmt.Errorf("nvs dump %s: %w", pos[0], err)}
		}
		return err
	}
	d := nvs.MakeDump(p)
	if *asJSON {
		err = d.WriteJSON(stdout)
	} else {
		err = d.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if len(d.Problems) > 0 {
		if *keyFile == "" && len(d.Entries) == 0 {
			fmt.Fprintln(stdout, "\nno entry reads back: if the partition is encrypted, pass its nvs_keys partition with --key")
		}
		return &exitError{code: 1, err: fmt.Errorf("nvs dump %s: %d problems found", pos[0], len(d.Problems))}
	}
	return nil
}

func nvsReadKey(path string) (nvs.Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nvs.Key{}, fmt.Errorf("nvs: read --key: %w", err)
	}
	k, err := nvs.ParseKeysPartition(b)
	if err != nil {
		return nvs.Key{}, fmt.Errorf("nvs: --key %s: %w (pass the nvs_keys partition image that --keygen wrote or the board's nvs_keys partition read back)", path, err)
	}
	return k, nil
}
