package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

func init() {
	register(&command{name: "read-flash", summary: "copy SIZE bytes of a board's flash at OFFSET to FILE", run: runReadFlash})
}

// parseRegionArgs parses the OFFSET SIZE pair of read-flash and
// erase-region, numbers as esptool takes them.
func parseRegionArgs(offArg, sizeArg string) (off, size uint32, err error) {
	if off, err = parseNum(offArg); err != nil {
		return 0, 0, usagef("offset: %v", err)
	}
	if size, err = parseNum(sizeArg); err != nil {
		return 0, 0, usagef("size: %v", err)
	}
	return off, size, nil
}

func runReadFlash(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("read-flash", stderr)
	bf := addBoardFlags(fs, false)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 3 {
		return usagef("usage: station read-flash --port P OFFSET SIZE FILE")
	}
	off, size, err := parseRegionArgs(fs.Arg(0), fs.Arg(1))
	if err != nil {
		return err
	}
	if size == 0 {
		return usagef("size: must be more than 0")
	}
	bar := newProgressBar(stderr)
	s, err := bf.connect(ctx, stderr, bar.update)
	if err != nil {
		return err
	}
	if uint64(off)+uint64(size) > uint64(s.info.FlashSize) {
		s.c.Close()
		return &exitError{code: 1, err: fmt.Errorf("0x%x+0x%x runs past the end of the %s flash", off, size, sizeString(s.info.FlashSize))}
	}
	f, err := os.Create(fs.Arg(2))
	if err != nil {
		s.c.Close()
		return &exitError{code: 1, err: err}
	}
	w := bufio.NewWriter(f)
	t0 := time.Now()
	err = s.c.ReadFlash(ctx, off, size, w)
	bar.done()
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A cut-short dump must not pass for a whole one.
		os.Remove(fs.Arg(2))
		s.c.Close()
		return &exitError{code: 1, err: fmt.Errorf("read-flash 0x%x+0x%x into %s: %w (the partial file was removed)", off, size, fs.Arg(2), err)}
	}
	fmt.Fprintf(stdout, "Read %d bytes at 0x%x into %s in %.1f s\n", size, off, fs.Arg(2), time.Since(t0).Seconds())
	return bf.finish(ctx, s, stderr)
}
