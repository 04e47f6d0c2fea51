package cloud

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MQTT 3.1.1 control packet types (the high nibble of the first byte).
const (
	pktConnect     = 1
	pktConnack     = 2
	pktPublish     = 3
	pktPuback      = 4
	pktPubrec      = 5
	pktPubrel      = 6
	pktPubcomp     = 7
	pktSubscribe   = 8
	pktSuback      = 9
	pktUnsubscribe = 10
	pktUnsuback    = 11
	pktPingreq     = 12
	pktPingresp    = 13
	pktDisconnect  = 14
)

// CONNACK return codes.
const (
	connAccepted       = 0
	connBadProtocol    = 1
	connBadClientID    = 2
	connNotAuthorized  = 5
	subackFailure      = 0x80
	maxPacketBody      = 128 << 10 // AWS IoT's message size limit
	maxRemainingLength = 268435455
)

var errProtocol = errors.New("mqtt protocol violation")

// packet is one MQTT control packet: its first byte and body.
type packet struct {
	kind  byte // high nibble
	flags byte // low nibble
	body  []byte
}

// readPacket reads one control packet.
func readPacket(r *bufio.Reader) (packet, error) {
	first, err := r.ReadByte()
	if err != nil {
		return packet{}, err
	}
	var n, mult int = 0, 1
	for i := 0; ; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return packet{}, err
		}
		n += int(b&0x7f) * mult
		if b&0x80 == 0 {
			break
		}
		if i == 3 {
			return packet{}, fmt.Errorf("%w: remaining length longer than 4 bytes", errProtocol)
		}
		mult *= 128
	}
	if n > maxPacketBody {
		return packet{}, fmt.Errorf("%w: packet of %d bytes exceeds %d", errProtocol, n, maxPacketBody)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return packet{}, err
	}
	return packet{kind: first >> 4, flags: first & 0x0f, body: body}, nil
}

// appendPacket encodes a control packet.
func appendPacket(dst []byte, kind, flags byte, body []byte) []byte {
	dst = append(dst, kind<<4|flags)
	n := len(body)
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		dst = append(dst, b)
		if n == 0 {
			break
		}
	}
	return append(dst, body...)
}

// cursor reads MQTT fields from a packet body.
type cursor struct {
	b   []byte
	err error
}

func (c *cursor) u8() byte {
	if c.err != nil || len(c.b) < 1 {
		c.fail()
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

func (c *cursor) u16() uint16 {
	if c.err != nil || len(c.b) < 2 {
		c.fail()
		return 0
	}
	v := binary.BigEndian.Uint16(c.b)
	c.b = c.b[2:]
	return v
}

func (c *cursor) bytes() []byte {
	n := int(c.u16())
	if c.err != nil || len(c.b) < n {
		c.fail()
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) str() string { return string(c.bytes()) }

func (c *cursor) fail() {
	if c.err == nil {
		c.err = fmt.Errorf("%w: packet body too short", errProtocol)
	}
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(s)))
	return append(dst, s...)
}

// connect is the part of CONNECT the broker uses.
type connect struct {
	protocol  string
	level     byte
	clientID  string
	keepAlive uint16
}

func parseConnect(body []byte) (connect, error) {
	c := cursor{b: body}
	var p connect
	p.protocol = c.str()
	p.level = c.u8()
	flags := c.u8()
	p.keepAlive = c.u16()
	p.clientID = c.str()
	if flags&0x04 != 0 { // will
		c.str()
		c.bytes()
	}
	if flags&0x80 != 0 {
		c.str()
	}
	if flags&0x40 != 0 {
		c.bytes()
	}
	if c.err == nil && flags&0x01 != 0 {
		c.err = fmt.Errorf("%w: CONNECT reserved flag set", errProtocol)
	}
	return p, c.err
}

// publish is a PUBLISH packet.
type publish struct {
	topic   string
	qos     byte
	id      uint16
	payload []byte
}

func parsePublish(p packet) (publish, error) {
	c := cursor{b: p.body}
	pub := publish{qos: (p.flags >> 1) & 3}
	pub.topic = c.str()
	if pub.qos > 0 {
		pub.id = c.u16()
	}
	if pub.qos == 3 {
		return pub, fmt.Errorf("%w: PUBLISH with QoS 3", errProtocol)
	}
	pub.payload = c.b
	return pub, c.err
}

func encodePublish(topic string, qos byte, id uint16, payload []byte) []byte {
	body := appendStr(nil, topic)
	if qos > 0 {
		body = binary.BigEndian.AppendUint16(body, id)
	}
	body = append(body, payload...)
	return appendPacket(nil, pktPublish, qos<<1, body)
}

// subscription is one topic filter of a SUBSCRIBE.
type subscription struct {
	filter string
	qos    byte
}

func parseSubscribe(p packet) (uint16, []subscription, error) {
	c := cursor{b: p.body}
	id := c.u16()
	var subs []subscription
	for c.err == nil && len(c.b) > 0 {
		f := c.str()
		q := c.u8()
		subs = append(subs, subscription{filter: f, qos: q & 3})
	}
	if c.err == nil && len(subs) == 0 {
		c.err = fmt.Errorf("%w: SUBSCRIBE without topic filters", errProtocol)
	}
	return id, subs, c.err
}

func parseUnsubscribe(p packet) (uint16, []string, error) {
	c := cursor{b: p.body}
	id := c.u16()
	var filters []string
	for c.err == nil && len(c.b) > 0 {
		filters = append(filters, c.str())
	}
	return id, filters, c.err
}

// topicMatch reports whether an MQTT topic filter matches a topic.
func topicMatch(filter, topic string) bool {
	for {
		fl, frest, fmore := cut(filter)
		tl, trest, tmore := cut(topic)
		switch {
		case fl == "#":
			return true
		case fl != "+" && fl != tl:
			return false
		}
		if !fmore || !tmore {
			return !fmore && !tmore || (fmore && frest == "#")
		}
		filter, topic = frest, trest
	}
}

func cut(s string) (head, rest string, more bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
