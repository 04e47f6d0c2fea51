package cloud

import (
	"maps"
	"slices"
	"time"
)

// Certificate statuses, as AWS names them.
const (
	StatusPendingActivation = "PENDING_ACTIVATION"
	StatusActive            = "ACTIVE"
	StatusInactive          = "INACTIVE"
)

// Certificate is a device or claim certificate the cloud knows.
type Certificate struct {
	ID              string // hex SHA-256 of the DER
	PEM             string
	Serial          string // hex
	Status          string
	Claim           bool   // a claim certificate registered by CreateClaim
	Template        string // claims: the template they may provision with
	FromCSR         bool   // issued by CreateCertificateFromCsr
	ClaimID         string // devices: the claim that requested it
	PublicKeySHA256 string
	Thing           string // the thing it is attached to, once registered
	CreatedAt       time.Time
	NotBefore       time.Time
	NotAfter        time.Time
}

// Thing is a thing RegisterThing created.
type Thing struct {
	Name           string
	Template       string
	Attributes     map[string]string
	CertificateIDs []string
	ClaimID        string // the claim certificate that provisioned it
	CreatedAt      time.Time
}

// Things returns every registered thing, sorted by name.
func (c *Cloud) Things() []Thing {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Thing, 0, len(c.things))
	for _, name := range slices.Sorted(maps.Keys(c.things)) {
		out = append(out, copyThing(c.things[name]))
	}
	return out
}

// Thing returns the named thing.
func (c *Cloud) Thing(name string) (Thing, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.things[name]
	if !ok {
		return Thing{}, false
	}
	return copyThing(t), true
}

// Certificate returns the certificate with the given ID. A device
// certificate whose ownership token expired unused has been deleted.
func (c *Cloud) Certificate(id string) (Certificate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep()
	cert, ok := c.certs[id]
	if !ok {
		return Certificate{}, false
	}
	return *cert, true
}

// Certificates returns every certificate, claims included, sorted by ID.
func (c *Cloud) Certificates() []Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep()
	out := make([]Certificate, 0, len(c.certs))
	for _, id := range slices.Sorted(maps.Keys(c.certs)) {
		out = append(out, *c.certs[id])
	}
	return out
}

// sweep deletes device certificates still pending when their ownership
// token expired, as AWS does. Callers hold c.mu.
func (c *Cloud) sweep() {
	now := c.now()
	for tok, o := range c.tokens {
		if now.Before(o.expires) {
			continue
		}
		delete(c.tokens, tok)
		if cert, ok := c.certs[o.certID]; ok && cert.Status == StatusPendingActivation {
			delete(c.certs, o.certID)
		}
	}
}

func copyThing(t *Thing) Thing {
	out := *t
	out.Attributes = maps.Clone(t.Attributes)
	out.CertificateIDs = slices.Clone(t.CertificateIDs)
	return out
}
