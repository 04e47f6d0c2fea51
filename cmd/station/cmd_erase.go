package main

import (
	"context"
	"fmt"
	"io"
)

func init() {
	register(&command{name: "erase-region", summary: "erase SIZE bytes of a board's flash at OFFSET (4 KiB multiples)", run: runEraseRegion})
}

func runEraseRegion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("erase-region", stderr)
	bf := addBoardFlags(fs, false)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("usage: station erase-region --port P OFFSET SIZE")
	}
	off, size, err := parseRegionArgs(fs.Arg(0), fs.Arg(1))
	if err != nil {
		return err
	}
	if off%0x1000 != 0 || size%0x1000 != 0 || size == 0 {
		return usagef("offset 0x%x and size 0x%x must be non-zero multiples of 4 KiB (0x1000)", off, size)
	}
	s, err := bf.connect(ctx, stderr, nil)
	if err != nil {
		return err
	}
	if err := s.c.EraseRegion(ctx, off, size); err != nil {
		s.c.Close()
		return &exitError{code: 1, err: err}
	}
	fmt.Fprintf(stdout, "Erased 0x%x bytes at 0x%x\n", size, off)
	return bf.finish(ctx, s, stderr)
}
