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
