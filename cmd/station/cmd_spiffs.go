package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"fleetline/firmware/spiffs"
)

func init() {
	register(&command{
		name:    "spiffs",
		summary: "generate a SPIFFS image from a directory (as spiffsgen.py), or list one",
		run:     runSPIFFS,
	})
}

const spiffsUsage = `usage:
  station spiffs generate DIR OUTPUT.bin --size N [spiffsgen options]
  station spiffs list FILE [spiffsgen options]
options (as spiffsgen.py; they must match the firmware's CONFIG_SPIFFS_*):
  --page-size 256 --block-size 4096 --obj-name-len 32 --meta-len 4
  --no-magic --no-magic-len --big-endian --aligned-obj-ix-tables --follow-symlinks`

func runSPIFFS(_ context.Context, args []string, stdout, stderr io.Writer) error {
	return runSubcommand("spiffs", spiffsUsage, args, stdout, stderr, map[string]subcommand{
		"generate": runSPIFFSGenerate,
		"list":     runSPIFFSList,
	})
}

// spiffsConfigFlags registers spiffsgen's options and returns a function
// that yields the resulting configuration.
func spiffsConfigFlags(fs *flag.FlagSet) func() spiffs.Config {
	d := spiffs.DefaultConfig()
	page := fs.Int("page-size", d.PageSize, "logical page size (CONFIG_SPIFFS_PAGE_SIZE)")
	block := fs.Int("block-size", d.BlockSize, "logical block size (the flash sector size)")
	nameLen := fs.Int("obj-name-len", d.ObjNameLen, "object name length, NUL included (CONFIG_SPIFFS_OBJ_NAME_LEN)")
	metaLen := fs.Int("meta-len", d.MetaLen, "metadata length (CONFIG_SPIFFS_META_LENGTH)")
	useMagic := fs.Bool("use-magic", true, "write the block magic (CONFIG_SPIFFS_USE_MAGIC)")
	noMagic := fs.Bool("no-magic", false, "do not write the block magic")
	useMagicLen := fs.Bool("use-magic-len", true, "vary the magic by block position (CONFIG_SPIFFS_USE_MAGIC_LENGTH)")
	noMagicLen := fs.Bool("no-magic-len", false, "do not vary the magic by block position")
	bigEndian := fs.Bool("big-endian", false, "big-endian target")
	aligned := fs.Bool("aligned-obj-ix-tables", false, "aligned object index tables (SPIFFS_ALIGNED_OBJECT_INDEX_TABLES)")
	return func() spiffs.Config {
		return spiffs.Config{
			PageSize: *page, BlockSize: *block, ObjNameLen: *nameLen, MetaLen: *metaLen,
			UseMagic: *useMagic && !*noMagic, UseMagicLen: *useMagicLen && !*noMagicLen,
			BigEndian: *bigEndian, AlignedObjIxTables: *aligned,
		}
	}
}

func runSPIFFSGenerate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("spiffs generate", stderr)
	size := fs.String("size", "", "image size in bytes, a multiple of the block size (e.g. 0x10000)")
	follow := fs.Bool("follow-symlinks", false, "descend into symbolically linked directories")
	cfg := spiffsConfigFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *size == "" {
		return usagef("spiffs generate: want DIR OUTPUT.bin and --size\n%s", spiffsUsage)
	}
	n, err := parseImageSize("spiffs generate", *size, "0x10000")
	if err != nil {
		return err
	}
	files, err := spiffs.ReadDir(pos[0], *follow)
	if err != nil {
		return err
	}
	img, err := spiffs.Build(files, n, cfg())
	if errors.Is(err, spiffs.ErrFull) || errors.Is(err, spiffs.ErrSize) {
		return fmt.Errorf("spiffs generate %s: --size %s: %w", pos[0], *size, err)
	}
	if err != nil {
		return fmt.Errorf("spiffs generate %s: %w", pos[0], err)
	}
	if err := os.WriteFile(pos[1], img, 0o644); err != nil {
		return fmt.Errorf("spiffs generate: write image: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes, %d files\n", pos[1], len(img), len(files))
	return nil
}

func runSPIFFSList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("spiffs list", stderr)
	cfg := spiffsConfigFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("spiffs list: want one FILE\n%s", spiffsUsage)
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("spiffs list: %w", err)
	}
	defer f.Close()
	img, err := spiffs.Read(f, cfg())
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("spiffs list %s: %w", pos[0], err)}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tSHA256")
	for _, e := range img.Files {
		sum := "-"
		if e.Data != nil {
			s := sha256.Sum256(e.Data)
			sum = hex.EncodeToString(s[:8])
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", e.Name, e.Size, sum)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(img.Problems) > 0 {
		fmt.Fprintf(stdout, "\nproblems: %d\n", len(img.Problems))
		for _, p := range img.Problems {
			fmt.Fprintf(stdout, "  %v\n", p)
		}
		return &exitError{code: 1, err: fmt.Errorf("spiffs list %s: %d problems found", pos[0], len(img.Problems))}
	}
	return nil
}
