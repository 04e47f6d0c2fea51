package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// waitLimit only guards against a hung test; nothing depends on its length.
const waitLimit = 20 * time.Second

func startCloud(t *testing.T, c *Cloud) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	endpoint, err := c.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = c.Close()
	})
	return endpoint
}

// dial connects paho with a client certificate, trusting RootCAPEM.
func dial(t *testing.T, c *Cloud, endpoint string, certPEM, keyPEM []byte, lost chan<- error) (mqtt.Client, error) {
	t.Helper()
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(c.RootCAPEM())
	opts := mqtt.NewClientOptions().
		AddBroker("tls://" + endpoint).
		SetClientID("board-1").
		SetTLSConfig(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, ServerName: "127.0.0.1"}).
		SetProtocolVersion(4).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(waitLimit).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			if lost != nil {
				lost <- err
			}
		})
	cl := mqtt.NewClient(opts)
	tok := cl.Connect()
	if !tok.WaitTimeout(waitLimit) {
		t.Fatal("connect did not finish")
	}
	if tok.Error() != nil {
		return nil, tok.Error()
	}
	t.Cleanup(func() { cl.Disconnect(0) })
	return cl, nil
}

// request subscribes to topic's accepted and rejected replies, publishes
// payload and returns the reply topic and payload.
func request(t *testing.T, cl mqtt.Client, topic string, payload []byte) (string, []byte) {
	t.Helper()
	replies := make(chan mqtt.Message, 2)
	sub := cl.SubscribeMultiple(map[string]byte{topic + "/accepted": 1, topic + "/rejected": 1}, func(_ mqtt.Client, m mqtt.Message) { replies <- m })
	if !sub.WaitTimeout(waitLimit) || sub.Error() != nil {
		t.Fatalf("subscribe: %v", sub.Error())
	}
	pub := cl.Publish(topic, 1, false, payload)
	if !pub.WaitTimeout(waitLimit) || pub.Error() != nil {
		t.Fatalf("publish: %v", pub.Error())
	}
	select {
	case m := <-replies:
		return m.Topic(), m.Payload()
	case <-time.After(waitLimit):
		t.Fatal("no reply")
	}
	return "", nil
}

func TestMQTTProvisioning(t *testing.T) {
	c, _, _, claimPEM, claimKey := newTestCloud(t)
	endpoint := startCloud(t, c)
	cl, err := dial(t, c, endpoint, claimPEM, claimKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	topic, reply := request(t, cl, TopicCreateFromCSR, mustJSON(t, CreateCertificateFromCsrRequest{testCSR(t, "SN7")}))
	if topic != TopicCreateFromCSR+"/accepted" {
		t.Fatalf("reply on %s: %s", topic, reply)
	}
	var cert CreateCertificateResponse
	if err := json.Unmarshal(reply, &cert); err != nil {
		t.Fatal(err)
	}
	rt := TopicRegisterThing(testTemplate)
	topic, reply = request(t, cl, rt, mustJSON(t, RegisterThingRequest{cert.CertificateOwnershipToken, map[string]string{"SerialNumber": "SN7"}}))
	if topic != rt+"/accepted" || !strings.Contains(string(reply), `"thingName":"fl-SN7"`) {
		t.Fatalf("reply on %s: %s", topic, reply)
	}
	// Rejections arrive on .../rejected in AWS's shape.
	topic, reply = request(t, cl, TopicRegisterThing("Missing"), []byte(`{"certificateOwnershipToken":"x","parameters":{}}`))
	if topic != TopicRegisterThing("Missing")+"/rejected" || !strings.Contains(string(reply), `"statusCode":404`) {
		t.Fatalf("reply on %s: %s", topic, reply)
	}
}

func TestMQTTExpiredClaimFailsHandshake(t *testing.T) {
	c, _, _, _, _ := newTestCloud(t)
	certPEM, keyPEM, err := c.CreateClaimWindow(testTemplate, testNow.Add(-48*time.Hour), testNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	endpoint := startCloud(t, c)
	_, err = dial(t, c, endpoint, certPEM, keyPEM, nil)
	if err == nil || !strings.Contains(err.Error(), "expired certificate") {
		t.Fatalf("connect error = %v, want the server's certificate_expired alert", err)
	}
	waitEvent(t, c, func(e Event) bool { return e.Op == "connect" && strings.Contains(e.Err, "expired") })
}

func TestMQTTUnregisteredClaimRefused(t *testing.T) {
	c, _, _, claimPEM, claimKey := newTestCloud(t)
	if err := c.RevokeClaim(claimPEM); err != nil {
		t.Fatal(err)
	}
	endpoint := startCloud(t, c)
	if _, err := dial(t, c, endpoint, claimPEM, claimKey, nil); !errors.Is(err, packets.ErrorRefusedNotAuthorised) {
		t.Fatalf("connect error = %v, want not authorized", err)
	}
}

func TestMQTTClaimPolicy(t *testing.T) {
	c, _, _, claimPEM, claimKey := newTestCloud(t)
	endpoint := startCloud(t, c)
	lost := make(chan error, 1)
	cl, err := dial(t, c, endpoint, claimPEM, claimKey, lost)
	if err != nil {
		t.Fatal(err)
	}
	sub := cl.Subscribe("devices/+/telemetry", 1, func(mqtt.Client, mqtt.Message) {})
	if !sub.WaitTimeout(waitLimit) {
		t.Fatal("subscribe did not finish")
	}
	if got := sub.(*mqtt.SubscribeToken).Result()["devices/+/telemetry"]; got != subackFailure {
		t.Fatalf("SUBACK for a forbidden filter = %#x, want 0x80", got)
	}
	cl.Publish("devices/x/telemetry", 0, false, []byte("{}"))
	select {
	case <-lost:
	case <-time.After(waitLimit):
		t.Fatal("publishing outside the claim policy did not end the connection")
	}
	waitEvent(t, c, func(e Event) bool { return e.Op == "policy" && strings.Contains(e.Err, "may not publish") })
}

func TestMQTTUnreachable(t *testing.T) {
	c, _, _, claimPEM, claimKey := newTestCloud(t)
	endpoint := startCloud(t, c)
	if err := c.SetUnreachable(true); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(t, c, endpoint, claimPEM, claimKey, nil); err == nil {
		t.Fatal("connected to an unreachable cloud")
	}
	if err := c.SetUnreachable(false); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(t, c, endpoint, claimPEM, claimKey, nil); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// waitEvent waits until the cloud logged a matching event. Handshake
// failures are logged by the server goroutine after the client has seen
// the alert, so the test polls rather than races.
func waitEvent(t *testing.T, c *Cloud, match func(Event) bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		for _, e := range c.Events() {
			if match(e) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no matching event in %+v", c.Events())
}
