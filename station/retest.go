package station

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// runRetest is the QA flow: find the board's audit record by MAC (refusing
// boards this database never built), optionally read its factory data back,
// boot it in retest mode without flashing and compare its report with the
// record. The retest attempt is recorded against the unit.
func (a *attempt) runRetest(ctx context.Context) *Failure {
	e := a.e
	u, err := e.store.UnitByMAC(context.WithoutCancel(ctx), a.info.MAC)
	if errors.Is(err, ErrUnknownUnit) {
		return fail(StepIdentify, ReasonUnknownBoard, err, "board %s was never built with this database", a.info.MAC)
	} else if err != nil {
		return fail(StepIdentify, ReasonStoreFailed, err, "look up board %s: %v", a.info.MAC, err)
	}
	a.unit, a.sn = u, u.SN
	e.setIdentity(a.ss, a.info.MAC, a.sn)
	if f := a.open(context.WithoutCancel(ctx), true); f != nil {
		return f
	}
	if e.cfg.ReadFactory {
		if f := a.step(ctx, StepVerify, func(ctx context.Context) (string, error) {
			return a.readFactory(ctx)
		}); f != nil {
			return f
		}
	}
	if f := a.firstBoot(ctx, true); f != nil {
		return f
	}
	return a.step(ctx, StepCheck, func(ctx context.Context) (string, error) {
		if f := a.compareRecord(ctx); f != nil {
			return "", f
		}
		return "report matches the audit record", nil
	})
}

// readFactory reads the factory partition back and confirms it holds the
// board's SN and no claim credentials.
func (a *attempt) readFactory(ctx context.Context) (string, error) {
	e := a.e
	img := e.cfg.Image
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeouts.Flash)
	defer cancel()
	data, err := a.board.ReadFlash(ctx, img.FactoryOffset, img.FactorySize)
	if err != nil {
		return "", classify(StepVerify, err, ReasonFlashWriteFailed)
	}
	fc, err := e.cfg.InspectFactory(data)
	if err != nil {
		return "", fail(StepVerify, ReasonFactoryData, err, "factory partition does not parse: %v", err)
	}
	if fc.ClaimCert || fc.ClaimKey {
		return "", fail(StepVerify, ReasonClaimNotErased, nil, "factory partition still holds the claim credentials (certificate %t, key %t)", fc.ClaimCert, fc.ClaimKey)
	}
	if fc.SN != "" && fc.SN != a.sn {
		return "", fail(StepVerify, ReasonSNMismatch, nil, "factory partition holds SN %q, the record says %q", fc.SN, a.sn)
	}
	return fmt.Sprintf("factory partition: SN %s, claim credentials erased", fc.SN), nil
}

// compareRecord checks the retest report against the unit's record.
func (a *attempt) compareRecord(ctx context.Context) error {
	r := a.report
	u := a.unit
	h := r.hello
	if f := a.checkIdentity(u.SN); f != nil {
		return f
	}
	if f := a.checkTests(); f != nil {
		return f
	}
	if !r.verdict.Pass {
		return a.verdictFailure()
	}
	certSHA := h.CertSHA256
	if r.cert != nil && r.cert.PEM != "" {
		c, err := parseCertPEM(r.cert.PEM)
		if err != nil {
			return fail(StepCheck, ReasonCertFingerprint, err, "device certificate does not parse: %v", err)
		}
		fp := fingerprints(c)
		if certSHA != "" && !strings.EqualFold(certSHA, fp.cert) {
			return fail(StepCheck, ReasonCertFingerprint, nil, "hello's certificate fingerprint does not match the certificate sent")
		}
		certSHA = fp.cert
		a.prov.CertSHA256, a.prov.PublicKeySHA256, a.prov.CertSerial = fp.cert, fp.pubKey, fp.serial
	}
	switch {
	case u.ThingName != "" && h.ThingName != u.ThingName:
		return fail(StepCheck, ReasonThingMismatch, nil, "board says thing %q, the record says %q", h.ThingName, u.ThingName)
	case u.CertSHA256 != "" && !strings.EqualFold(certSHA, u.CertSHA256):
		return fail(StepCheck, ReasonCertFingerprint, nil, "board holds certificate %s, the record says %s", short(certSHA), short(u.CertSHA256))
	case u.Firmware != "" && h.Firmware != u.Firmware:
		return fail(StepCheck, ReasonFirmwareMismatch, nil, "board runs firmware %q, it was built with %q", h.Firmware, u.Firmware)
	}
	return nil
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	if h == "" {
		return "none"
	}
	return h
}
