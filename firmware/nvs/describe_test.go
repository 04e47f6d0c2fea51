package nvs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
)

// TestIsPrivateKeyWithoutArmour: a key body stored without its PEM lines,
// as DER or base64, is still a key and must be redacted.
func TestIsPrivateKeyWithoutArmour(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name string
		v    []byte
		want bool
	}{
		{"SEC 1 DER", sec1, true},
		{"PKCS#8 DER", pkcs8, true},
		{"SEC 1 base64", []byte(b64(sec1)), true},
		{"PKCS#8 base64 with a newline", []byte(b64(pkcs8) + "\n"), true},
		{"PEM", testKeyPEM(t), true},
		{"public key DER", pub, false},
		{"public key base64", []byte(b64(pub)), false},
		{"certificate PEM", testCertPEM, false},
		{"serial number", []byte("FL-000123"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsPrivateKey(tc.v); got != tc.want {
				t.Fatalf("IsPrivateKey = %v, want %v", got, tc.want)
			}
			if d := Describe(tc.v, true); tc.want && (!strings.Contains(d, "redacted") || strings.Contains(d, b64(tc.v)[:12])) {
				t.Fatalf("Describe = %s", d)
			}
		})
	}
}
