package batch

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// writeClaim writes a self-signed claim certificate valid [nb, na) and its
// key into dir, returning their paths.
func writeClaim(t *testing.T, dir string, nb, na time.Time) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "claim"},
		NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certPath, keyPath = filepath.Join(dir, "claim.crt"), filepath.Join(dir, "claim.key")
	must(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	must(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	return certPath, keyPath
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testManifest(t *testing.T) (*Manifest, Env) {
	t.Helper()
	dir := t.TempDir()
	cert, key := writeClaim(t, dir, now.Add(-time.Hour), now.Add(48*time.Hour))
	m, err := Parse([]byte(minimal), dir)
	must(t, err)
	m.Claim.Cert, m.Claim.Key, m.Device.CABundle = cert, key, cert
	return m, Env{Now: now, DBPath: filepath.Join(dir, "audit.db")}
}

func codes(fs Findings) string {
	var s []string
	for _, f := range fs {
		s = append(s, string(f.Severity)+":"+f.Code)
	}
	return strings.Join(s, ",")
}

func TestPreflight(t *testing.T) {
	tests := []struct {
		name   string
		modify func(t *testing.T, m *Manifest, env *Env)
		want   string
	}{
		{"clean", func(*testing.T, *Manifest, *Env) {}, ""},
		{"expired", func(t *testing.T, m *Manifest, _ *Env) {
			m.Claim.Cert, m.Claim.Key = writeClaim(t, t.TempDir(), now.Add(-48*time.Hour), now.Add(-time.Hour))
		}, "error:claim_expired"},
		{"not yet valid", func(t *testing.T, m *Manifest, _ *Env) {
			m.Claim.Cert, m.Claim.Key = writeClaim(t, t.TempDir(), now.Add(time.Hour), now.Add(48*time.Hour))
		}, "error:claim_not_yet_valid"},
		{"expiring at current rate", func(_ *testing.T, m *Manifest, env *Env) {
			m.Quantity, m.Serial.End = 1000, 2000
			env.UnitsPerHour = 10 // 100 h needed, 48 h left
		}, "warning:claim_expiring"},
		{"key mismatch", func(t *testing.T, m *Manifest, _ *Env) {
			_, m.Claim.Key = writeClaim(t, t.TempDir(), now, now.Add(time.Hour))
		}, "error:claim_key_mismatch"},
		{"template", func(_ *testing.T, m *Manifest, _ *Env) { m.Claim.Template = "bad name!" }, "error:template_name_invalid"},
		{"sn range", func(_ *testing.T, m *Manifest, _ *Env) { m.Quantity = 11 }, "error:sn_range_too_small"},
		{"db", func(_ *testing.T, _ *Manifest, env *Env) { env.DBPath = "/nonexistent-dir/x/audit.db" }, "error:database_not_writable"},
		{"ca", func(_ *testing.T, m *Manifest, _ *Env) { m.Device.CABundle = m.Claim.Key }, "error:ca_bundle_invalid"},
		{"bundle", func(_ *testing.T, _ *Manifest, env *Env) {
			env.Checks.ValidateBundle = func(string, string) []string { return []string{"app image checksum", "no bootloader"} }
		}, "error:bundle_invalid,error:bundle_invalid"},
		{"factory too large", func(_ *testing.T, _ *Manifest, env *Env) {
			env.Checks.FactoryFit = func(*Manifest) (int, int, error) { return 0x5000, 0x3000, nil }
		}, "error:factory_data_too_large"},
		{"done", func(_ *testing.T, _ *Manifest, env *Env) { env.Passed = 2 }, "warning:quantity_reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, env := testManifest(t)
			tt.modify(t, m, &env)
			fs := Preflight(m, env)
			if got := codes(fs); got != tt.want {
				t.Fatalf("findings = %q, want %q\n%v", got, tt.want, fs)
			}
			for _, f := range fs {
				if f.Message == "" || f.Remedy == "" {
					t.Errorf("finding without message or remedy: %+v", f)
				}
			}
		})
	}
}

func TestPreflightDatesInMessage(t *testing.T) {
	m, env := testManifest(t)
	m.Claim.Cert, m.Claim.Key = writeClaim(t, t.TempDir(), now.Add(-48*time.Hour), now.Add(-time.Hour))
	fs := Preflight(m, env)
	if len(fs) == 0 || !strings.Contains(fs[0].Message, "2026-12-03 11:00 UTC") {
		t.Errorf("expiry date missing: %v", fs)
	}
}

func TestPreflightKeyPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits do not apply")
	}
	m, env := testManifest(t)
	must(t, os.Chmod(m.Claim.Key, 0o644))
	if got := codes(Preflight(m, env)); got != "warning:claim_key_permissions" {
		t.Errorf("findings = %q", got)
	}
}

func TestPreflightNeverPrintsKey(t *testing.T) {
	m, env := testManifest(t)
	m.Device.CABundle = m.Claim.Key
	key, _ := os.ReadFile(m.Claim.Key)
	body := strings.Split(string(key), "\n")[1]
	for _, f := range Preflight(m, env) {
		if strings.Contains(f.String(), body) {
			t.Fatalf("finding quotes the private key: %v", f)
		}
	}
}

func TestCompute(t *testing.T) {
	t0 := now
	p := Compute(100, Counts{Tried: 10, Passed: 9, Failed: 1, FirstPassed: 8, Attempts: 12, First: t0, Last: t0.Add(30 * time.Minute)})
	if p.Remaining != 91 || p.FirstPassYield != 0.8 || p.FinalYield != 0.9 || p.UnitsPerHour != 18 {
		t.Errorf("progress = %+v", p)
	}
	if p.ETA != time.Duration(91.0/18*float64(time.Hour)) {
		t.Errorf("eta %v", p.ETA)
	}
	if Compute(5, Counts{}).UnitsPerHour != 0 {
		t.Error("rate without data")
	}
	// The log's measured recent rate wins over the whole-batch average.
	p = Compute(100, Counts{Tried: 10, Passed: 9, First: t0, Last: t0.Add(30 * time.Minute), UnitsPerHour: 45})
	if p.UnitsPerHour != 45 || p.ETA != time.Duration(91.0/45*float64(time.Hour)) {
		t.Errorf("progress with a measured rate = %+v", p)
	}
}
