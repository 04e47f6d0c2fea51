package audit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"fleetline/serialno"
)

// claimMaterial makes a claim key and its self-signed certificate.
func claimMaterial(t *testing.T) (keyPEMs []string, secrets [][]byte, certDER []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x7a01), Subject: pkix.Name{CommonName: "claim"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	sec1, _ := x509.MarshalECPrivateKey(key)
	for _, b := range []*pem.Block{{Type: "PRIVATE KEY", Bytes: pkcs8}, {Type: "EC PRIVATE KEY", Bytes: sec1}} {
		p := pem.EncodeToMemory(b)
		keyPEMs = append(keyPEMs, string(p))
		secrets = append(secrets, b.Bytes, p)
		for _, line := range strings.Split(string(p), "\n") {
			if line != "" && !strings.HasPrefix(line, "-----") {
				secrets = append(secrets, []byte(line))
			}
		}
	}
	d, err := key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, d, []byte(hex.EncodeToString(d)))
	return keyPEMs, secrets, certDER
}

func TestPrivateKeysNeverRecorded(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	keys, secrets, certDER := claimMaterial(t)
	sum := sha256.Sum256(certDER)
	b := testBatch("B1", serialno.Range{First: 1, Last: 100})
	b.ClaimCertSHA256 = hex.EncodeToString(sum[:])
	if err := s.CreateBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		// Every text field the station fills is guarded, whatever the caller passes.
		attempts := map[string]func() error{
			"batch claim serial": func() error {
				bb := testBatch("B2", serialno.Range{First: 200, Last: 300})
				bb.ClaimCertSerial = key
				return s.CreateBatch(ctx, bb)
			},
			"attempt operator": func() error {
				_, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(50), Operator: key})
				return err
			},
			"step message": func() error {
				id, _ := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(51)})
				return s.RecordStep(ctx, id, Step{Name: "nvs", Message: "wrote " + key})
			},
			"measurement": func() error {
				id, _ := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(52)})
				return s.RecordStep(ctx, id, Step{Name: "nvs", Measurements: []Measurement{{Name: key}}})
			},
			"provisioning": func() error {
				id, _ := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(53)})
				return s.RecordProvisioning(ctx, id, Provisioning{ThingName: "t", DeviceCertID: key})
			},
			"outcome": func() error {
				id, _ := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: mac(54)})
				return s.FinishAttempt(ctx, id, Outcome{Result: OutcomeFail, Message: key})
			},
			"void reason": func() error {
				r, _ := s.Reserve(ctx, "B1", mac(55))
				return s.Void(ctx, r.SN, strings.ToLower(key))
			},
		}
		for name, f := range attempts {
			err := f()
			if !errors.Is(err, ErrSecret) {
				t.Errorf("%s with a private key: err = %v, want ErrSecret", name, err)
			}
			if err != nil && strings.Contains(err.Error(), key[40:60]) {
				t.Errorf("%s: the error message carries the key", name)
			}
		}
	}
	// A whole batch recorded the normal way.
	for i := range 10 {
		runUnit(t, s, "B1", i, i%3 != 0)
	}
	var exports bytes.Buffer
	for _, f := range []string{FormatCSV, FormatJSON} {
		if err := s.Export(ctx, &exports, "B1", f); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string][]byte{"export": exports.Bytes()}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(path + suffix); err == nil {
			files["db"+suffix] = b
		}
	}
	s.Close() // checkpoint: the main file now holds everything
	files["db after close"], _ = os.ReadFile(path)
	for name, content := range files {
		for _, sec := range secrets {
			if len(sec) >= 16 && bytes.Contains(content, sec) {
				t.Errorf("%s contains private key material %.20q", name, sec)
			}
		}
		if bytes.Contains(bytes.ToUpper(content), []byte("PRIVATE KEY")) {
			t.Errorf("%s contains a PEM private key marker", name)
		}
	}
}
