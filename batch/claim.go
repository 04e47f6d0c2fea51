package batch

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// ClaimCert is the claim certificate with what pre-flight and the operator
// screen need of it. The key is checked against it and then dropped: it is
// read again only to build each board's factory data.
type ClaimCert struct {
	Cert    *x509.Certificate
	PEM     []byte
	KeyPEM  []byte // the claim private key; never log, print or record it
	Subject string
}

// LoadClaim reads the claim certificate and key named by the manifest and
// checks that they belong together.
func LoadClaim(m *Manifest) (*ClaimCert, error) {
	certPEM, err := os.ReadFile(m.Claim.Cert)
	if err != nil {
		return nil, fmt.Errorf("claim certificate: %w", err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("claim certificate %s: %w", m.Claim.Cert, err)
	}
	keyPEM, err := os.ReadFile(m.Claim.Key)
	if err != nil {
		return nil, fmt.Errorf("claim key: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		// The error never quotes the key's bytes.
		return nil, fmt.Errorf("claim key %s: %w", m.Claim.Key, err)
	}
	if err := keyMatches(cert, key); err != nil {
		return &ClaimCert{Cert: cert, PEM: certPEM, Subject: cert.Subject.String()}, err
	}
	return &ClaimCert{Cert: cert, PEM: certPEM, KeyPEM: keyPEM, Subject: cert.Subject.String()}, nil
}

// ErrKeyMismatch says the claim key is not the certificate's key.
var ErrKeyMismatch = errors.New("claim key does not match the claim certificate")

func keyMatches(cert *x509.Certificate, key crypto.Signer) error {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := key.Public().(equaler)
	if !ok || !pub.Equal(cert.PublicKey) {
		return ErrKeyMismatch
	}
	return nil
}

func parseCert(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM CERTIFICATE block")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

func parseKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM private key block")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, errors.New("private key block does not parse")
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, errors.New("unsupported private key type")
		}
		return s, nil
	}
}

// LoadCAPool reads a PEM bundle of CA certificates.
func LoadCAPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !bytes.Contains(data, []byte("CERTIFICATE")) || !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", path)
	}
	return pool, nil
}

// checkClaim checks the claim credentials: readable, matching, inside their
// validity window, and valid long enough for the rest of the batch.
func checkClaim(m *Manifest, env Env, remaining int) Findings {
	var fs Findings
	add := func(sev Severity, code, remedy, format string, a ...any) {
		fs = append(fs, Finding{Severity: sev, Code: code, Message: fmt.Sprintf(format, a...), Remedy: remedy})
	}
	if w := keyPermissionWarning(m.Claim.Key); w != "" {
		add(SevWarning, CodeClaimKeyPerms, "chmod 600 the key file (and keep it on the station only)", "%s", w)
	}
	cc, err := LoadClaim(m)
	if errors.Is(err, ErrKeyMismatch) {
		add(SevError, CodeClaimKeyMismatch, "install the key that was issued with this claim certificate",
			"claim key %s is not the key of certificate %s", m.Claim.Key, m.Claim.Cert)
	} else if err != nil {
		add(SevError, CodeClaimUnreadable, "check claim.cert and claim.key point at the PEM files issued for this batch", "%v", err)
		return fs
	}
	c := cc.Cert
	now := env.Now
	switch {
	case now.Before(c.NotBefore):
		add(SevError, CodeClaimNotYetValid, "check the station's clock; if it is right, use a claim certificate that is valid now",
			"claim certificate is not valid until %s (now %s)", stamp(c.NotBefore), stamp(now))
	case !now.Before(c.NotAfter):
		add(SevError, CodeClaimExpired, "refresh the factory claim credentials (issue a new claim certificate and key) and update the manifest",
			"claim certificate expired at %s (now %s)", stamp(c.NotAfter), stamp(now))
	default:
		rate := env.UnitsPerHour
		if rate <= 0 {
			rate = DefaultUnitsPerHour
		}
		need := time.Duration(float64(remaining) / rate * float64(time.Hour))
		left := c.NotAfter.Sub(now)
		if left < need+time.Duration(claimExpiryMarginHours*float64(time.Hour)) && remaining > 0 {
			add(SevWarning, CodeClaimExpiring, "refresh the factory claim credentials before the batch runs out, or split the work order",
				"claim certificate expires at %s, %s from now; the %d remaining units need about %s at %.0f units/h",
				stamp(c.NotAfter), hours(left), remaining, hours(need), rate)
		}
	}
	return fs
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }
