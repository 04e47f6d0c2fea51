package selftest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
)

// Version is the protocol version this package speaks, the digits after
// the marker.
const Version = 1

// Marker starts every protocol line; the version follows it directly.
const Marker = "@FCT"

// MaxLineLen bounds one console line. Longer lines are skipped as garbage;
// the largest real message, a Cert, is about 1 KiB.
const MaxLineLen = 16 << 10

var (
	// ErrNotMarked: the line has no marker; it is plain console text.
	ErrNotMarked = errors.New("selftest: not a protocol line")
	// ErrSyntax: the line has the marker but not the framing or the JSON
	// the protocol requires (truncated, garbled, not an object, no type).
	ErrSyntax = errors.New("selftest: malformed protocol line")
	// ErrChecksum: the check value does not match the JSON bytes.
	ErrChecksum = errors.New("selftest: check value mismatch")
	// ErrVersion: the marker names a protocol version other than Version.
	ErrVersion = errors.New("selftest: unsupported protocol version")
	// ErrUnknownType: a well-formed line of a type this package does not
	// know; the message is returned as *Unknown alongside the error.
	ErrUnknownType = errors.New("selftest: unknown message type")
	// ErrTooLong: the line exceeded MaxLineLen and was skipped.
	ErrTooLong = errors.New("selftest: console line too long")
)

var prefix = []byte(Marker + strconv.Itoa(Version) + " ")

// Checksum is the line's check value: CRC-32/ISO-HDLC of the JSON bytes.
func Checksum(body []byte) uint32 { return crc32.ChecksumIEEE(body) }

// Encode renders m as one protocol line, "\n" included. It fails only when
// m cannot be marshalled (a NaN or infinite Test value).
func Encode(m Message) ([]byte, error) {
	body, err := marshalBody(m)
	if err != nil {
		return nil, fmt.Errorf("selftest: encode %s: %w", m.Type(), err)
	}
	return frame(body), nil
}

// frame wraps a JSON body in the marker and check value.
func frame(body []byte) []byte {
	out := make([]byte, 0, len(prefix)+len(body)+12)
	out = append(out, prefix...)
	out = append(out, body...)
	out = fmt.Appendf(out, " *%08x\n", Checksum(body))
	return out
}

// marshalBody renders m's JSON object with "type" as its first field.
func marshalBody(m Message) ([]byte, error) {
	if u, ok := m.(Unknown); ok {
		return compact(u.Body)
	}
	fields, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	typ, _ := json.Marshal(m.Type())
	out := append([]byte(`{"type":`), typ...)
	if len(fields) > 2 { // more than "{}"
		out = append(out, ',')
	}
	return append(out, fields[1:]...), nil
}

func compact(body []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, body); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DecodeLine decodes one console line (with or without its line ending).
// It returns ErrNotMarked for plain text, ErrSyntax, ErrChecksum or
// ErrVersion for a rejected protocol line (and a nil Message), and an
// Unknown with ErrUnknownType for a valid line of an unknown type.
func DecodeLine(line []byte) (Message, error) {
	at := bytes.Index(line, []byte(Marker))
	if at < 0 {
		return nil, ErrNotMarked
	}
	rest := trimEnd(line[at+len(Marker):])
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return nil, fmt.Errorf("%w: no space after version", ErrSyntax)
	}
	ver, err := strconv.Atoi(string(rest[:sp]))
	if err != nil || ver < 0 {
		return nil, fmt.Errorf("%w: version %s is not a number", ErrSyntax, quoteField(string(rest[:sp])))
	}
	rest = rest[sp+1:]
	star := bytes.LastIndex(rest, []byte(" *"))
	if star < 0 || len(rest)-star-2 != 8 {
		return nil, fmt.Errorf("%w: no \" *\" and 8-digit check value at the end", ErrSyntax)
	}
	body, sum := rest[:star], rest[star+2:]
	want, err := strconv.ParseUint(string(sum), 16, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: check value %q is not hex", ErrSyntax, sum)
	}
	if Checksum(body) != uint32(want) {
		return nil, fmt.Errorf("%w: line says %08x, JSON is %08x", ErrChecksum, want, Checksum(body))
	}
	if ver != Version {
		return nil, fmt.Errorf("%w: %d (this station speaks %d)", ErrVersion, ver, Version)
	}
	return decodeBody(body)
}

// decodeBody turns a verified JSON object into its Message.
func decodeBody(body []byte) (Message, error) {
	var head struct {
		Type *string `json:"type"`
	}
	if len(body) == 0 || body[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrSyntax)
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if head.Type == nil || *head.Type == "" {
		return nil, fmt.Errorf("%w: no \"type\" field", ErrSyntax)
	}
	decode, ok := decoders[*head.Type]
	if !ok {
		raw := append(json.RawMessage(nil), body...)
		return Unknown{Name: *head.Type, Body: raw}, fmt.Errorf("%w: %s", ErrUnknownType, quoteField(*head.Type))
	}
	m, err := decode(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSyntax, *head.Type, err)
	}
	return m, nil
}

// trimEnd drops the line ending, trailing blanks and ANSI SGR sequences
// (ESP_LOGx ends its lines with "\x1b[0m").
func trimEnd(b []byte) []byte {
	for {
		n := len(b)
		b = bytes.TrimRight(b, " \t\r\n")
		if i := bytes.LastIndex(b, []byte("\x1b[")); i >= 0 && len(b) > i+2 && b[len(b)-1] == 'm' && isSGR(b[i+2:len(b)-1]) {
			b = b[:i]
		}
		if len(b) == n {
			return b
		}
	}
}

func isSGR(p []byte) bool {
	for _, c := range p {
		if (c < '0' || c > '9') && c != ';' {
			return false
		}
	}
	return true
}
