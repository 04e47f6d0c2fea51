package nvs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func testKey() Key {
	var k Key
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

// TestEncryptedGolden: testdata/u8_encrypted.bin is the u8 golden image
// encrypted with key bytes 0..63; nvs_partition_gen.py encrypt produced the
// same bytes for that key.
func TestEncryptedGolden(t *testing.T) {
	k := testKey()
	img, err := Build(goldenCases[0].entries, 0x3000, BuildOptions{Key: &k})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "u8_encrypted.bin")
	if *update {
		if err := os.WriteFile(path, img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(img, want) {
		t.Fatalf("encrypted image differs at byte %d", firstDiff(img, want))
	}
	plain, _ := os.ReadFile(filepath.Join("testdata", "u8.bin"))
	// Header and bitmap stay in the clear; entries do not.
	if !bytes.Equal(img[:64], plain[:64]) || bytes.Equal(img[64:128], plain[64:128]) || !allErased(img[128:]) {
		t.Error("encryption touched the header/bitmap or left entries in the clear")
	}
	back, err := Decrypt(img, k)
	if err != nil || !bytes.Equal(back, plain) {
		t.Fatalf("decrypt: %v", err)
	}
}

func TestEncryptedRoundTrip(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	es := []Entry{BlobEntry("ns", "b", blobPattern(9000)), Str("ns", "s", "secret"), Uint("ns", "n", U64, 42)}
	img, err := Build(es, 0x5000, BuildOptions{Key: &k})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := Parse(img); len(p.Entries()) != 0 {
		t.Error("encrypted image reads without the key")
	}
	plain, err := Decrypt(img, k)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, "encrypted", mustParse(t, plain), es)
}

func TestKeysPartition(t *testing.T) {
	k := testKey()
	img := KeysPartition(k)
	if len(img) != PageSize {
		t.Fatalf("keys partition is %d bytes", len(img))
	}
	got, err := ParseKeysPartition(img)
	if err != nil || got != k {
		t.Fatalf("round trip: %v", err)
	}
	bad := bytes.Clone(img)
	bad[3] ^= 1
	for name, tc := range map[string][]byte{"crc": bad, "short": img[:10], "erased": erased(PageSize)} {
		if _, err := ParseKeysPartition(tc); !errors.Is(err, ErrKey) {
			t.Errorf("%s: %v", name, err)
		} else {
			t.Log(err)
		}
	}
	var same Key
	if _, err := Build(nil, 0x3000, BuildOptions{Key: &same}); !errors.Is(err, ErrKey) {
		t.Errorf("equal key halves: %v", err)
	} else {
		t.Log(err)
	}
}

func TestBuildFactoryEncrypted(t *testing.T) {
	k := testKey()
	fd := FactoryData{ClaimCertPEM: testCertPEM, ClaimKeyPEM: []byte("k"), SN: "SN-9"}
	img, err := BuildFactory(fd, 0x3000, BuildOptions{Key: &k})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Decrypt(img, k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadFactory(mustParse(t, plain), "")
	if err != nil || got.SN != "SN-9" {
		t.Errorf("read back %q, %v", got.SN, err)
	}
}
