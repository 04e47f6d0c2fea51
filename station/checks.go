package station

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

// checkBuild runs the station's checks of what a freshly built board
// reported, in order of severity: a leaked key first, then identity, tests,
// the board's own verdict, the certificate and its uniqueness, and the
// claim's erasure. It returns a *Failure or nil (as error, never a typed
// nil).
func (a *attempt) checkBuild(ctx context.Context) error {
	r := a.report
	e := a.e
	if f := a.checkIdentity(a.sn); f != nil {
		return f
	}
	if f := a.checkTests(); f != nil {
		return f
	}
	if !r.verdict.Pass {
		return a.verdictFailure()
	}
	if f := a.checkCert(ctx); f != nil {
		return f
	}
	if want := e.cfg.ThingName(a.sn); a.prov.ThingName != want {
		return fail(StepCheck, ReasonThingMismatch, nil, "board registered thing %q, expected %q", a.prov.ThingName, want)
	}
	if !a.prov.ClaimErased {
		return fail(StepCheck, ReasonClaimNotErased, nil, "the board did not report erasing the claim credentials")
	}
	return nil
}

// checkIdentity compares hello with what the ROM loader read and the SN the
// station wrote.
func (a *attempt) checkIdentity(sn string) *Failure {
	h := a.report.hello
	if !sameMAC(h.MAC, a.info.MAC) {
		return fail(StepCheck, ReasonMACMismatch, nil, "board says MAC %s, the ROM loader read %s", h.MAC, a.info.MAC)
	}
	if h.SN != sn {
		return fail(StepCheck, ReasonSNMismatch, nil, "board says SN %q, the station wrote %q", h.SN, sn)
	}
	return nil
}

// checkTests judges every reported test against the limits and checks that
// every test the batch has limits for was run.
func (a *attempt) checkTests() *Failure {
	seen := map[string]bool{}
	for _, t := range a.report.tests {
		seen[t.Name] = true
		if m := a.measure(t); !m.Passed {
			return fail(StepSelfTest, ReasonTestOutOfLimits, nil, "%s = %g%s is outside %s", t.Name, t.Value, m.Unit, window(m))
		}
	}
	for name := range a.e.cfg.Limits {
		if !seen[name] {
			return fail(StepSelfTest, ReasonTestMissing, nil, "the board did not report test %q", name)
		}
	}
	return nil
}

func window(m *Measurement) string {
	lo, hi := "-inf", "+inf"
	if m.Low != nil {
		lo = fmt.Sprint(*m.Low)
	}
	if m.High != nil {
		hi = fmt.Sprint(*m.High)
	}
	return "[" + lo + ", " + hi + "]"
}

// verdictFailure maps a failed verdict: its reason when it is one of ours,
// the provisioning result when there is one, else a generic board failure.
func (a *attempt) verdictFailure() *Failure {
	v := a.report.verdict
	if res := a.report.result; res != nil && !res.OK {
		return provFailure(*res)
	}
	if _, known := Reasons[v.Reason]; known && v.Reason != "" {
		return fail(StepCheck, v.Reason, nil, "board verdict: fail (%s)", v.Reason)
	}
	return fail(StepCheck, ReasonBoardFailed, nil, "board verdict: fail (%s)", first(v.Reason, "no reason given"))
}

// checkCert verifies the device certificate: it chains to the batch's CA,
// its validity window is sane, its key is the one the board generated, and
// no other unit has its key or serial.
func (a *attempt) checkCert(ctx context.Context) *Failure {
	e := a.e
	r := a.report
	if r.cert == nil || strings.TrimSpace(r.cert.PEM) == "" {
		return fail(StepCheck, ReasonCertMissing, nil, "the board reported no device certificate")
	}
	cert, err := parseCertPEM(r.cert.PEM)
	if err != nil {
		return fail(StepCheck, ReasonCertChainInvalid, err, "device certificate: %v", err)
	}
	now := e.clock.Now()
	fp := fingerprints(cert)
	a.prov.CertSHA256, a.prov.CertSerial, a.prov.NotBefore, a.prov.NotAfter = fp.cert, fp.serial, cert.NotBefore, cert.NotAfter
	if a.prov.PublicKeySHA256 != "" && !strings.EqualFold(a.prov.PublicKeySHA256, fp.pubKey) {
		return fail(StepCheck, ReasonCertChainInvalid, nil, "device certificate is not for the key the board generated")
	}
	a.prov.PublicKeySHA256 = fp.pubKey
	opts := x509.VerifyOptions{Roots: e.cfg.CAPool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := cert.Verify(opts); err != nil {
		// A window problem is reported as such, not as a broken chain.
		if cert.NotBefore.After(now.Add(e.cfg.CertMaxSkew)) || !cert.NotAfter.After(now) {
			return fail(StepCheck, ReasonCertValidity, err, "device certificate valid %s to %s, now %s", stampTime(cert.NotBefore), stampTime(cert.NotAfter), stampTime(now))
		}
		opts.CurrentTime = cert.NotBefore.Add(time.Second)
		if _, err2 := cert.Verify(opts); err2 != nil {
			return fail(StepCheck, ReasonCertChainInvalid, err, "device certificate does not chain to the batch's CA bundle: %v", err)
		}
	}
	if cert.NotBefore.After(now.Add(e.cfg.CertMaxSkew)) || cert.NotAfter.Before(now.Add(e.cfg.CertMinValidity)) {
		return fail(StepCheck, ReasonCertValidity, nil, "device certificate valid %s to %s, now %s", stampTime(cert.NotBefore), stampTime(cert.NotAfter), stampTime(now))
	}
	// That no other unit has this key or serial is checked by the write
	// that records the pass (FinishAndConfirm), where it cannot race
	// another slot.
	return nil
}

type certPrints struct{ cert, pubKey, serial string }

// fingerprints are what the audit log keeps of a certificate.
func fingerprints(c *x509.Certificate) certPrints {
	cs := sha256.Sum256(c.Raw)
	ks := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return certPrints{cert: hex.EncodeToString(cs[:]), pubKey: hex.EncodeToString(ks[:]), serial: c.SerialNumber.Text(16)}
}

func parseCertPEM(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("not a PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}

func sameMAC(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer(":", "", "-", "").Replace(s)) }
	return norm(a) == norm(b)
}

func stampTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }
