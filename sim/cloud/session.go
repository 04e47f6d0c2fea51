package cloud

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// session is one MQTT client connection.
type session struct {
	cloud    *Cloud
	conn     net.Conn
	certID   string
	clientID string // set under server.mu
	claim    bool   // connected with a claim certificate: claim policy applies

	wmu    sync.Mutex
	subs   map[string]byte // filter → granted QoS; session goroutine only
	nextID uint16
}

func (s *session) run(srv *server) {
	r := bufio.NewReader(s.conn)
	_ = s.conn.SetReadDeadline(time.Now().Add(handshakeTimeout))
	p, err := readPacket(r)
	if err != nil || p.kind != pktConnect {
		s.cloud.logEvent(Event{ClaimID: s.certID, Op: "connect", Err: "no CONNECT"})
		return
	}
	cp, err := parseConnect(p.body)
	if err != nil {
		s.cloud.logEvent(Event{ClaimID: s.certID, Op: "connect", Err: err.Error()})
		return
	}
	if cp.protocol != "MQTT" || cp.level != 4 {
		s.connack(connBadProtocol)
		s.cloud.logEvent(Event{ClientID: cp.clientID, ClaimID: s.certID, Op: "connect", Err: fmt.Sprintf("protocol %q level %d: only MQTT 3.1.1", cp.protocol, cp.level)})
		return
	}
	if cp.clientID == "" {
		s.connack(connBadClientID)
		return
	}
	fault := s.cloud.clientFault(cp.clientID)
	if fault == ClientClaimExpired {
		s.cloud.logEvent(Event{ClientID: cp.clientID, ClaimID: s.certID, Op: "connect", Err: "claim certificate expired (client fault): connection dropped"})
		return
	}
	ok, claim := s.cloud.knownClient(s.certID)
	if !ok || fault == ClientClaimNotRegistered {
		s.connack(connNotAuthorized)
		s.cloud.logEvent(Event{ClientID: cp.clientID, ClaimID: s.certID, Op: "connect", Err: "certificate is not registered"})
		return
	}
	s.claim = claim
	srv.takeOver(s, cp.clientID)
	s.cloud.logEvent(Event{ClientID: cp.clientID, ClaimID: s.certID, Op: "connect"})
	if err := s.connack(connAccepted); err != nil {
		return
	}
	for {
		if cp.keepAlive > 0 {
			_ = s.conn.SetReadDeadline(time.Now().Add(time.Duration(cp.keepAlive) * 1500 * time.Millisecond))
		} else {
			_ = s.conn.SetReadDeadline(time.Time{})
		}
		p, err := readPacket(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.cloud.logEvent(Event{ClientID: s.clientID, ClaimID: s.certID, Op: "connect", Err: err.Error()})
			}
			return
		}
		if done := s.handle(p); done {
			return
		}
	}
}

// handle processes one packet; it returns true when the session must end.
func (s *session) handle(p packet) bool {
	switch p.kind {
	case pktPublish:
		return s.onPublish(p)
	case pktSubscribe:
		return s.onSubscribe(p)
	case pktUnsubscribe:
		id, filters, err := parseUnsubscribe(p)
		if err != nil {
			return true
		}
		for _, f := range filters {
			delete(s.subs, f)
		}
		return s.write(appendPacket(nil, pktUnsuback, 0, binary.BigEndian.AppendUint16(nil, id))) != nil
	case pktPingreq:
		return s.write(appendPacket(nil, pktPingresp, 0, nil)) != nil
	case pktPuback:
		return false
	case pktDisconnect:
		return true
	default: // QoS 2 flows and anything a client must not send
		s.cloud.logEvent(Event{ClientID: s.clientID, ClaimID: s.certID, Op: "policy", Err: fmt.Sprintf("unsupported packet type %d", p.kind)})
		return true
	}
}

func (s *session) onPublish(p packet) bool {
	pub, err := parsePublish(p)
	if err != nil || pub.qos == 2 {
		return true
	}
	if s.claim && !claimMayPublish(pub.topic) {
		// AWS IoT drops the connection on an unauthorized publish.
		s.cloud.logEvent(Event{ClientID: s.clientID, ClaimID: s.certID, Op: "policy", Err: "claim certificate may not publish to " + pub.topic})
		return true
	}
	if pub.qos == 1 {
		if s.write(appendPacket(nil, pktPuback, 0, binary.BigEndian.AppendUint16(nil, pub.id))) != nil {
			return true
		}
	}
	if !s.claim {
		return false // device traffic is accepted and dropped
	}
	topic, reply, ok := s.cloud.handle(s.clientID, s.certID, pub.topic, pub.payload)
	if !ok {
		return false
	}
	return s.deliver(topic, reply) != nil
}

func (s *session) onSubscribe(p packet) bool {
	id, subs, err := parseSubscribe(p)
	if err != nil {
		return true
	}
	body := binary.BigEndian.AppendUint16(nil, id)
	for _, sub := range subs {
		if s.claim && !claimMaySubscribe(sub.filter) {
			s.cloud.logEvent(Event{ClientID: s.clientID, ClaimID: s.certID, Op: "policy", Err: "claim certificate may not subscribe to " + sub.filter})
			body = append(body, subackFailure)
			continue
		}
		q := min(sub.qos, 1)
		s.subs[sub.filter] = q
		body = append(body, q)
	}
	return s.write(appendPacket(nil, pktSuback, 0, body)) != nil
}

// deliver publishes a reply if the client subscribed to it, at the highest
// granted QoS (0 or 1).
func (s *session) deliver(topic string, payload []byte) error {
	qos, matched := byte(0), false
	for f, q := range s.subs {
		if topicMatch(f, topic) {
			matched = true
			qos = max(qos, q)
		}
	}
	if !matched {
		return nil
	}
	var id uint16
	if qos > 0 {
		s.nextID++
		if s.nextID == 0 {
			s.nextID = 1
		}
		id = s.nextID
	}
	return s.write(encodePublish(topic, qos, id, payload))
}

func (s *session) connack(code byte) error {
	return s.write(appendPacket(nil, pktConnack, 0, []byte{0, code}))
}

func (s *session) write(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.conn.Write(b)
	return err
}

// knownClient reports whether a client certificate may connect and whether
// it is a claim.
func (c *Cloud) knownClient(id string) (ok, claim bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cert, found := c.certs[id]
	if !found || cert.Status != StatusActive {
		return false, false
	}
	return true, cert.Claim
}

// claimMayPublish is the claim policy's Publish statement: the three
// request topics, any template (RegisterThing checks the claim's template).
func claimMayPublish(topic string) bool {
	return topic == TopicCreateFromCSR || topic == TopicCreateKeys || isTemplateTopic(topic)
}

// claimMaySubscribe is the Subscribe statement: the accepted and rejected
// topics of those requests, or a + or # under them.
func claimMaySubscribe(filter string) bool {
	base, last, ok := cutLast(filter)
	if !ok || (last != "accepted" && last != "rejected" && last != "+" && last != "#") {
		return false
	}
	return base == TopicCreateFromCSR || base == TopicCreateKeys || isTemplateTopic(base)
}

func isTemplateTopic(topic string) bool {
	if !strings.HasPrefix(topic, templatePrefix) || !strings.HasSuffix(topic, provisionSuffix) {
		return false
	}
	name := strings.TrimSuffix(strings.TrimPrefix(topic, templatePrefix), provisionSuffix)
	return templateName.MatchString(name)
}

func cutLast(s string) (string, string, bool) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}
