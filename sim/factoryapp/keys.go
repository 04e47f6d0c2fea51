package factoryapp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	mrand "math/rand/v2"
)

// badRNGSeed is the constant a board with the BadRNG fault seeds its key
// generator with, so every such board derives the same key, as boards whose
// entropy source was never started do.
var badRNGSeed = [32]byte{'f', 'l', 'e', 'e', 't', 'l', 'i', 'n', 'e', ' ', 'b', 'a', 'd', ' ', 'r', 'n', 'g'}

// keyEntropy returns the reader a board draws its private key from.
func keyEntropy(cfg Config) io.Reader {
	if cfg.Faults.BadRNG {
		return mrand.NewChaCha8(badRNGSeed)
	}
	return cfg.Entropy
}

// generateKey derives a P-256 key from the entropy source: a random scalar
// in [1, n-1], drawn again when out of range. (crypto/ecdsa.GenerateKey
// ignores its reader, so it cannot model a bad RNG.)
func generateKey(entropy io.Reader) (*ecdsa.PrivateKey, error) {
	for range 64 {
		var d [32]byte
		if _, err := io.ReadFull(entropy, d[:]); err != nil {
			return nil, fmt.Errorf("read entropy: %w", err)
		}
		if key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:]); err == nil {
			return key, nil
		}
	}
	return nil, fmt.Errorf("entropy source gave no valid P-256 scalar in 64 draws")
}

// publicKeySHA256 fingerprints a key by its SubjectPublicKeyInfo DER.
func publicKeySHA256(pub *ecdsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// makeCSR builds the certificate signing request with the SN as subject.
func makeCSR(key *ecdsa.PrivateKey, sn string) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:            pkix.Name{CommonName: sn},
		SignatureAlgorithm: x509.ECDSAWithSHA256,
	}, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// encodeKey renders the device key as SEC 1 PEM, as mbedTLS writes it.
func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// certSHA256 is the hex SHA-256 of a PEM certificate's DER, which is also
// AWS's certificate ID.
func certSHA256(certPEM []byte) string {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return ""
	}
	sum := sha256.Sum256(block.Bytes)
	return hex.EncodeToString(sum[:])
}
