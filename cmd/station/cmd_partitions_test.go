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

func TestPartitionsCommand(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "p.csv")
	os.WriteFile(csv, []byte(firmware.DefaultPartitionTable().CSV()), 0o644)
	bin := filepath.Join(dir, "p.bin")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"partitions", "--to-bin", csv, bin}, &out, &errb); code != 0 {
		t.Fatalf("to-bin: exit %d: %s", code, errb.String())
	}
	want, _ := firmware.DefaultPartitionTable().MarshalBinary()
	if got, _ := os.ReadFile(bin); !bytes.Equal(got, want) {
		t.Error("binary differs from MarshalBinary")
	}
	if code := run(context.Background(), []string{"partitions", bin}, &out, &errb); code != 0 || out.String() != firmware.DefaultPartitionTable().CSV() {
		t.Errorf("to CSV: exit %d:\n%s", code, out.String())
	}
	old := filepath.Join(dir, "old.bin")
	os.WriteFile(old, want[:5*32], 0o644) // entries only: no MD5 row, no end marker
	errb.Reset()
	if code := run(context.Background(), []string{"partitions", old}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no end-of-table marker") {
		t.Errorf("old table strict: exit %d %q", code, errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"partitions", "-lenient", old}, &out, &errb); code != 0 || !strings.Contains(out.String(), "fctry,data,nvs,0x10000,24K,") {
		t.Errorf("old table lenient: exit %d %q", code, out.String())
	}
}

// TestPartitionsUnreadableInput: a file that is neither table format gets
// a short message naming it, not its contents echoed back.
func TestPartitionsUnreadableInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"binary", write("flash.bin", append([]byte{0xE9, 0x03, 0x02, 0x20}, make([]byte, 4096)...)),
			[]string{"flash.bin", "neither a binary partition table", "NUL byte at offset 4"}},
		{"one long line", write("text.txt", bytes.Repeat([]byte("Z"), 12<<10)),
			[]string{"text.txt", `name "ZZZZZZZZZZZZZZZZZZZZZZZZ"...`, "12288 bytes, at most 16 fit"}},
		{"unknown subtype", write("p.csv", []byte("nvs,data,"+strings.Repeat("q", 100)+",0x9000,0x6000\n")),
			[]string{"p.csv", "line 1", `value "qqqqqqqqqqqqqqqqqqqqqqqq"... is not valid`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCmd(t, "partitions", tc.path)
			if code != 1 {
				t.Fatalf("exit %d, want 1: %s", code, stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if len(stderr) > 400 {
				t.Errorf("message of %d bytes:\n%s", len(stderr), stderr)
			}
		})
	}
}
