package cloud

import (
	"bufio"
	"bytes"
	"testing"
	"testing/iotest"
)

func TestTopicMatch(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/#", "a/b/c", true},
		{"a/#", "a", true},
		{"#", "a/b", true},
		{"$aws/certificates/create-from-csr/json/+", "$aws/certificates/create-from-csr/json/accepted", true},
		{"a/b/c", "a/b", false},
		{"a/b", "a/b/c", false},
	}
	for _, tt := range tests {
		if got := topicMatch(tt.filter, tt.topic); got != tt.want {
			t.Errorf("topicMatch(%q, %q) = %v", tt.filter, tt.topic, got)
		}
	}
}

func TestClaimPolicy(t *testing.T) {
	pub := map[string]bool{
		TopicCreateFromCSR:                               true,
		TopicCreateKeys:                                  true,
		TopicRegisterThing("T_1-x"):                      true,
		"$aws/things/x/shadow/get":                       false,
		TopicCreateFromCSR + "/cbor":                     false,
		"$aws/provisioning-templates/a b/provision/json": false,
	}
	for topic, want := range pub {
		if claimMayPublish(topic) != want {
			t.Errorf("claimMayPublish(%q) != %v", topic, want)
		}
	}
	sub := map[string]bool{
		TopicCreateFromCSR + "/accepted":       true,
		TopicCreateKeys + "/rejected":          true,
		TopicRegisterThing("T") + "/+":         true,
		TopicRegisterThing("T") + "/#":         true,
		TopicCreateFromCSR:                     false,
		"#":                                    false,
		"$aws/certificates/+/json/accepted":    false,
		TopicRegisterThing("T") + "/something": false,
	}
	for filter, want := range sub {
		if claimMaySubscribe(filter) != want {
			t.Errorf("claimMaySubscribe(%q) != %v", filter, want)
		}
	}
}

func TestPacketRoundTrip(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 300) // two-byte remaining length
	raw := encodePublish("a/b", 1, 7, payload)
	p, err := readPacket(bufio.NewReader(iotest.OneByteReader(bytes.NewReader(raw))))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := parsePublish(p)
	if err != nil || pub.topic != "a/b" || pub.qos != 1 || pub.id != 7 || !bytes.Equal(pub.payload, payload) {
		t.Fatalf("%+v, %v", pub, err)
	}
}

// FuzzPackets feeds arbitrary bytes to the packet reader and every body
// parser: they must fail cleanly, never panic.
func FuzzPackets(f *testing.F) {
	f.Add(encodePublish("a/b", 1, 7, []byte("{}")))
	f.Add(appendPacket(nil, pktConnect, 0, append(appendStr(nil, "MQTT"), 4, 2, 0, 60, 0, 1, 'c')))
	f.Add(appendPacket(nil, pktSubscribe, 2, append([]byte{0, 1}, append(appendStr(nil, "a/#"), 1)...)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			p, err := readPacket(r)
			if err != nil {
				return
			}
			_, _ = parseConnect(p.body)
			_, _ = parsePublish(p)
			_, _, _ = parseSubscribe(p)
			_, _, _ = parseUnsubscribe(p)
		}
	})
}
