package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testClaimKey returns a fresh EC private key in PEM, as a claim key file
// holds it, so no key is ever committed.
func testClaimKey(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// pemBody is the base64 body of a PEM block on one line: the key without
// its armour, as some firmware stores it.
func pemBody(key []byte) string {
	lines := strings.Split(strings.TrimSpace(string(key)), "\n")
	return strings.Join(lines[1:len(lines)-1], "")
}

// keyLeaks reports which piece of the PEM key, if any, appears in out: the
// armour, or any 16-byte run of its base64 body.
func keyLeaks(key []byte, out string) string {
	if strings.Contains(out, "PRIVATE KEY") {
		return "PEM armour"
	}
	body := pemBody(key)
	for i := 0; i+16 <= len(body); i += 8 {
		if strings.Contains(out, body[i:i+16]) {
			return "key body " + body[i:i+16]
		}
	}
	return ""
}

// nvsFixture writes a factory-style CSV with a claim key file next to it.
func nvsFixture(t *testing.T) (dir, csvPath string, key []byte) {
	t.Helper()
	dir = t.TempDir()
	key = testClaimKey(t)
	if err := os.WriteFile(filepath.Join(dir, "claim-key.pem"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	csv := "key,type,encoding,value\n" +
		"fctry,namespace,,\n" +
		"serial_no,data,string,FL-000123\n" +
		"claim_key,file,binary,claim-key.pem\n" +
		"key_body,data,string," + pemBody(key) + "\n" +
		"boot_count,data,u32,7\n"
	csvPath = filepath.Join(dir, "factory.csv")
	if err := os.WriteFile(csvPath, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, csvPath, key
}

func TestNVSCommands(t *testing.T) {
	dir, csvPath, key := nvsFixture(t)
	img := filepath.Join(dir, "nvs.bin")
	enc := filepath.Join(dir, "nvs-enc.bin")
	keys := filepath.Join(dir, "nvs_keys.bin")
	junk := filepath.Join(dir, "junk.bin")
	if err := os.WriteFile(junk, bytes.Repeat([]byte{0x5A}, 0x3000), 0o644); err != nil {
		t.Fatal(err)
	}
	badCSV := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(badCSV, []byte("key,type,encoding,value\nfctry,namespace,,\nn,data,u8,300\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keyAsInt := filepath.Join(dir, "keyint.csv")
	if err := os.WriteFile(keyAsInt, []byte("key,type,encoding,value\nclaim_key,file,u32,claim-key.pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []cmdCase{
		{name: "no subcommand", args: []string{"nvs"}, code: 2, stderr: []string{"usage:"}},
		{name: "unknown subcommand", args: []string{"nvs", "frob"}, code: 2, stderr: []string{`unknown subcommand "frob"`}},
		{name: "help", args: []string{"nvs", "help"}, code: 0, stdout: []string{"station nvs generate"}},
		{name: "generate", args: []string{"nvs", "generate", csvPath, img, "--size", "0x6000"}, code: 0,
			stdout: []string{"wrote " + img + ": 24576 bytes, NVS format version 2"}},
		{name: "dump", args: []string{"nvs", "dump", img}, code: 0,
			stdout: []string{"fctry", "serial_no", `"FL-000123"`, "boot_count", "7", "claim_key", "key_body", "<private key, ", "redacted>"}},
		{name: "dump json", args: []string{"nvs", "dump", "--json", img}, code: 0,
			stdout: []string{`"key": "claim_key"`, `"redacted": true`, `"value": "FL-000123"`}},
		{name: "flags after positionals", args: []string{"nvs", "generate", csvPath, img, "--size", "0x3000", "--version", "1"}, code: 0,
			stdout: []string{"NVS format version 1"}},
		{name: "generate encrypted", args: []string{"nvs", "generate", "--keygen", keys, csvPath, enc, "--size", "0x6000"}, code: 0,
			stdout: []string{"wrote " + enc}},
		{name: "dump encrypted with key", args: []string{"nvs", "dump", enc, "--key", keys}, code: 0,
			stdout: []string{`"FL-000123"`, "redacted>"}},
		{name: "dump encrypted without key", args: []string{"nvs", "dump", enc}, code: 1,
			stdout: []string{"pass its nvs_keys partition with --key"}, stderr: []string{"problems found"}, notOut: []string{"FL-000123"}},
		{name: "dump junk", args: []string{"nvs", "dump", junk}, code: 1, stderr: []string{junk}},
		{name: "dump missing file", args: []string{"nvs", "dump", filepath.Join(dir, "nope.bin")}, code: 1, stderr: []string{"nope.bin"}},
		{name: "dump two files", args: []string{"nvs", "dump", img, img}, code: 2, stderr: []string{"want one FILE"}},
		{name: "generate without size", args: []string{"nvs", "generate", csvPath, img}, code: 2, stderr: []string{"--size"}},
		{name: "generate bad size", args: []string{"nvs", "generate", csvPath, img, "--size", "lots"}, code: 2, stderr: []string{`--size "lots"`}},
		{name: "generate bad version", args: []string{"nvs", "generate", csvPath, img, "--size", "0x6000", "--version", "3"}, code: 2, stderr: []string{"--version 3: want 1 or 2"}},
		{name: "key and keygen", args: []string{"nvs", "generate", csvPath, img, "--size", "0x6000", "--key", keys, "--keygen", keys}, code: 2, stderr: []string{"exclude each other"}},
		{name: "missing key file", args: []string{"nvs", "dump", img, "--key", filepath.Join(dir, "nokeys.bin")}, code: 1, stderr: []string{"nokeys.bin"}},
		{name: "not a keys partition", args: []string{"nvs", "dump", enc, "--key", img}, code: 1,
			stderr: []string{"--key " + img, "bad NVS encryption key", "nvs_keys partition image"}},
		{name: "file row with an integer encoding", args: []string{"nvs", "generate", keyAsInt, img + ".int", "--size", "0x6000"}, code: 1,
			stderr: []string{"keyint.csv:2:", `key "claim_key"`, "<private key, ", "is not a decimal integer"}},
		{name: "csv value out of range", args: []string{"nvs", "generate", badCSV, img + ".bad", "--size", "0x6000"}, code: 1, stderr: []string{"bad.csv:3:", `key "n"`, "does not fit u8"}},
		{name: "missing csv", args: []string{"nvs", "generate", filepath.Join(dir, "none.csv"), img, "--size", "0x6000"}, code: 1, stderr: []string{"none.csv"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr := tc.check(t)
			if leak := keyLeaks(key, stdout+stderr); leak != "" {
				t.Fatalf("output shows the claim key (%s)", leak)
			}
		})
	}
}
