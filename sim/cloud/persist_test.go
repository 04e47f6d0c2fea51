package cloud

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDirKeepsCA(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	claim, _, err := a.CreateClaim("T", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.RootCAPEM(), b.RootCAPEM()) {
		t.Fatal("a second cloud on the same Dir made a new CA")
	}
	if err := b.RegisterClaim("T", claim); err != nil {
		t.Fatalf("re-registering the first run's claim: %v", err)
	}
	other, _ := New(Config{})
	foreign, _, _ := other.CreateClaim("T", time.Hour)
	if err := b.RegisterClaim("T", foreign); err == nil {
		t.Fatal("registered a claim from another CA")
	}
}

// TestDirDamagedCA: a CA in Dir that cannot be used is reported with its
// file and what to do, and never with the key's contents.
func TestDirDamagedCA(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, certPath, keyPath string)
		want   string
	}{
		{"key not PEM", func(t *testing.T, _, keyPath string) { os.WriteFile(keyPath, []byte("not pem"), 0o600) }, "is not PEM"},
		{"key of another CA", func(t *testing.T, _, keyPath string) {
			other := t.TempDir()
			if _, err := New(Config{Dir: other}); err != nil {
				t.Fatal(err)
			}
			k, err := os.ReadFile(filepath.Join(other, filepath.Base(keyPath)))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(keyPath, k, 0o600)
		}, "does not belong to"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := New(Config{Dir: dir}); err != nil {
				t.Fatal(err)
			}
			keys, _ := filepath.Glob(filepath.Join(dir, "*.key"))
			if len(keys) != 1 {
				t.Fatalf("CA key files in Dir: %v", keys)
			}
			tc.damage(t, filepath.Join(dir, RootCAFile), keys[0])
			_, err := New(Config{Dir: dir})
			if err == nil {
				t.Fatal("damaged CA accepted")
			}
			msg := err.Error()
			for _, want := range []string{tc.want, keys[0], "remove them to make a new CA"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, "PRIVATE KEY") {
				t.Fatalf("error shows key material: %s", msg)
			}
		})
	}
}
