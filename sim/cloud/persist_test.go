package cloud

import (
	"bytes"
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
