package cloud

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"crypto/ecdsa"
	"crypto/elliptic"
)

// DefaultTokenLifetime is how long a certificate ownership token is valid.
const DefaultTokenLifetime = time.Hour

// Config configures a Cloud.
type Config struct {
	// Clock is the cloud's time: certificate validity, token expiry. Nil
	// means time.Now.
	Clock func() time.Time
	// Hosts are the names and addresses the server certificate is valid
	// for; empty means "localhost" and "127.0.0.1".
	Hosts []string
	// TokenLifetime overrides DefaultTokenLifetime.
	TokenLifetime time.Duration
	// Dir, when set, keeps the CA across runs: its certificate and key are
	// read from Dir/root-ca.pem and Dir/root-ca.key, or created there, so a
	// real board built with the CA keeps trusting a restarted cloud. The
	// registry itself lives in memory.
	Dir string
	// OnEvent, when set, is called with every event as it is logged,
	// outside the cloud's lock.
	OnEvent func(Event)
}

// Event is one thing that happened at the cloud, for tests and the demo's
// log: a connection, a refused handshake, an operation and its outcome.
// It never holds key material.
type Event struct {
	Time      time.Time
	ClientID  string
	ClaimID   string // the client certificate's ID, when there was one
	Op        string // "connect", "CreateCertificateFromCsr", "CreateKeysAndCertificate", "RegisterThing", "policy"
	Rejection *Rejection
	Err       string // a transport-level failure (handshake, policy)
}

// Cloud is the local fleet-provisioning service.
type Cloud struct {
	cfg Config
	ca  *ca

	mu           sync.Mutex
	templates    map[string]*Template
	certs        map[string]*Certificate
	things       map[string]*Thing
	tokens       map[string]*token
	allow        map[string]map[string]bool // claim ID → allowed SNs
	throttle     int
	rate         rateLimit
	clientFaults map[string]ClientFault
	events       []Event
	srv          *server

	expiredMu sync.Mutex
	expired   map[string][2][]byte // template → stale claim cert, key (ExpiredClaim)
}

// token is an outstanding certificate ownership token.
type token struct {
	certID  string
	claimID string
	expires time.Time
}

// New creates a cloud with a fresh CA and no templates or claims.
func New(cfg Config) (*Cloud, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if len(cfg.Hosts) == 0 {
		cfg.Hosts = []string{"localhost", "127.0.0.1"}
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = DefaultTokenLifetime
	}
	authority, err := loadOrCreateCA(cfg.Dir, cfg.Clock())
	if err != nil {
		return nil, err
	}
	return &Cloud{
		cfg:          cfg,
		ca:           authority,
		templates:    map[string]*Template{},
		certs:        map[string]*Certificate{},
		things:       map[string]*Thing{},
		tokens:       map[string]*token{},
		allow:        map[string]map[string]bool{},
		clientFaults: map[string]ClientFault{},
	}, nil
}

func (c *Cloud) now() time.Time { return c.cfg.Clock() }

// RootCAPEM is the CA certificate that signs the server certificate, claim
// certificates and device certificates: the bundle a board trusts and the
// station checks device certificates against.
func (c *Cloud) RootCAPEM() []byte { return append([]byte(nil), c.ca.pem...) }

// CreateTemplate adds or replaces a provisioning template.
func (c *Cloud) CreateTemplate(t Template) error {
	if err := t.validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.templates[t.Name] = &t
	return nil
}

// SetTemplateActive enables or disables a template.
func (c *Cloud) SetTemplateActive(name string, active bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.templates[name]
	if !ok {
		return fmt.Errorf("cloud: template %s does not exist", name)
	}
	t.Active = active
	return nil
}

// DeleteTemplate removes a template; RegisterThing with it then gets 404.
func (c *Cloud) DeleteTemplate(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.templates, name)
}

// CreateClaim issues a claim certificate for template, valid from now for
// validity, and registers it. The key is returned once, for the batch's NVS
// images; the cloud keeps only the certificate.
func (c *Cloud) CreateClaim(template string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	now := c.now()
	return c.CreateClaimWindow(template, now, now.Add(validity))
}

// CreateClaimWindow is CreateClaim with an explicit validity window, for
// claims that are already expired or not yet valid.
func (c *Cloud) CreateClaimWindow(template string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("cloud: claim key: %w", err)
	}
	subject := pkix.Name{Organization: []string{"fleetline"}, CommonName: "claim " + template}
	cert, certPEM, err := c.ca.issue(clientTemplate(subject, notBefore, notAfter), &key.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("cloud: claim certificate: %w", err)
	}
	c.addClaim(template, cert, certPEM)
	return certPEM, encodeKey(key), nil
}

// ExpiredClaim returns a claim certificate and key for template that this
// cloud knows but whose validity ended a day ago: the credentials of a
// board programmed from a stale factory image. A board that connects with
// it fails the TLS handshake with a certificate_expired alert, as AWS IoT
// answers an expired claim. The pair is made once per template and reused.
func (c *Cloud) ExpiredClaim(template string) (certPEM, keyPEM []byte, err error) {
	c.expiredMu.Lock()
	defer c.expiredMu.Unlock()
	if p, ok := c.expired[template]; ok {
		return p[0], p[1], nil
	}
	now := c.now()
	certPEM, keyPEM, err = c.CreateClaimWindow(template, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	if err != nil {
		return nil, nil, err
	}
	if c.expired == nil {
		c.expired = map[string][2][]byte{}
	}
	c.expired[template] = [2][]byte{certPEM, keyPEM}
	return certPEM, keyPEM, nil
}

// RegisterClaim registers an existing claim certificate for template, one
// this cloud's CA issued (in an earlier run with the same Dir).
func (c *Cloud) RegisterClaim(template string, certPEM []byte) error {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return errors.New("cloud: register claim: no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("cloud: register claim: %w", err)
	}
	if err := cert.CheckSignatureFrom(c.ca.cert); err != nil {
		return fmt.Errorf("cloud: register claim: not issued by this cloud's CA: %w", err)
	}
	c.addClaim(template, cert, certPEM)
	return nil
}

// addClaim records an active claim certificate for template.
func (c *Cloud) addClaim(template string, cert *x509.Certificate, certPEM []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.certs[certID(cert.Raw)] = &Certificate{
		ID: certID(cert.Raw), PEM: string(certPEM), Serial: cert.SerialNumber.Text(16),
		Status: StatusActive, Claim: true, Template: template,
		PublicKeySHA256: PublicKeySHA256(cert), CreatedAt: c.now(),
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter,
	}
}

// RevokeClaim deletes a claim from the registry: the certificate still
// chains to the CA, but CONNECT with it is refused (the "claim not
// registered" fault).
func (c *Cloud) RevokeClaim(certPEM []byte) error {
	id, err := CertificateID(certPEM)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.certs, id)
	return nil
}

// Allowlist turns on the pre-provisioning check for a claim (one claim per
// batch): RegisterThing through it then admits only these SerialNumber
// values and refuses a thing that already exists. Calls add to the list.
func (c *Cloud) Allowlist(claimID string, sns []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.allow[claimID]
	if set == nil {
		set = map[string]bool{}
		c.allow[claimID] = set
	}
	for _, sn := range sns {
		set[sn] = true
	}
}

// Throttle makes the next n operations fail with 429 ThrottlingException.
func (c *Cloud) Throttle(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.throttle = n
}

// RateLimit admits at most n operations per window on the cloud's clock
// (fixed windows); the rest get 429 ThrottlingException, as AWS's
// per-account API rate limits answer. n <= 0 lifts the limit.
func (c *Cloud) RateLimit(n int, per time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rate = rateLimit{n: n, per: per}
}

// rateLimit is a fixed-window counter.
type rateLimit struct {
	n     int
	per   time.Duration
	start time.Time
	count int
}

// allow counts one operation at now.
func (r *rateLimit) allow(now time.Time) bool {
	if r.n <= 0 {
		return true
	}
	if r.start.IsZero() || !now.Before(r.start.Add(r.per)) {
		r.start, r.count = now, 0
	}
	r.count++
	return r.count <= r.n
}

// Events returns what happened so far, oldest first.
func (c *Cloud) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

func (c *Cloud) logEvent(e Event) {
	e.Time = c.now()
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(e)
	}
}

// ErrNotStarted: the cloud has no listener.
var ErrNotStarted = errors.New("cloud: not started")

// certPool is the trust for client certificates.
func (c *Cloud) certPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.ca.cert)
	return p
}
