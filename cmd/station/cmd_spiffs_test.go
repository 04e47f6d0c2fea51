package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSPIFFSCommands(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "fs")
	cert := []byte(strings.Repeat("certificate bytes ", 40))
	for name, data := range map[string][]byte{"config.json": []byte(`{"ok":true}`), "certs/claim.crt": cert} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bigSrc := filepath.Join(dir, "big")
	if err := os.MkdirAll(bigSrc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bigSrc, "blob"), make([]byte, 9000), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "spiffs.bin")
	junk := filepath.Join(dir, "junk.bin")
	if err := os.WriteFile(junk, []byte(strings.Repeat("\x00", 0x10000)), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert)
	certSum := hex.EncodeToString(sum[:8])
	tests := []cmdCase{
		{name: "no subcommand", args: []string{"spiffs"}, code: 2, stderr: []string{"usage:"}},
		{name: "unknown subcommand", args: []string{"spiffs", "ls"}, code: 2, stderr: []string{`unknown subcommand "ls"`}},
		{name: "help", args: []string{"spiffs", "--help"}, code: 0, stdout: []string{"spiffs generate DIR"}},
		{name: "generate", args: []string{"spiffs", "generate", src, img, "--size", "0x10000"}, code: 0,
			stdout: []string{"wrote " + img + ": 65536 bytes, 2 files"}},
		{name: "list", args: []string{"spiffs", "list", img}, code: 0,
			stdout: []string{"NAME", "/config.json", "11", "/certs/claim.crt", "720", certSum}},
		{name: "list with other page size", args: []string{"spiffs", "list", img, "--page-size", "512"}, code: 1,
			stderr: []string{img}},
		{name: "list junk", args: []string{"spiffs", "list", junk}, code: 1, stderr: []string{junk}},
		{name: "list missing file", args: []string{"spiffs", "list", filepath.Join(dir, "nope.bin")}, code: 1, stderr: []string{"nope.bin"}},
		{name: "list two files", args: []string{"spiffs", "list", img, img}, code: 2, stderr: []string{"want one FILE"}},
		{name: "generate without size", args: []string{"spiffs", "generate", src, img}, code: 2, stderr: []string{"--size"}},
		{name: "generate bad size", args: []string{"spiffs", "generate", src, img, "--size", "-4"}, code: 2, stderr: []string{`--size "-4"`}},
		{name: "generate too small", args: []string{"spiffs", "generate", bigSrc, img + ".small", "--size", "0x2000"}, code: 1,
			stderr: []string{"spiffs generate " + bigSrc, "--size 0x2000", "the image size has been exceeded", "give a larger size"}},
		{name: "generate partial block", args: []string{"spiffs", "generate", src, img + ".odd", "--size", "0x1800"}, code: 1, stderr: []string{"multiple of block size 4096"}},
		{name: "generate missing dir", args: []string{"spiffs", "generate", filepath.Join(dir, "none"), img, "--size", "0x10000"}, code: 1, stderr: []string{"none"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t)
		})
	}
}
