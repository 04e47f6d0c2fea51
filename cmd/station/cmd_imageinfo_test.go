package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fleetline/firmware"
)

func TestImageInfoCommand(t *testing.T) {
	app, err := firmware.BuildApp(firmware.AppSpec{Chip: firmware.ChipESP32S3, Size: 64 << 10, Version: "4.5.6", ProjectName: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "app.bin")
	os.WriteFile(good, app, 0o644)
	bad := filepath.Join(dir, "bad.bin")
	app[0x100] ^= 1
	os.WriteFile(bad, app, 0o644)

	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"image-info", good}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"Detected image type: ESP32-S3", "Checksum: 0x", "(valid)", "App version: 4.5.6", "Project name: probe"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"image-info", bad}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "image checksum mismatch") {
		t.Errorf("corrupt image: exit %d, stderr %q", code, errb.String())
	}
	if code := run(context.Background(), []string{"image-info"}, &out, &errb); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
}
