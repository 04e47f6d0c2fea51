package factoryapp

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fleetline/sim/cloud"
	"fmt"
	"strings"
	"time"

	"fleetline/firmware/selftest"
)

// Operation names in ProvResult.Op.
const (
	opConnect       = "connect"
	opCreateFromCSR = "CreateCertificateFromCsr"
	opRegisterThing = "RegisterThing"
	opStore         = "store"
)

// staleClaim reports whether the claim_expired fault is modelled on the
// board, with an expired claim the cloud knows (ExpiredClaimer).
func (r *run) staleClaim() bool {
	_, ok := r.cfg.Cloud.(ExpiredClaimer)
	return ok && r.cfg.Faults.Cloud == cloud.ClientClaimExpired
}

// provision runs fleet provisioning by claim with a CSR, reporting each
// step. It returns errRestarted when the reboot fault struck.
func (r *run) provision() (selftest.ProvResult, error) {
	fd := r.st.factory
	if len(fd.ClaimCertPEM) == 0 || len(fd.ClaimKeyPEM) == 0 {
		return selftest.ProvResult{Op: opConnect, Error: "no claim credentials in factory data"}, nil
	}
	key, err := generateKey(keyEntropy(r.cfg))
	if err != nil {
		return selftest.ProvResult{Error: "key generation: " + err.Error()}, nil
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return selftest.ProvResult{Error: "key encoding: " + err.Error()}, nil
	}
	if r.cfg.Faults.LeakKey {
		// The bug this fault models: a debug dump left in the firmware.
		r.con.log('D', "prov", "device key:")
		r.con.raw(strings.ReplaceAll(string(keyPEM), "\n", "\r\n"))
	}
	if err := r.step(selftest.Prov{Step: selftest.StepKeyGenerated, PublicKeySHA256: publicKeySHA256(&key.PublicKey)}); err != nil {
		return selftest.ProvResult{}, err
	}
	csr, err := makeCSR(key, fd.SN)
	if err != nil {
		return selftest.ProvResult{Error: "CSR: " + err.Error()}, nil
	}
	if err := r.step(selftest.Prov{Step: selftest.StepCSRCreated}); err != nil {
		return selftest.ProvResult{}, err
	}

	claimCert, claimKey := fd.ClaimCertPEM, fd.ClaimKeyPEM
	if r.staleClaim() {
		if claimCert, claimKey, err = r.cfg.Cloud.(ExpiredClaimer).ExpiredClaim(fd.Template); err != nil {
			return selftest.ProvResult{Op: opConnect, Error: "claim credentials: " + err.Error()}, nil
		}
	}
	claim, err := tls.X509KeyPair(claimCert, claimKey)
	if err != nil {
		return selftest.ProvResult{Op: opConnect, Error: "claim credentials: " + err.Error()}, nil
	}
	roots, err := r.trust()
	if err != nil {
		return selftest.ProvResult{Op: opConnect, Error: err.Error()}, nil
	}
	r.con.log('I', "prov", "connecting to %s as %s", fd.Endpoint, fd.SN)
	sess, err := connect(r.ctx, fd.Endpoint, fd.SN, roots, claim, r.clock.Now, r.cfg.OpTimeout, r.cfg.Faults.Unreachable)
	if err != nil {
		r.con.log('E', "prov", "connect: %v", err)
		return selftest.ProvResult{Op: opConnect, Error: err.Error()}, nil
	}
	defer sess.close()

	var cert createFromCSRResponse
	if err := sess.call(r.ctx, opCreateFromCSR, topicCreateFromCSR, createFromCSRRequest{string(csr)}, &cert); err != nil {
		return r.failed(opCreateFromCSR, err), nil
	}
	r.con.log('I', "prov", "certificate %s received", cert.CertificateID)
	if err := r.step(selftest.Prov{Step: selftest.StepCertReceived, CertificateID: cert.CertificateID}); err != nil {
		return selftest.ProvResult{}, err
	}

	var thing registerThingResponse
	req := registerThingRequest{CertificateOwnershipToken: cert.CertificateOwnershipToken, Parameters: r.parameters()}
	if err := sess.call(r.ctx, opRegisterThing, fmt.Sprintf(topicProvision, fd.Template), req, &thing); err != nil {
		return r.failed(opRegisterThing, err), nil
	}
	r.con.log('I', "prov", "registered as thing %s", thing.ThingName)
	if err := r.step(selftest.Prov{Step: selftest.StepThingRegistered, ThingName: thing.ThingName}); err != nil {
		return selftest.ProvResult{}, err
	}

	if err := r.store.saveDevice([]byte(cert.CertificatePEM), keyPEM, thing.ThingName); err != nil {
		return selftest.ProvResult{Op: opStore, Error: err.Error()}, nil
	}
	if err := r.store.eraseClaim(); err != nil {
		return selftest.ProvResult{Op: opStore, Error: err.Error()}, nil
	}
	if err := r.step(selftest.Prov{Step: selftest.StepClaimErased}); err != nil {
		return selftest.ProvResult{}, err
	}
	r.con.send(selftest.Cert{CertificateID: cert.CertificateID, PEM: cert.CertificatePEM})
	return selftest.ProvResult{OK: true, ThingName: thing.ThingName, CertificateID: cert.CertificateID}, nil
}

// step reports a provisioning step and reboots the board there if the
// fault says so (first boot only, so the next boot can recover).
func (r *run) step(p selftest.Prov) error {
	r.con.send(p)
	if r.con.err != nil {
		return r.con.err
	}
	if r.cfg.Faults.RebootAfter == p.Step && r.boot == 1 {
		r.con.log('W', "prov", "brownout after %s, restarting", p.Step)
		r.dev.Restart()
		<-r.ctx.Done()
		return errRestarted
	}
	return nil
}

// failed turns an operation error into the result the station records:
// the cloud's triple when it rejected, the local error otherwise.
func (r *run) failed(op string, err error) selftest.ProvResult {
	r.con.log('E', "prov", "%v", err)
	var rej *Rejected
	if errors.As(err, &rej) {
		return selftest.ProvResult{Op: op, StatusCode: rej.StatusCode, ErrorCode: rej.ErrorCode, ErrorMessage: rej.ErrorMessage}
	}
	return selftest.ProvResult{Op: op, Error: err.Error()}
}

// trust is the CA pool the board verifies the endpoint with.
func (r *run) trust() (*x509.CertPool, error) {
	ca := r.cfg.RootCAPEM
	if len(r.st.rootCA) > 0 {
		ca = r.st.rootCA
	}
	pool := x509.NewCertPool()
	if len(ca) == 0 || !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("no root CA to verify the endpoint with")
	}
	return pool, nil
}

// parameters are RegisterThing's template parameters: what the thing's
// attributes must trace back to.
func (r *run) parameters() map[string]string {
	fd := r.st.factory
	date := r.st.mfgDate
	if date == "" {
		date = r.cfg.ManufacturingDate
	}
	if date == "" {
		date = r.clock.Now().UTC().Format(time.DateOnly)
	}
	p := map[string]string{
		"SerialNumber":      fd.SN,
		"MAC":               r.dev.Identity().MACString(),
		"ManufacturingDate": date,
		"ChipModel":         r.dev.Identity().Chip,
		"FirmwareVersion":   r.fw.Version,
	}
	if block, _ := pem.Decode(fd.ClaimCertPEM); block != nil {
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			p["ClaimCertificateSerial"] = c.SerialNumber.Text(16)
		}
	}
	return p
}
