package cloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for token and certificate expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testNow = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

const testTemplate = "FleetlineTest"

// newTestCloud returns a cloud with an active template and one claim.
func newTestCloud(t *testing.T) (*Cloud, *fakeClock, string, []byte, []byte) {
	t.Helper()
	clk := &fakeClock{t: testNow}
	c, err := New(Config{Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	err = c.CreateTemplate(Template{
		Name: testTemplate, Active: true,
		Parameters:       []string{"SerialNumber"},
		ThingNamePattern: "fl-{SerialNumber}",
		Attributes:       map[string]string{"sn": "{SerialNumber}", "mac": "{MAC}", "claim_serial": "{ClaimCertificateSerial}", "cert": "{AWS::IoT::Certificate::Id}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := c.CreateClaim(testTemplate, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, err := CertificateID(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c, clk, id, certPEM, keyPEM
}

func testCSR(t *testing.T, cn string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// call runs an operation and decodes the reply into out (accepted) or
// returns the rejection.
func call(t *testing.T, c *Cloud, claimID, topic string, req []byte, out any) *Rejection {
	t.Helper()
	replyTopic, reply, ok := c.Handle(claimID, topic, req)
	if !ok {
		t.Fatalf("Handle(%s): not an operation", topic)
	}
	if strings.HasSuffix(replyTopic, "/rejected") {
		var r Rejection
		if err := json.Unmarshal(reply, &r); err != nil {
			t.Fatalf("rejected payload %s: %v", reply, err)
		}
		return &r
	}
	if replyTopic != topic+"/accepted" {
		t.Fatalf("reply topic %s", replyTopic)
	}
	if err := json.Unmarshal(reply, out); err != nil {
		t.Fatalf("accepted payload %s: %v", reply, err)
	}
	return nil
}

func createFromCSR(t *testing.T, c *Cloud, claimID, sn string) CreateCertificateResponse {
	t.Helper()
	var resp CreateCertificateResponse
	if rej := call(t, c, claimID, TopicCreateFromCSR, mustJSON(t, CreateCertificateFromCsrRequest{testCSR(t, sn)}), &resp); rej != nil {
		t.Fatalf("CreateCertificateFromCsr rejected: %v", rej)
	}
	return resp
}

func TestCreateCertificateFromCsrAccepted(t *testing.T) {
	c, _, claimID, _, _ := newTestCloud(t)
	resp := createFromCSR(t, c, claimID, "SN1")
	if resp.CertificateOwnershipToken == "" || resp.PrivateKey != "" {
		t.Fatalf("response %+v", resp)
	}
	cert, err := x509.ParseCertificate(mustPEM(t, resp.CertificatePEM))
	if err != nil {
		t.Fatal(err)
	}
	if id := certID(cert.Raw); id != resp.CertificateID {
		t.Errorf("certificateId %s, SHA-256 of DER is %s", resp.CertificateID, id)
	}
	if cert.Subject.CommonName != "SN1" || !cert.NotAfter.Equal(DeviceCertNotAfter) {
		t.Errorf("subject %v, not after %v", cert.Subject, cert.NotAfter)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(c.RootCAPEM())
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: testNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("device certificate does not chain to RootCAPEM: %v", err)
	}
	rec, ok := c.Certificate(resp.CertificateID)
	if !ok || rec.Status != StatusPendingActivation || rec.ClaimID != claimID || !rec.FromCSR {
		t.Errorf("registry record %+v, %v", rec, ok)
	}
}

func TestCreateKeysAndCertificateAccepted(t *testing.T) {
	c, _, claimID, _, _ := newTestCloud(t)
	var resp CreateCertificateResponse
	if rej := call(t, c, claimID, TopicCreateKeys, nil, &resp); rej != nil {
		t.Fatal(rej)
	}
	if !strings.Contains(resp.PrivateKey, "PRIVATE KEY") || resp.CertificateOwnershipToken == "" {
		t.Fatalf("response lacks key or token")
	}
	cert, err := x509.ParseCertificate(mustPEM(t, resp.CertificatePEM))
	if err != nil || cert.Subject.CommonName != "AWS IoT Certificate" {
		t.Fatalf("certificate %v, %v", cert, err)
	}
}

func TestRegisterThingAccepted(t *testing.T) {
	c, _, claimID, claimPEM, _ := newTestCloud(t)
	cert := createFromCSR(t, c, claimID, "SN1")
	var resp RegisterThingResponse
	req := RegisterThingRequest{CertificateOwnershipToken: cert.CertificateOwnershipToken, Parameters: map[string]string{"SerialNumber": "SN1", "MAC": "24:0a:c4:00:00:01", "ClaimCertificateSerial": "abc"}}
	if rej := call(t, c, claimID, TopicRegisterThing(testTemplate), mustJSON(t, req), &resp); rej != nil {
		t.Fatal(rej)
	}
	if resp.ThingName != "fl-SN1" {
		t.Fatalf("thingName %q", resp.ThingName)
	}
	th, ok := c.Thing("fl-SN1")
	if !ok || th.Attributes["mac"] != "24:0a:c4:00:00:01" || th.Attributes["claim_serial"] != "abc" || th.Attributes["cert"] != cert.CertificateID || th.ClaimID != claimID {
		t.Fatalf("thing %+v", th)
	}
	if rec, _ := c.Certificate(cert.CertificateID); rec.Status != StatusActive || rec.Thing != "fl-SN1" {
		t.Fatalf("certificate %+v", rec)
	}
	if got := c.Things(); len(got) != 1 {
		t.Fatalf("Things() = %v", got)
	}
	claim, _ := c.Certificate(claimID)
	if claim.PEM != string(claimPEM) || !claim.Claim {
		t.Fatalf("claim record %+v", claim)
	}
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(c *Cloud, claimID string) // before RegisterThing
		topic  string
		params map[string]string
		token  string // "" → a valid one; "-" → empty
		want   Rejection
	}{
		{name: "template missing", topic: TopicRegisterThing("NoSuchTemplate"), want: Rejection{404, CodeNotFound, "Provisioning template NoSuchTemplate does not exist"}},
		{name: "template inactive", setup: func(c *Cloud, _ string) { _ = c.SetTemplateActive(testTemplate, false) }, want: Rejection{400, CodeInvalidRequest, "Provisioning template " + testTemplate + " is not active"}},
		{name: "claim for another template", setup: func(c *Cloud, _ string) {
			_ = c.CreateTemplate(Template{Name: "Other", Active: true, ThingNamePattern: "{SerialNumber}", Parameters: []string{"SerialNumber"}})
		}, topic: TopicRegisterThing("Other"), want: Rejection{403, CodeAccessDenied, "Claim certificate is not authorized to provision with template Other"}},
		{name: "empty token", token: "-", want: Rejection{400, CodeInvalidToken, "Certificate ownership token cannot be empty."}},
		{name: "bogus token", token: "bm90IGEgdG9rZW4=", want: Rejection{400, CodeInvalidToken, "Certificate ownership token is invalid or was already used."}},
		{name: "missing SerialNumber", params: map[string]string{"MAC": "x"}, want: Rejection{400, CodeInvalidParameter, "Missing template parameters: SerialNumber"}},
		{name: "SN not in allowlist", setup: func(c *Cloud, id string) { c.Allowlist(id, []string{"SN2"}) }, want: Rejection{403, CodeAccessDenied, `Pre-provisioning hook denied provisioning: SerialNumber "SN1" is not in the batch allowlist`}},
		{name: "throttled", setup: func(c *Cloud, _ string) { c.Throttle(1) }, want: Rejection{429, CodeThrottling, "Rate exceeded"}},
		{name: "claim revoked", setup: func(c *Cloud, id string) {
			cert, _ := c.Certificate(id)
			_ = c.RevokeClaim([]byte(cert.PEM))
		}, want: Rejection{403, CodeAccessDenied, "Certificate %CLAIM% is not a registered provisioning claim"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, claimID, _, _ := newTestCloud(t)
			cert := createFromCSR(t, c, claimID, "SN1")
			if tt.setup != nil {
				tt.setup(c, claimID)
			}
			topic := tt.topic
			if topic == "" {
				topic = TopicRegisterThing(testTemplate)
			}
			params := tt.params
			if params == nil {
				params = map[string]string{"SerialNumber": "SN1"}
			}
			tok := cert.CertificateOwnershipToken
			switch tt.token {
			case "-":
				tok = ""
			case "":
			default:
				tok = tt.token
			}
			rej := call(t, c, claimID, topic, mustJSON(t, RegisterThingRequest{tok, params}), new(RegisterThingResponse))
			want := tt.want
			want.ErrorMessage = strings.ReplaceAll(want.ErrorMessage, "%CLAIM%", claimID)
			if rej == nil || *rej != want {
				t.Fatalf("rejection = %+v, want %+v", rej, want)
			}
			if len(c.Things()) != 0 {
				t.Fatalf("a thing was registered: %v", c.Things())
			}
			if ev := c.Events(); ev[len(ev)-1].Rejection == nil || *ev[len(ev)-1].Rejection != want {
				t.Fatalf("last event %+v", ev[len(ev)-1])
			}
		})
	}
}

func TestThingAlreadyExistsRefusedByAllowlist(t *testing.T) {
	c, _, claimID, _, _ := newTestCloud(t)
	c.Allowlist(claimID, []string{"SN1"})
	for i, want := range []*Rejection{nil, {403, CodeAccessDenied, "Pre-provisioning hook denied provisioning: thing fl-SN1 already exists"}} {
		cert := createFromCSR(t, c, claimID, "SN1")
		rej := call(t, c, claimID, TopicRegisterThing(testTemplate), mustJSON(t, RegisterThingRequest{cert.CertificateOwnershipToken, map[string]string{"SerialNumber": "SN1"}}), new(RegisterThingResponse))
		if (rej == nil) != (want == nil) || (rej != nil && *rej != *want) {
			t.Fatalf("attempt %d: rejection %+v, want %+v", i+1, rej, want)
		}
	}
}

func TestOwnershipTokenExpiry(t *testing.T) {
	c, clk, claimID, _, _ := newTestCloud(t)
	cert := createFromCSR(t, c, claimID, "SN1")
	clk.Advance(DefaultTokenLifetime - time.Second)
	if _, ok := c.Certificate(cert.CertificateID); !ok {
		t.Fatal("certificate deleted before its token expired")
	}
	clk.Advance(time.Second)
	rej := call(t, c, claimID, TopicRegisterThing(testTemplate), mustJSON(t, RegisterThingRequest{cert.CertificateOwnershipToken, map[string]string{"SerialNumber": "SN1"}}), new(RegisterThingResponse))
	want := Rejection{400, CodeInvalidToken, "Certificate ownership token has expired."}
	if rej == nil || *rej != want {
		t.Fatalf("rejection %+v, want %+v", rej, want)
	}
	if _, ok := c.Certificate(cert.CertificateID); ok {
		t.Fatal("pending certificate survived its token's expiry")
	}
}

func TestOwnershipTokenSingleUse(t *testing.T) {
	c, _, claimID, _, _ := newTestCloud(t)
	cert := createFromCSR(t, c, claimID, "SN1")
	req := mustJSON(t, RegisterThingRequest{cert.CertificateOwnershipToken, map[string]string{"SerialNumber": "SN1"}})
	if rej := call(t, c, claimID, TopicRegisterThing(testTemplate), req, new(RegisterThingResponse)); rej != nil {
		t.Fatal(rej)
	}
	if rej := call(t, c, claimID, TopicRegisterThing(testTemplate), req, new(RegisterThingResponse)); rej == nil || rej.ErrorCode != CodeInvalidToken {
		t.Fatalf("reuse: %+v", rej)
	}
}

func TestCSRRejections(t *testing.T) {
	c, _, claimID, _, _ := newTestCloud(t)
	tests := map[string]struct {
		payload string
		code    string
	}{
		"not json":  {`{`, CodeInvalidPayload},
		"empty csr": {`{}`, CodeInvalidParameter},
		"not pem":   {`{"certificateSigningRequest":"hello"}`, CodeInvalidParameter},
		"bad der":   {`{"certificateSigningRequest":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}`, CodeInvalidParameter},
	}
	for name, tt := range tests {
		rej := call(t, c, claimID, TopicCreateFromCSR, []byte(tt.payload), new(CreateCertificateResponse))
		if rej == nil || rej.StatusCode != 400 || rej.ErrorCode != tt.code {
			t.Errorf("%s: %+v", name, rej)
		}
	}
}

func TestTemplateValidation(t *testing.T) {
	c, _ := New(Config{})
	bad := []Template{
		{Name: "", ThingNamePattern: "{SerialNumber}"},
		{Name: strings.Repeat("a", 37), ThingNamePattern: "x"},
		{Name: "has space", ThingNamePattern: "x"},
		{Name: "ok"},
		{Name: "ok", ThingNamePattern: "{Undeclared}"},
	}
	for _, tmpl := range bad {
		if err := c.CreateTemplate(tmpl); err == nil {
			t.Errorf("CreateTemplate(%+v) accepted", tmpl)
		}
	}
}

func mustPEM(t *testing.T, s string) []byte {
	t.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		t.Fatalf("no PEM in %q", s)
	}
	return b.Bytes
}

func TestClientFaults(t *testing.T) {
	c, _, claimID, _, _ := newTestCloud(t)
	if err := c.SetClientFault("SN1", "bogus"); err == nil {
		t.Fatal("unknown client fault accepted")
	}
	tests := []struct {
		fault ClientFault
		topic string
		want  int
	}{
		{ClientThrottled, TopicCreateFromCSR, 429},
		{ClientTemplateMissing, TopicRegisterThing(testTemplate), 404},
		{ClientTemplateInactive, TopicRegisterThing(testTemplate), 400},
		{ClientTemplateMissing, TopicCreateFromCSR, 0}, // only RegisterThing is affected
	}
	for _, tt := range tests {
		if err := c.SetClientFault("SN1", tt.fault); err != nil {
			t.Fatal(err)
		}
		payload := mustJSON(t, CreateCertificateFromCsrRequest{testCSR(t, "SN1")})
		topic, reply, _ := c.handle("SN1", claimID, tt.topic, payload)
		var rej Rejection
		_ = json.Unmarshal(reply, &rej)
		if strings.HasSuffix(topic, "/accepted") != (tt.want == 0) || rej.StatusCode != tt.want {
			t.Errorf("%s on %s: %s %s", tt.fault, tt.topic, topic, reply)
		}
		// Other clients are unaffected.
		if topic, _, _ := c.handle("SN2", claimID, TopicCreateFromCSR, payload); !strings.HasSuffix(topic, "/accepted") {
			t.Errorf("%s leaked to another client: %s", tt.fault, topic)
		}
	}
	if err := c.SetClientFault("SN1", ""); err != nil || c.clientFault("SN1") != "" {
		t.Fatal("clearing a client fault failed")
	}
}

// FuzzHandle sends arbitrary payloads to every operation: the cloud must
// answer with accepted or rejected JSON, never panic.
func FuzzHandle(f *testing.F) {
	f.Add(0, []byte(`{"certificateSigningRequest":"x"}`))
	f.Add(1, []byte(``))
	f.Add(2, []byte(`{"certificateOwnershipToken":"","parameters":{"SerialNumber":"1"}}`))
	f.Add(2, []byte(`{"parameters":null}`))
	c, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	if err := c.CreateTemplate(Template{Name: "T", Active: true, Parameters: []string{"SerialNumber"}, ThingNamePattern: "{SerialNumber}"}); err != nil {
		f.Fatal(err)
	}
	claim, _, _ := c.CreateClaim("T", time.Hour)
	id, _ := CertificateID(claim)
	topics := []string{TopicCreateFromCSR, TopicCreateKeys, TopicRegisterThing("T")}
	f.Fuzz(func(t *testing.T, which int, payload []byte) {
		topic := topics[uint(which)%uint(len(topics))]
		reply, body, ok := c.Handle(id, topic, payload)
		if !ok || !json.Valid(body) || !strings.HasPrefix(reply, topic+"/") {
			t.Fatalf("Handle(%s, %q) = %s %s %v", topic, payload, reply, body, ok)
		}
	})
}

func TestRateLimit(t *testing.T) {
	c, clk, claimID, _, _ := newTestCloud(t)
	c.RateLimit(2, time.Second)
	codes := func() []int {
		var out []int
		for range 3 {
			rej := call(t, c, claimID, TopicCreateKeys, nil, new(CreateCertificateResponse))
			if rej == nil {
				out = append(out, 0)
			} else {
				out = append(out, rej.StatusCode)
			}
		}
		return out
	}
	if got := codes(); got[0] != 0 || got[1] != 0 || got[2] != 429 {
		t.Fatalf("first window: %v", got)
	}
	clk.Advance(time.Second)
	if got := codes(); got[0] != 0 || got[2] != 429 {
		t.Fatalf("next window: %v", got)
	}
	c.RateLimit(0, 0)
	if got := codes(); got[2] != 0 {
		t.Fatalf("lifted: %v", got)
	}
}
