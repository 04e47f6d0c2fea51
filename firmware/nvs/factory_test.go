package nvs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

// testKeyPEM generates a throwaway EC private key; no key is committed.
func testKeyPEM(t *testing.T) []byte {
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

var testCertPEM = []byte("-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n")

func TestFactoryRoundTrip(t *testing.T) {
	key := testKeyPEM(t)
	fd := FactoryData{
		ClaimCertPEM: bytes.Repeat(testCertPEM, 40), // > 4000 bytes: spans pages
		ClaimKeyPEM:  key,
		SN:           "FL-000123-7",
		Template:     "FleetTemplate",
		Endpoint:     "abc-ats.iot.eu-west-1.amazonaws.com",
		Extra:        []Entry{Uint("", "hw_rev", U8, 3), Str("other", "note", "x")},
	}
	img, err := BuildFactoryNVS(fd, 0x6000)
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, img)
	got, err := ReadFactory(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Namespace != DefaultNamespace || got.SN != fd.SN || got.Template != fd.Template || got.Endpoint != fd.Endpoint ||
		!bytes.Equal(got.ClaimCertPEM, fd.ClaimCertPEM) || !bytes.Equal(got.ClaimKeyPEM, key) {
		t.Errorf("read back differs")
	}
	if len(got.Extra) != 2 || got.Extra[0].Key != "hw_rev" || got.Extra[1].Namespace != "other" {
		t.Errorf("extra %+v", got.Extra)
	}
	if _, err := ReadDevice(p, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("device credentials before provisioning: %v", err)
	}
}

func TestFactoryErrors(t *testing.T) {
	ok := FactoryData{ClaimCertPEM: testCertPEM, ClaimKeyPEM: []byte("k"), SN: "1"}
	for _, tc := range []struct {
		name string
		edit func(*FactoryData)
		size int
		want error
		msg  string
	}{
		{"no cert", func(f *FactoryData) { f.ClaimCertPEM = nil }, 0x3000, ErrFactory, "no claim certificate"},
		{"no key", func(f *FactoryData) { f.ClaimKeyPEM = nil }, 0x3000, ErrFactory, "no claim private key"},
		{"no SN", func(f *FactoryData) { f.SN = "" }, 0x3000, ErrFactory, "no SN"},
		{"reserved extra", func(f *FactoryData) { f.Extra = []Entry{Str("", KeySerialNo, "x")} }, 0x3000, ErrFactory, `extra key "serial_no"`},
		{"too small", func(f *FactoryData) { f.ClaimCertPEM = make([]byte, 9000) }, 0x3000, ErrPartitionFull, "increase the partition size"},
		{"long namespace", func(f *FactoryData) { f.Namespace = "a_very_long_namespace" }, 0x3000, ErrKeyTooLong, "namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := ok
			tc.edit(&fd)
			_, err := BuildFactoryNVS(fd, tc.size)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.msg)
			}
			t.Log(err)
		})
	}
	img, _ := Build([]Entry{Uint("fctry", "x", U8, 1)}, 0x3000, BuildOptions{})
	if _, err := ReadFactory(mustParse(t, img), ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("no SN: %v", err)
	} else {
		t.Log(err)
	}
	// A reserved key of the wrong type is reported, not read as absent.
	img, _ = Build([]Entry{Str("fctry", KeySerialNo, "1"), Str("fctry", KeyClaimKey, "k")}, 0x3000, BuildOptions{})
	if _, err := ReadFactory(mustParse(t, img), ""); !errors.Is(err, ErrTypeMismatch) || !strings.Contains(err.Error(), KeyClaimKey) {
		t.Errorf("claim key stored as a string: %v", err)
	}
	img, _ = Build([]Entry{BlobEntry("fctry", KeyDeviceCert, testCertPEM), Uint("fctry", KeyThingName, U8, 1)}, 0x3000, BuildOptions{})
	if _, err := ReadDevice(mustParse(t, img), ""); !errors.Is(err, ErrTypeMismatch) || !strings.Contains(err.Error(), KeyThingName) {
		t.Errorf("thing name stored as a u8: %v", err)
	}
}

func TestDescribeRedactsPrivateKeys(t *testing.T) {
	key := testKeyPEM(t)
	for _, k := range [][]byte{key, []byte("-----BEGIN " + "PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"),
		[]byte("-----BEGIN " + "RSA PRIVATE KEY-----\n"), []byte("-----BEGIN " + "ENCRYPTED PRIVATE KEY-----")} {
		for _, isString := range []bool{true, false} {
			got := Describe(k, isString)
			if strings.Contains(got, "BEGIN") || !strings.Contains(got, "redacted") {
				t.Errorf("Describe leaks: %s", got)
			}
		}
	}
	if got := Describe(testCertPEM, false); !strings.HasPrefix(got, "<blob, 63 bytes, sha256 ") {
		t.Errorf("cert: %s", got)
	}
	if got := Describe([]byte("hi"), true); got != `"hi"` {
		t.Errorf("string: %s", got)
	}
}
