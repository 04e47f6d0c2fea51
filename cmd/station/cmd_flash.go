package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"fleetline/firmware"
	"fleetline/flasher"
)

func init() {
	register(&command{name: "flash", summary: "write OFFSET FILE pairs to a board's flash (compressed, verified)", run: runFlash})
}

func runFlash(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("flash", stderr)
	bf := addBoardFlags(fs, true)
	noCompress := fs.Bool("no-compress", false, "send plain FLASH_DATA blocks instead of zlib-compressed ones")
	noVerify := fs.Bool("no-verify", false, "skip the SPI_FLASH_MD5 check after each region")
	force := fs.Bool("force", false, "write images built for another chip or revision, and regions the flash already holds")
	blockSize := fs.String("block-size", "auto", "data block size: auto (0x1000, falling back to 0x400 if the ROM refuses it), 0x400 (esptool's), 0x800 or 0x1000")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: station flash --port P [flags] OFFSET FILE [OFFSET FILE ...]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 || len(rest)%2 != 0 {
		return usagef("flash needs OFFSET FILE pairs, e.g. 0x1000 bootloader.bin 0x10000 app.bin")
	}
	var regions []flasher.Region
	for i := 0; i < len(rest); i += 2 {
		off, err := parseNum(rest[i])
		if err != nil {
			return usagef("offset %d: %v", i/2+1, err)
		}
		data, err := os.ReadFile(rest[i+1])
		if err != nil {
			return &exitError{code: 1, err: fmt.Errorf("read image: %w", err)}
		}
		regions = append(regions, flasher.Region{Name: rest[i+1], Offset: off, Data: data})
	}
	var bs uint32
	if *blockSize != "auto" {
		n, err := parseNum(*blockSize)
		if err != nil {
			return usagef("--block-size: %v", err)
		}
		bs = n
	}
	opt := flasher.WriteOptions{Compress: !*noCompress, Verify: !*noVerify, SkipUnchanged: !*force, BlockSize: bs}
	plan, err := flasher.PrepareWrite(regions, opt)
	if err != nil {
		return usagef("%v", err)
	}
	bar := newProgressBar(stderr)
	s, err := bf.connect(ctx, stderr, bar.update)
	if err != nil {
		return err
	}
	if !*force {
		if err := checkImages(regions, s.info); err != nil {
			s.c.Close()
			return &exitError{code: 1, err: err}
		}
	}
	t0 := time.Now()
	reports, err := s.c.WritePlan(ctx, plan)
	bar.done()
	elapsed := time.Since(t0)
	raw, wire := 0, 0
	for i, r := range reports {
		state := "written"
		switch {
		case err != nil && i == len(reports)-1:
			state = "FAILED"
		case r.Skipped:
			state = "unchanged, skipped"
		case r.Verified:
			state = "written, verified"
		}
		fmt.Fprintf(stdout, "0x%08x %-28s %8d bytes  %s\n", r.Offset, r.Name, r.Raw, state)
		if !r.Skipped {
			raw += r.Raw
			wire += r.Wire
		}
	}
	if err != nil {
		s.c.Close()
		return &exitError{code: 1, err: err}
	}
	secs := elapsed.Seconds()
	kbps := 0.0
	if secs > 0 {
		kbps = float64(raw) * 8 / secs / 1000
	}
	fmt.Fprintf(stdout, "Wrote %d bytes (%d on the wire) in %.1f s (%.1f kbit/s effective)\n", raw, wire, secs, kbps)
	return bf.finish(ctx, s, stderr)
}

// checkImages refuses app and bootloader images (magic 0xE9) built for
// another chip or outside their revision range, as esptool does unless
// --force.
func checkImages(regions []flasher.Region, info *flasher.ChipInfo) error {
	for _, r := range regions {
		if len(r.Data) < 24 || r.Data[0] != 0xE9 {
			continue
		}
		img, err := firmware.ParseImage(r.Data)
		if err != nil {
			continue // not an image after all: data is data
		}
		if uint32(img.Extended.ChipID) != info.ID {
			return fmt.Errorf("%s at 0x%x is built for chip_id %d, but the board is %s (chip_id %d); use --force to write it anyway",
				r.Name, r.Offset, img.Extended.ChipID, info.Name, info.ID)
		}
		if ok, why := img.SupportsRevision(info.Revision); !ok {
			return fmt.Errorf("%s at 0x%x does not run on %s: %s; use --force to write it anyway", r.Name, r.Offset, info.Description, why)
		}
	}
	return nil
}
