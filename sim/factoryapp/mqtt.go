package factoryapp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// The fleet-provisioning MQTT API as the firmware sees it. These are
// written here from AWS's documentation, not shared with sim/cloud, so that
// a mistake on one side is not silently agreed to by the other.
const (
	topicCreateFromCSR = "$aws/certificates/create-from-csr/json"
	topicProvision     = "$aws/provisioning-templates/%s/provision/json"
)

type createFromCSRRequest struct {
	CertificateSigningRequest string `json:"certificateSigningRequest"`
}

type createFromCSRResponse struct {
	CertificateID             string `json:"certificateId"`
	CertificatePEM            string `json:"certificatePem"`
	CertificateOwnershipToken string `json:"certificateOwnershipToken"`
}

type registerThingRequest struct {
	CertificateOwnershipToken string            `json:"certificateOwnershipToken"`
	Parameters                map[string]string `json:"parameters"`
}

type registerThingResponse struct {
	DeviceConfiguration map[string]string `json:"deviceConfiguration"`
	ThingName           string            `json:"thingName"`
}

// Rejected is the cloud's rejected payload, the error an operation returns.
type Rejected struct {
	Op           string `json:"-"`
	StatusCode   int    `json:"statusCode"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// Error implements error.
func (r *Rejected) Error() string {
	return fmt.Sprintf("%s rejected: %d %s: %s", r.Op, r.StatusCode, r.ErrorCode, r.ErrorMessage)
}

// errUnreachable is the simulated network failure.
var errUnreachable = errors.New("network is unreachable")

// session is one MQTT connection to the cloud with the claim credentials.
type session struct {
	client  mqtt.Client
	timeout time.Duration
}

// connect opens mutual TLS to endpoint ("host" or "host:port") with the
// claim certificate, verifying the server with the board's own clock.
func connect(ctx context.Context, endpoint, clientID string, roots *x509.CertPool, claim tls.Certificate, now func() time.Time, timeout time.Duration, unreachable bool) (*session, error) {
	host, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		host, port = endpoint, DefaultMQTTPort
	}
	broker := &url.URL{Scheme: "tls", Host: net.JoinHostPort(host, port)}
	opts := mqtt.NewClientOptions().
		AddBroker(broker.String()).
		SetClientID(clientID).
		SetTLSConfig(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{claim}, ServerName: host, Time: now, MinVersion: tls.VersionTLS12}).
		SetProtocolVersion(4).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(30 * time.Second).
		SetConnectTimeout(timeout).
		SetWriteTimeout(timeout)
	if unreachable {
		opts.SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errUnreachable}
		})
	}
	c := mqtt.NewClient(opts)
	if err := wait(ctx, c.Connect(), timeout); err != nil {
		return nil, err
	}
	return &session{client: c, timeout: timeout}, nil
}

func (s *session) close() { s.client.Disconnect(0) }

// call subscribes to topic's accepted and rejected replies, publishes the
// request and decodes the reply into resp or returns *Rejected.
func (s *session) call(ctx context.Context, op, topic string, req, resp any) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return err
	}
	replies := make(chan mqtt.Message, 2)
	handler := func(_ mqtt.Client, m mqtt.Message) {
		select {
		case replies <- m:
		default:
		}
	}
	filters := map[string]byte{topic + "/accepted": 1, topic + "/rejected": 1}
	if err := wait(ctx, s.client.SubscribeMultiple(filters, handler), s.timeout); err != nil {
		return fmt.Errorf("subscribe to %s replies: %w", op, err)
	}
	defer s.client.Unsubscribe(topic+"/accepted", topic+"/rejected")
	if err := wait(ctx, s.client.Publish(topic, 1, false, payload), s.timeout); err != nil {
		return fmt.Errorf("publish %s: %w", op, err)
	}
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case m := <-replies:
		if m.Topic() == topic+"/rejected" {
			rej := &Rejected{Op: op}
			if err := json.Unmarshal(m.Payload(), rej); err != nil {
				return fmt.Errorf("%s: unreadable rejected reply: %w", op, err)
			}
			return rej
		}
		if err := json.Unmarshal(m.Payload(), resp); err != nil {
			return fmt.Errorf("%s: unreadable accepted reply: %w", op, err)
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("%s: no reply within %s", op, s.timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait waits for a paho token, the timeout or ctx.
func wait(ctx context.Context, tok mqtt.Token, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-timer.C:
		return fmt.Errorf("no answer within %s", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}
