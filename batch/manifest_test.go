package batch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadExample(t *testing.T) {
	m, err := Load("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("testdata")
	checks := []struct {
		name      string
		got, want any
	}{
		{"batch", m.Batch, "WO-2026-0042"},
		{"quantity", m.Quantity, 500},
		{"bundle resolved", m.Bundle, filepath.Join(dir, "build")},
		{"claim key resolved", m.Claim.Key, filepath.Join(dir, "claim/claim.key.pem")},
		{"capacity", m.Serial.Capacity(), uint64(10000)},
		{"extra", m.Factory.Extra["lot"], "L2649"},
		{"vdd unit", m.Limits["vdd"].Unit, "V"},
		{"flash timeout", m.Timeouts.Flash, 3 * time.Minute},
		{"backoff", m.Retry.Backoff, 2 * time.Second},
		{"thing", m.ThingName("FL1"), "sensor-FL1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !m.Limits["vdd"].Check(3.3) || m.Limits["vdd"].Check(3.5) {
		t.Error("vdd limit check wrong")
	}
}

const minimal = `batch = "B1"
bundle = "b"
quantity = 2
[serial]
template = "S{seq:04}"
start = 1
end = 10
[claim]
cert = "c.pem"
key = "k.pem"
template = "T"
endpoint = "localhost:8883"
[device]
ca_bundle = "ca.pem"
`

func TestParseDefaults(t *testing.T) {
	m, err := Parse([]byte(minimal), "/x")
	if err != nil {
		t.Fatal(err)
	}
	if m.Baud != DefaultBaud || m.AppBaud != DefaultAppBaud || m.Factory.Partition != DefaultPartition ||
		m.Retry.MaxAttempts != DefaultMaxAttempts || m.Quarantine.After != DefaultQuarantine ||
		m.Timeouts != DefaultTimeouts || m.Device.ThingPattern != "{SN}" || m.Factory.Format != "nvs" {
		t.Errorf("defaults not applied: %+v", m)
	}
	if m.Claim.Cert != "/x/c.pem" {
		t.Errorf("cert path %q", m.Claim.Cert)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown top key", "colour = \"red\"\n" + minimal, []string{`line 1: unknown key "colour"`}},
		{"unknown nested key", strings.Replace(minimal, "[device]\n", "[device]\nca_bundel = \"x\"\n", 1), []string{`line 14: unknown key "device.ca_bundel"`}},
		{"unknown limit key", minimal + "[limits.vdd]\nlow = 1.0\nhihg = 2.0\n", []string{`line 17: unknown key "limits.vdd.hihg"`}},
		{"syntax", "batch = \n", []string{"line 1"}},
		{"missing", "quantity = 0\n", []string{`"batch" is required`, `"claim.key" is required`, "quantity must be positive"}},
		{"bad format", minimal + "[factory]\nformat = \"fat\"\n", []string{"factory.format"}},
		{"limits inverted", minimal + "[limits.v]\nlow = 2.0\nhigh = 1.0\n", []string{"low 2 is above high 1"}},
		{"pattern", minimal[:len(minimal)-1] + "\nthing_pattern = \"x\"\n", []string{"must contain {SN}"}},
		{"bad duration", minimal + "[timeouts]\nflash = \"soon\"\n", []string{"soon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "/x")
			if !errors.Is(err, ErrManifest) {
				t.Fatalf("err = %v, want ErrManifest", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.toml")); !errors.Is(err, ErrManifest) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	if b, err := os.ReadFile("testdata/example.toml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("[a]\nb = 1\n[[c]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "/x")
		if err == nil && (m.Batch == "" || m.Quantity <= 0) {
			t.Fatalf("accepted a manifest without batch/quantity")
		}
	})
}
