package cloud

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Files in Config.Dir.
const (
	RootCAFile    = "root-ca.pem"
	rootCAKeyFile = "root-ca.key"
)

// loadOrCreateCA reads the CA from dir, or creates one and writes it there.
func loadOrCreateCA(dir string, now time.Time) (*ca, error) {
	if dir == "" {
		return newCA(now)
	}
	certPath, keyPath := filepath.Join(dir, RootCAFile), filepath.Join(dir, rootCAKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		c, err := newCA(now)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cloud: CA directory: %w", err)
		}
		if err := os.WriteFile(keyPath, encodeKey(c.key), 0o600); err != nil {
			return nil, fmt.Errorf("cloud: write CA key: %w", err)
		}
		if err := os.WriteFile(certPath, c.pem, 0o644); err != nil {
			return nil, fmt.Errorf("cloud: write CA certificate: %w", err)
		}
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cloud: read CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("cloud: read CA key %s: %w", keyPath, err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("cloud: %s or %s is not PEM%s", certPath, keyPath, caRemedy)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("cloud: parse %s: %w%s", certPath, err, caRemedy)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	key, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("cloud: parse %s: want a PKCS#8 ECDSA key%s", keyPath, caRemedy)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("cloud: %s does not belong to %s%s", keyPath, certPath, caRemedy)
	}
	return &ca{key: key, cert: cert, pem: certPEM}, nil
}

// caRemedy ends the errors about a damaged CA in Dir: what the operator can
// do, and what it costs.
const caRemedy = " (restore both files from a backup, or remove them to make a new CA; certificates issued by the old CA will no longer chain to it)"
