package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"fleetline/firmware"
)

func init() {
	register(&command{
		name:    "image-info",
		summary: "show an app or bootloader image's headers, segments, checksum, hash and descriptor",
		run:     runImageInfo,
	})
}

// runImageInfo prints an image as esptool's "image_info --version 2" does.
// It exits 1 when the checksum or appended hash is wrong, so scripts can
// gate on it.
func runImageInfo(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("image-info", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: station image-info FILE")
		fmt.Fprintln(stderr, "Prints the image header, extended header, segments, checksum and SHA-256 validity,")
		fmt.Fprintln(stderr, "and the app or bootloader descriptor, in esptool image_info v2 layout.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("image-info: want exactly one FILE, got %d arguments", fs.NArg())
	}
	path := fs.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("image-info: %w", err)
	}
	img, err := firmware.ParseImage(data)
	if err != nil {
		return fmt.Errorf("image-info %s: %w", path, err)
	}
	if err := firmware.WriteImageInfo(stdout, img, len(data)); err != nil {
		return err
	}
	if err := img.Verify(); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("image-info %s: %w", path, err)}
	}
	return nil
}
