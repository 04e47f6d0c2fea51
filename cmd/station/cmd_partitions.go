package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"fleetline/firmware"
)

func init() {
	register(&command{
		name:    "partitions",
		summary: "convert a partition table: binary to CSV, or CSV to binary with --to-bin",
		run:     runPartitions,
	})
}

// runPartitions converts partition tables in ESP-IDF's gen_esp32part
// formats. A binary input (first bytes AA 50) is printed as CSV; a CSV input
// is checked and printed back normalized, or written as binary with --to-bin.
func runPartitions(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("partitions", stderr)
	toBin := fs.Bool("to-bin", false, "read CSV and write the binary table to OUT")
	offset := fs.Uint("offset", firmware.PartitionTableOffset, "flash offset of the partition table (CSV input)")
	chipName := fs.String("chip", "", "chip (esp32, esp32s3, ...): needed only for a CSV with a bootloader entry")
	noMD5 := fs.Bool("disable-md5sum", false, "write no MD5 row (as gen_esp32part --disable-md5sum)")
	lenient := fs.Bool("lenient", false, "accept a binary table with no end-of-table marker (old 2016-era files)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: station partitions [flags] FILE            (binary or CSV → CSV on stdout)")
		fmt.Fprintln(stderr, "       station partitions --to-bin [flags] CSV OUT  (CSV → binary)")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	want := 1
	if *toBin {
		want = 2
	}
	if fs.NArg() != want {
		return usagef("partitions: want %d arguments, got %d (see station partitions -h)", want, fs.NArg())
	}
	in := fs.Arg(0)
	data, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("partitions: %w", err)
	}
	var table firmware.PartitionTable
	if bytes.HasPrefix(data, []byte{0xAA, 0x50}) {
		table, err = firmware.ParsePartitionTableWith(data, firmware.ParseOptions{AllowMissingEnd: *lenient})
	} else if i := bytes.IndexByte(data, 0); i >= 0 {
		return fmt.Errorf("partitions %s: neither a binary partition table (it would start with AA 50) nor CSV text (NUL byte at offset %d); for a flash dump, pass the 0xC00 bytes at the table's offset (0x8000 by default)", in, i)
	} else {
		opt := firmware.CSVOptions{TableOffset: uint32(*offset)}
		if *chipName != "" {
			chip, cerr := firmware.ChipByName(*chipName)
			if cerr != nil {
				return usagef("partitions: -chip: %v", cerr)
			}
			off, _ := chip.BootloaderOffset()
			opt.BootloaderOffset = &off
		}
		table, err = opt.Parse(bytes.NewReader(data))
	}
	if err != nil {
		return fmt.Errorf("partitions %s: %w", in, err)
	}
	if *noMD5 {
		table.NoMD5 = true
	}
	if !*toBin {
		_, err := io.WriteString(stdout, table.CSV())
		return err
	}
	bin, err := table.MarshalBinary()
	if err != nil {
		return fmt.Errorf("partitions %s: %w", in, err)
	}
	out := fs.Arg(1)
	if err := os.WriteFile(out, bin, 0o644); err != nil {
		return fmt.Errorf("partitions: %w", err)
	}
	fmt.Fprintf(stderr, "wrote %s: %d partitions, %d bytes\n", out, len(table.Partitions), len(bin))
	return nil
}
