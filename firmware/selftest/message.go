package selftest

import (
	"encoding/json"
	"time"
)

// Message is one protocol message, board→station or station→board. Type
// returns the value of the JSON "type" field.
type Message interface {
	Type() string
}

// Message type names, the values of the JSON "type" field.
const (
	TypeHello      = "hello"
	TypeClock      = "clock"
	TypeTest       = "test"
	TypeProv       = "prov"
	TypeProvResult = "prov_result"
	TypeCert       = "cert"
	TypeVerdict    = "verdict"
	TypeTime       = "time"
	TypeStart      = "start"
	TypeRetest     = "retest"
)

// Boot modes a board announces in Hello.
const (
	ModeNormal = "normal" // factory data holds claim credentials: test and provision
	ModeRetest = "retest" // NVS already holds a device certificate: test only
)

// Hello is the board's first message after boot: who it is, read from its
// eFuses, its app descriptor and its factory NVS.
type Hello struct {
	Firmware string `json:"fw"`                // app version (esp_app_desc_t.version)
	Project  string `json:"project,omitempty"` // app project name
	IDF      string `json:"idf,omitempty"`     // ESP-IDF version the app was built with
	Chip     string `json:"chip"`              // "esp32", "esp32s3", "esp32c3"
	MAC      string `json:"mac"`               // base MAC, lower-case colon-separated
	SN       string `json:"sn"`                // serial number from factory NVS
	Template string `json:"template"`          // provisioning template from factory NVS
	Mode     string `json:"mode"`              // ModeNormal or ModeRetest
	// ThingName and CertSHA256 are set once the board holds a device
	// certificate (retest): the thing it registered and the SHA-256 of the
	// certificate's DER, lower-case hex.
	ThingName  string `json:"thing_name,omitempty"`
	CertSHA256 string `json:"cert_sha256,omitempty"`
}

// Clock is the board's clock right after it applied the station's Time, so
// a board whose clock did not take shows up before TLS fails.
type Clock struct {
	UnixMillis int64  `json:"unix_ms"`
	UTC        string `json:"utc"` // RFC 3339
}

// Test is one self-test measurement with its limits. Pass is the board's
// own judgement; the station re-checks Value against Low and High.
type Test struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
	Pass  bool    `json:"pass"`
	Text  string  `json:"text,omitempty"` // optional detail, e.g. the SSID found
}

// Provisioning steps, the values of Prov.Step, in the order they happen.
const (
	StepKeyGenerated    = "key_generated"
	StepCSRCreated      = "csr_created"
	StepCertReceived    = "cert_received"
	StepThingRegistered = "thing_registered"
	StepClaimErased     = "claim_erased"
)

// Prov reports one provisioning step as it completes.
type Prov struct {
	Step string `json:"step"`
	// PublicKeySHA256 (key_generated): SHA-256 of the new key's
	// SubjectPublicKeyInfo DER, hex, for the station's duplicate-key check.
	PublicKeySHA256 string `json:"pubkey_sha256,omitempty"`
	CertificateID   string `json:"certificate_id,omitempty"` // cert_received
	ThingName       string `json:"thing_name,omitempty"`     // thing_registered
}

// ProvResult ends provisioning. When the cloud rejected a request, Op names
// the operation and StatusCode, ErrorCode and ErrorMessage carry its rejected
// payload verbatim; a local failure (TLS, storage) sets Error instead.
type ProvResult struct {
	OK            bool   `json:"ok"`
	ThingName     string `json:"thing_name,omitempty"`
	CertificateID string `json:"certificate_id,omitempty"`
	Op            string `json:"op,omitempty"` // "connect", "CreateCertificateFromCsr", "RegisterThing", "store"
	StatusCode    int    `json:"statusCode,omitempty"`
	ErrorCode     string `json:"errorCode,omitempty"`
	ErrorMessage  string `json:"errorMessage,omitempty"`
	Error         string `json:"error,omitempty"`
}

// Cert carries the device certificate the board holds (public, never the key).
type Cert struct {
	CertificateID string `json:"certificate_id,omitempty"`
	PEM           string `json:"pem"`
}

// Verdict is the board's last message: the whole first boot passed or not.
type Verdict struct {
	Pass   bool   `json:"pass"`
	Reason string `json:"reason,omitempty"`
}

// Time is the station's current UTC time, sent before Start or Retest.
// The board uses UnixMillis; UTC is the same instant for humans.
type Time struct {
	UnixMillis int64  `json:"unix_ms"`
	UTC        string `json:"utc"` // RFC 3339
}

// Start tells the board to run its self test and provision.
type Start struct{}

// Retest tells the board to report its identity and run its tests without
// provisioning.
type Retest struct{}

// Unknown is a well-formed line whose type this package does not know.
type Unknown struct {
	Name string          // the "type" field
	Body json.RawMessage // the whole JSON object
}

// Type implements Message.
func (Hello) Type() string { return TypeHello }

// Type implements Message.
func (Clock) Type() string { return TypeClock }

// Type implements Message.
func (Test) Type() string { return TypeTest }

// Type implements Message.
func (Prov) Type() string { return TypeProv }

// Type implements Message.
func (ProvResult) Type() string { return TypeProvResult }

// Type implements Message.
func (Cert) Type() string { return TypeCert }

// Type implements Message.
func (Verdict) Type() string { return TypeVerdict }

// Type implements Message.
func (Time) Type() string { return TypeTime }

// Type implements Message.
func (Start) Type() string { return TypeStart }

// Type implements Message.
func (Retest) Type() string { return TypeRetest }

// Type implements Message.
func (u Unknown) Type() string { return u.Name }

// decoders maps each known type name to its JSON decoder; one table, so a
// new message type is registered in one place.
var decoders = map[string]func([]byte) (Message, error){
	TypeHello:      decodeAs[Hello],
	TypeClock:      decodeAs[Clock],
	TypeTest:       decodeAs[Test],
	TypeProv:       decodeAs[Prov],
	TypeProvResult: decodeAs[ProvResult],
	TypeCert:       decodeAs[Cert],
	TypeVerdict:    decodeAs[Verdict],
	TypeTime:       decodeAs[Time],
	TypeStart:      decodeAs[Start],
	TypeRetest:     decodeAs[Retest],
}

// decodeAs unmarshals a JSON object into a T and returns it by value.
func decodeAs[T Message](body []byte) (Message, error) {
	var m T
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// NewTime returns the Time message for t.
func NewTime(t time.Time) Time {
	return Time{UnixMillis: t.UnixMilli(), UTC: t.UTC().Format(time.RFC3339Nano)}
}

// At returns the instant a Time message carries.
func (m Time) At() time.Time { return time.UnixMilli(m.UnixMillis).UTC() }
