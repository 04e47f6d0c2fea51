package batch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Manifest is one work order, as decoded from its TOML file. Paths in it
// are resolved against the manifest's directory by Load.
type Manifest struct {
	Batch    string `toml:"batch"`    // work-order id, unique per audit log
	Product  string `toml:"product"`  // product name shown to the operator
	Bundle   string `toml:"bundle"`   // ESP-IDF build dir, flasher_args.json or bundle manifest
	Chip     string `toml:"chip"`     // expected target ("esp32", "esp32s3"); empty: the bundle's
	Quantity int    `toml:"quantity"` // units to build
	Operator string `toml:"operator"` // default operator id (the shift may set another)
	Station  string `toml:"station"`  // station id recorded with every attempt

	Baud    int    `toml:"baud"`     // flashing baud
	AppBaud int    `toml:"app_baud"` // console baud of the factory firmware
	Reset   string `toml:"reset"`    // reset strategy: classic, usb-jtag, none, or a sequence string

	Serial     Serial           `toml:"serial"`
	Claim      Claim            `toml:"claim"`
	Factory    Factory          `toml:"factory"`
	Device     Device           `toml:"device"`
	Limits     map[string]Limit `toml:"limits"`
	Timeouts   Timeouts         `toml:"timeouts"`
	Retry      Retry            `toml:"retry"`
	Quarantine Quarantine       `toml:"quarantine"`

	// Path is the manifest file the manifest was loaded from; Dir its
	// directory, against which relative paths were resolved.
	Path string `toml:"-"`
	Dir  string `toml:"-"`
}

// Serial is the SN template and the range of sequence numbers the batch may
// use. Capacity is End-Start+1.
type Serial struct {
	Template string `toml:"template"` // serialno template, e.g. "FL{yy}{ww}-{seq:06}"
	Start    uint64 `toml:"start"`    // first sequence number
	End      uint64 `toml:"end"`      // last sequence number, inclusive
	Lot      string `toml:"lot"`      // lot code for {lot} fields
}

// Capacity returns how many SNs the range holds.
func (s Serial) Capacity() uint64 {
	if s.End < s.Start {
		return 0
	}
	return s.End - s.Start + 1
}

// Claim is the fleet-provisioning claim the factory firmware uses on its
// first boot: certificate and key files, the provisioning template and the
// IoT endpoint.
type Claim struct {
	Cert     string `toml:"cert"`     // PEM certificate file
	Key      string `toml:"key"`      // PEM private key file (never logged)
	Template string `toml:"template"` // provisioning template name
	Endpoint string `toml:"endpoint"` // IoT data endpoint host[:port]
}

// Factory is the layout of the per-device factory data partition.
type Factory struct {
	Format    string            `toml:"format"`    // "nvs" (default) or "spiffs"
	Partition string            `toml:"partition"` // partition label, default "fctry"
	Namespace string            `toml:"namespace"` // NVS namespace, default "fctry"
	Extra     map[string]string `toml:"extra"`     // extra string keys written with the SN
	// ObjNameLen is CONFIG_SPIFFS_OBJ_NAME_LEN of the firmware, for the
	// spiffs format (default 32, ESP-IDF's; the factory file names need 40).
	ObjNameLen int `toml:"obj_name_len"`
}

// Device says what the board's provisioning report must satisfy.
type Device struct {
	CABundle     string `toml:"ca_bundle"`     // PEM file: device certificates must chain to it
	ThingPattern string `toml:"thing_pattern"` // expected thing name, "{SN}" replaced; default "{SN}"
}

// Limit is one self-test's acceptance window. A nil bound is open.
type Limit struct {
	Low  *float64 `toml:"low"`
	High *float64 `toml:"high"`
	Unit string   `toml:"unit"`
}

// Check reports whether v is within the limit.
func (l Limit) Check(v float64) bool {
	if l.Low != nil && v < *l.Low {
		return false
	}
	if l.High != nil && v > *l.High {
		return false
	}
	return true
}

// Timeouts bound each long step of one attempt.
type Timeouts struct {
	Connect   time.Duration `toml:"connect"`    // reset + SYNC + identify
	Flash     time.Duration `toml:"flash"`      // write + verify of every region
	FirstBoot time.Duration `toml:"first_boot"` // reset into the app until its hello
	Provision time.Duration `toml:"provision"`  // hello until the verdict (tests + provisioning)
}

// Retry is the per-board retry policy for transient failures.
type Retry struct {
	MaxAttempts int           `toml:"max_attempts"` // attempts per board, first included
	Backoff     time.Duration `toml:"backoff"`      // wait before the first retry, doubled after
}

// Quarantine is the slot-health policy.
type Quarantine struct {
	After int `toml:"after"` // consecutive failed boards that quarantine a slot; 0 = never
}

// Defaults applied by Load for keys the manifest leaves out.
const (
	DefaultBaud        = 921600
	DefaultAppBaud     = 115200
	DefaultPartition   = "fctry"
	DefaultNamespace   = "fctry"
	DefaultMaxAttempts = 3
	DefaultQuarantine  = 3
)

// Default timeouts.
var DefaultTimeouts = Timeouts{
	Connect:   15 * time.Second,
	Flash:     3 * time.Minute,
	FirstBoot: 20 * time.Second,
	Provision: 90 * time.Second,
}

// ErrManifest is wrapped by every manifest decoding or shape error.
var ErrManifest = errors.New("invalid manifest")

// Load reads, strictly decodes, defaults and shape-checks the manifest at
// path, resolving relative paths against the manifest's directory.
func Load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrManifest, path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	m, err := Parse(data, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Path = abs
	return m, nil
}

// Parse decodes a manifest from data; relative paths are resolved against
// dir. Unknown keys are errors naming the key and its line.
func Parse(data []byte, dir string) (*Manifest, error) {
	var m Manifest
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&m)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: line %d: %s", ErrManifest, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		var msgs []string
		for _, k := range und {
			msgs = append(msgs, fmt.Sprintf("line %d: unknown key %q", keyLine(data, k), k.String()))
		}
		return nil, fmt.Errorf("%w: %s", ErrManifest, strings.Join(msgs, "; "))
	}
	m.Dir = dir
	m.applyDefaults()
	if err := m.check(); err != nil {
		return nil, err
	}
	m.resolve(dir)
	return &m, nil
}

func (m *Manifest) applyDefaults() {
	if m.Baud == 0 {
		m.Baud = DefaultBaud
	}
	if m.AppBaud == 0 {
		m.AppBaud = DefaultAppBaud
	}
	if m.Reset == "" {
		m.Reset = "classic"
	}
	if m.Factory.Format == "" {
		m.Factory.Format = "nvs"
	}
	if m.Factory.Partition == "" {
		m.Factory.Partition = DefaultPartition
	}
	if m.Factory.Namespace == "" {
		m.Factory.Namespace = DefaultNamespace
	}
	if m.Device.ThingPattern == "" {
		m.Device.ThingPattern = "{SN}"
	}
	d := DefaultTimeouts
	for _, p := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&m.Timeouts.Connect, d.Connect}, {&m.Timeouts.Flash, d.Flash}, {&m.Timeouts.FirstBoot, d.FirstBoot}, {&m.Timeouts.Provision, d.Provision}} {
		if *p.v == 0 {
			*p.v = p.def
		}
	}
	if m.Retry.MaxAttempts == 0 {
		m.Retry.MaxAttempts = DefaultMaxAttempts
	}
	if m.Retry.Backoff == 0 {
		m.Retry.Backoff = time.Second
	}
	if m.Quarantine.After == 0 {
		m.Quarantine.After = DefaultQuarantine
	}
}

// check validates the manifest's shape: required keys and value ranges.
// What needs the outside world (files, dates, the database) is pre-flight.
func (m *Manifest) check() error {
	var errs []string
	need := func(v, key string) {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Sprintf("%q is required", key))
		}
	}
	need(m.Batch, "batch")
	need(m.Bundle, "bundle")
	need(m.Serial.Template, "serial.template")
	need(m.Claim.Cert, "claim.cert")
	need(m.Claim.Key, "claim.key")
	need(m.Claim.Template, "claim.template")
	need(m.Claim.Endpoint, "claim.endpoint")
	need(m.Device.CABundle, "device.ca_bundle")
	if m.Quantity <= 0 {
		errs = append(errs, fmt.Sprintf("quantity must be positive (got %d)", m.Quantity))
	}
	if m.Serial.End < m.Serial.Start {
		errs = append(errs, fmt.Sprintf("serial.end %d is before serial.start %d", m.Serial.End, m.Serial.Start))
	}
	if f := m.Factory.Format; f != "nvs" && f != "spiffs" {
		errs = append(errs, fmt.Sprintf("factory.format must be \"nvs\" or \"spiffs\" (got %q)", f))
	}
	if len(m.Factory.Namespace) > 15 {
		errs = append(errs, fmt.Sprintf("factory.namespace %q is longer than NVS's 15 characters", m.Factory.Namespace))
	}
	for k := range m.Factory.Extra {
		if len(k) > 15 || k == "" {
			errs = append(errs, fmt.Sprintf("factory.extra key %q must be 1-15 characters (an NVS key)", k))
		}
	}
	if m.Retry.MaxAttempts < 1 || m.Retry.Backoff < 0 || m.Quarantine.After < 0 {
		errs = append(errs, "retry.max_attempts must be >= 1, retry.backoff and quarantine.after >= 0")
	}
	for name, l := range m.Limits {
		if l.Low != nil && l.High != nil && *l.Low > *l.High {
			errs = append(errs, fmt.Sprintf("limits.%s: low %g is above high %g", name, *l.Low, *l.High))
		}
	}
	if !strings.Contains(m.Device.ThingPattern, "{SN}") {
		errs = append(errs, fmt.Sprintf("device.thing_pattern %q must contain {SN}", m.Device.ThingPattern))
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("%w: %s", ErrManifest, strings.Join(errs, "; "))
	}
	return nil
}

func (m *Manifest) resolve(dir string) {
	for _, p := range []*string{&m.Bundle, &m.Claim.Cert, &m.Claim.Key, &m.Device.CABundle} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// ThingName returns the thing name the device with this SN must report.
func (m *Manifest) ThingName(sn string) string {
	return strings.ReplaceAll(m.Device.ThingPattern, "{SN}", sn)
}

// keyLine finds the line a key was written on, tracking table headers as it
// scans; 0 when it cannot tell. The decoder keeps key positions private.
func keyLine(data []byte, key toml.Key) int {
	if len(key) == 0 {
		return 0
	}
	var table string
	want := key.String()
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			h := strings.Trim(strings.SplitN(line, "#", 2)[0], " []\t")
			h = strings.ReplaceAll(h, " ", "")
			table = h
			if h == want {
				return i + 1
			}
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			continue
		}
		k := strings.ReplaceAll(strings.TrimSpace(line[:eq]), " ", "")
		full := k
		if table != "" {
			full = table + "." + k
		}
		if full == want || strings.HasPrefix(want, full+".") {
			return i + 1
		}
	}
	return 0
}
