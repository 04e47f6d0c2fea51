package cloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
)

// Operation names, as AWS's API reference spells them.
const (
	OpCreateCertificateFromCsr = "CreateCertificateFromCsr"
	OpCreateKeysAndCertificate = "CreateKeysAndCertificate"
	OpRegisterThing            = "RegisterThing"
)

// Request topics (json format).
const (
	TopicCreateFromCSR = "$aws/certificates/create-from-csr/json"
	TopicCreateKeys    = "$aws/certificates/create/json"
	templatePrefix     = "$aws/provisioning-templates/"
	provisionSuffix    = "/provision/json"
)

// TopicRegisterThing is RegisterThing's request topic for a template.
func TopicRegisterThing(template string) string {
	return templatePrefix + template + provisionSuffix
}

// CreateCertificateFromCsrRequest is the request payload.
type CreateCertificateFromCsrRequest struct {
	CertificateSigningRequest string `json:"certificateSigningRequest"`
}

// CreateCertificateResponse is the accepted payload of both certificate
// operations; PrivateKey is set by CreateKeysAndCertificate only.
type CreateCertificateResponse struct {
	CertificateID             string `json:"certificateId"`
	CertificatePEM            string `json:"certificatePem"`
	PrivateKey                string `json:"privateKey,omitempty"` // a secret: only the device may see it
	CertificateOwnershipToken string `json:"certificateOwnershipToken"`
}

// RegisterThingRequest is the request payload.
type RegisterThingRequest struct {
	CertificateOwnershipToken string            `json:"certificateOwnershipToken"`
	Parameters                map[string]string `json:"parameters"`
}

// RegisterThingResponse is the accepted payload.
type RegisterThingResponse struct {
	DeviceConfiguration map[string]string `json:"deviceConfiguration"`
	ThingName           string            `json:"thingName"`
}

// Handle runs the operation a claim client requested by publishing payload
// on topic, and returns the reply topic (.../accepted or .../rejected) and
// payload. claimID is the ID of the client's certificate. ok is false when
// topic names no operation.
func (c *Cloud) Handle(claimID, topic string, payload []byte) (replyTopic string, reply []byte, ok bool) {
	return c.handle("", claimID, topic, payload)
}

// handle is Handle for a client that may carry a ClientFault.
func (c *Cloud) handle(clientID, claimID, topic string, payload []byte) (replyTopic string, reply []byte, ok bool) {
	var op, template string
	var accepted any
	var rej *Rejection
	switch {
	case topic == TopicCreateFromCSR:
		op = OpCreateCertificateFromCsr
	case topic == TopicCreateKeys:
		op = OpCreateKeysAndCertificate
	case strings.HasPrefix(topic, templatePrefix) && strings.HasSuffix(topic, provisionSuffix):
		op = OpRegisterThing
		template = strings.TrimSuffix(strings.TrimPrefix(topic, templatePrefix), provisionSuffix)
	default:
		return "", nil, false
	}
	rej = faultRejection(c.clientFault(clientID), op, template)
	switch {
	case rej != nil:
	case op == OpCreateCertificateFromCsr:
		accepted, rej = c.createFromCSR(claimID, payload)
	case op == OpCreateKeysAndCertificate:
		accepted, rej = c.createKeys(claimID)
	default:
		accepted, rej = c.registerThing(claimID, template, payload)
	}
	c.logEvent(Event{ClientID: clientID, ClaimID: claimID, Op: op, Rejection: rej})
	if rej != nil {
		return topic + "/rejected", rej.JSON(), true
	}
	b, _ := json.Marshal(accepted)
	return topic + "/accepted", b, true
}

// admit applies the throttle and checks the caller is a registered claim.
func (c *Cloud) admit(claimID string) (*Certificate, *Rejection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.throttle > 0 {
		c.throttle--
		return nil, throttled()
	}
	if !c.rate.allow(c.now()) {
		return nil, throttled()
	}
	claim, ok := c.certs[claimID]
	if !ok || !claim.Claim || claim.Status != StatusActive {
		return nil, reject(http.StatusForbidden, CodeAccessDenied, "Certificate %s is not a registered provisioning claim", claimID)
	}
	return claim, nil
}

func (c *Cloud) createFromCSR(claimID string, payload []byte) (any, *Rejection) {
	if _, rej := c.admit(claimID); rej != nil {
		return nil, rej
	}
	var req CreateCertificateFromCsrRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, reject(http.StatusBadRequest, CodeInvalidPayload, "Request payload is not valid JSON")
	}
	if req.CertificateSigningRequest == "" {
		return nil, reject(http.StatusBadRequest, CodeInvalidParameter, "certificateSigningRequest cannot be empty")
	}
	block, _ := pem.Decode([]byte(req.CertificateSigningRequest))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, reject(http.StatusBadRequest, CodeInvalidParameter, "certificateSigningRequest is not a PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		return nil, reject(http.StatusBadRequest, CodeInvalidParameter, "certificateSigningRequest is malformed or its signature does not verify")
	}
	if rej := checkKey(csr.PublicKey); rej != nil {
		return nil, rej
	}
	return c.issueDevice(claimID, csr.Subject, csr.PublicKey, true, "")
}

func (c *Cloud) createKeys(claimID string) (any, *Rejection) {
	if _, rej := c.admit(claimID); rej != nil {
		return nil, rej
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, reject(http.StatusInternalServerError, CodeInternalFailure, "key generation failed")
	}
	return c.issueDevice(claimID, pkix.Name{CommonName: "AWS IoT Certificate"}, &key.PublicKey, false, string(encodeKey(key)))
}

// checkKey admits the key types AWS IoT accepts.
func checkKey(pub any) *Rejection {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() || k.Curve == elliptic.P521() {
			return nil
		}
	case interface{ Size() int }: // *rsa.PublicKey
		if k.Size() >= 2048/8 {
			return nil
		}
	}
	return reject(http.StatusBadRequest, CodeInvalidParameter, "Unsupported public key type or size in certificateSigningRequest")
}

// issueDevice signs a device certificate, records it PENDING_ACTIVATION and
// hands out its ownership token.
func (c *Cloud) issueDevice(claimID string, subject pkix.Name, pub any, fromCSR bool, keyPEM string) (any, *Rejection) {
	now := c.now()
	cert, certPEM, err := c.ca.issue(clientTemplate(subject, now, DeviceCertNotAfter), pub)
	if err != nil {
		return nil, reject(http.StatusInternalServerError, CodeInternalFailure, "certificate signing failed")
	}
	var raw [48]byte
	_, _ = rand.Read(raw[:])
	tok := base64.StdEncoding.EncodeToString(raw[:])
	id := certID(cert.Raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.certs[id] = &Certificate{
		ID: id, PEM: string(certPEM), Serial: cert.SerialNumber.Text(16),
		Status: StatusPendingActivation, FromCSR: fromCSR, ClaimID: claimID,
		PublicKeySHA256: PublicKeySHA256(cert), CreatedAt: now,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter,
	}
	c.tokens[tok] = &token{certID: id, claimID: claimID, expires: now.Add(c.cfg.TokenLifetime)}
	return CreateCertificateResponse{CertificateID: id, CertificatePEM: string(certPEM), PrivateKey: keyPEM, CertificateOwnershipToken: tok}, nil
}

func (c *Cloud) registerThing(claimID, name string, payload []byte) (any, *Rejection) {
	claim, rej := c.admit(claimID)
	if rej != nil {
		return nil, rej
	}
	var req RegisterThingRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, reject(http.StatusBadRequest, CodeInvalidPayload, "Request payload is not valid JSON")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	tmpl, ok := c.templates[name]
	switch {
	case !ok:
		return nil, reject(http.StatusNotFound, CodeNotFound, "Provisioning template %s does not exist", name)
	case !tmpl.Active:
		return nil, reject(http.StatusBadRequest, CodeInvalidRequest, "Provisioning template %s is not active", name)
	case claim.Template != name:
		return nil, reject(http.StatusForbidden, CodeAccessDenied, "Claim certificate is not authorized to provision with template %s", name)
	}
	tok, rej := c.checkToken(claimID, req.CertificateOwnershipToken)
	if rej != nil {
		return nil, rej
	}
	params := map[string]string{}
	for k, v := range req.Parameters {
		params[k] = v
	}
	params[ParamCertificateID] = tok.certID
	if miss := tmpl.missing(params); len(miss) > 0 {
		return nil, reject(http.StatusBadRequest, CodeInvalidParameter, "Missing template parameters: %s", strings.Join(miss, ", "))
	}
	thingName := tmpl.thingName(params)
	if thingName == "" {
		return nil, reject(http.StatusBadRequest, CodeInvalidParameter, "Template %s produced an empty thing name", name)
	}
	if rej := c.preProvisioningCheck(claimID, params["SerialNumber"], thingName); rej != nil {
		return nil, rej
	}
	c.commit(tmpl, claimID, thingName, params, tok)
	return RegisterThingResponse{DeviceConfiguration: tmpl.DeviceConfiguration, ThingName: thingName}, nil
}

// checkToken validates and consumes an ownership token. Callers hold c.mu.
func (c *Cloud) checkToken(claimID, raw string) (*token, *Rejection) {
	if raw == "" {
		return nil, reject(http.StatusBadRequest, CodeInvalidToken, "Certificate ownership token cannot be empty.")
	}
	tok, ok := c.tokens[raw]
	if !ok || tok.claimID != claimID {
		return nil, reject(http.StatusBadRequest, CodeInvalidToken, "Certificate ownership token is invalid or was already used.")
	}
	if !c.now().Before(tok.expires) {
		c.sweep()
		return nil, reject(http.StatusBadRequest, CodeInvalidToken, "Certificate ownership token has expired.")
	}
	delete(c.tokens, raw)
	return tok, nil
}

// preProvisioningCheck is the hook a batch's allowlist turns on: deny by
// default, admit listed SNs, refuse things that already exist. A denial
// ends as AccessDenied, as a Lambda hook's does. Callers hold c.mu.
func (c *Cloud) preProvisioningCheck(claimID, sn, thingName string) *Rejection {
	list, on := c.allow[claimID]
	if !on {
		return nil
	}
	if !list[sn] {
		return reject(http.StatusForbidden, CodeAccessDenied, "Pre-provisioning hook denied provisioning: SerialNumber %q is not in the batch allowlist", sn)
	}
	if _, exists := c.things[thingName]; exists {
		return reject(http.StatusForbidden, CodeAccessDenied, "Pre-provisioning hook denied provisioning: thing %s already exists", thingName)
	}
	return nil
}

// commit creates or merges the thing and activates its certificate.
// Callers hold c.mu.
func (c *Cloud) commit(tmpl *Template, claimID, thingName string, params map[string]string, tok *token) {
	th, ok := c.things[thingName]
	if !ok {
		th = &Thing{Name: thingName, Template: tmpl.Name, Attributes: map[string]string{}, ClaimID: claimID, CreatedAt: c.now()}
		c.things[thingName] = th
	}
	for k, v := range tmpl.attributes(params) { // OverrideSettings MERGE
		th.Attributes[k] = v
	}
	th.CertificateIDs = append(th.CertificateIDs, tok.certID)
	if cert, ok := c.certs[tok.certID]; ok {
		cert.Status = StatusActive
		cert.Thing = thingName
	}
}
