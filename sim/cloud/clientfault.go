package cloud

import (
	"fmt"
	"net/http"
)

// ClientFault makes the cloud fail one client, named by its MQTT client ID
// (the factory firmware uses its SN), the way a batch-wide condition fails
// every client. The virtual line uses it to give single boards cloud-side
// faults while their neighbours provision normally.
type ClientFault string

// Client faults.
const (
	// ClientClaimExpired: the connection is dropped after CONNECT, without
	// CONNACK. A really expired claim fails the TLS handshake with a
	// certificate_expired alert instead (CreateClaimWindow, ExpiredClaim),
	// which cannot be sent once the handshake is done and the client ID
	// known; sim/factoryapp models its claim_expired fault with
	// ExpiredClaim for that reason and uses this only without it.
	ClientClaimExpired ClientFault = "claim_expired"
	// ClientClaimNotRegistered: CONNACK 5, as for a claim never registered.
	ClientClaimNotRegistered ClientFault = "claim_not_registered"
	// ClientTemplateMissing: RegisterThing gets 404, as if the template
	// were deleted.
	ClientTemplateMissing ClientFault = "template_missing"
	// ClientTemplateInactive: RegisterThing gets 400, as if the template
	// were disabled.
	ClientTemplateInactive ClientFault = "template_inactive"
	// ClientThrottled: every operation gets 429.
	ClientThrottled ClientFault = "throttled"
)

var clientFaults = map[ClientFault]bool{
	ClientClaimExpired: true, ClientClaimNotRegistered: true, ClientTemplateMissing: true,
	ClientTemplateInactive: true, ClientThrottled: true,
}

// SetClientFault sets or, with "", clears a client's fault.
func (c *Cloud) SetClientFault(clientID string, f ClientFault) error {
	if f != "" && !clientFaults[f] {
		return fmt.Errorf("cloud: unknown client fault %q", f)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f == "" {
		delete(c.clientFaults, clientID)
	} else {
		c.clientFaults[clientID] = f
	}
	return nil
}

func (c *Cloud) clientFault(clientID string) ClientFault {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clientFaults[clientID]
}

// faultRejection is the rejection a client fault turns an operation into.
func faultRejection(f ClientFault, op, template string) *Rejection {
	switch {
	case f == ClientThrottled:
		return throttled()
	case f == ClientTemplateMissing && op == OpRegisterThing:
		return reject(http.StatusNotFound, CodeNotFound, "Provisioning template %s does not exist", template)
	case f == ClientTemplateInactive && op == OpRegisterThing:
		return reject(http.StatusBadRequest, CodeInvalidRequest, "Provisioning template %s is not active", template)
	}
	return nil
}
