package selftest

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

const testCert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUK1\n-----END CERTIFICATE-----\n"

// goldenMessages covers every message type with its fields set.
var goldenMessages = []Message{
	Hello{Firmware: "1.4.2", Project: "fleetline-fct", IDF: "v5.2.1", Chip: "esp32s3", MAC: "24:0a:c4:12:34:56", SN: "FL24-000123-7", Template: "FleetlineProvisioning", Mode: ModeNormal},
	Hello{Firmware: "1.4.2", Chip: "esp32", MAC: "24:0a:c4:12:34:57", SN: "FL24-000124-5", Template: "T", Mode: ModeRetest, ThingName: "FL24-000124-5", CertSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
	Clock{UnixMillis: 1796300000000, UTC: "2026-12-03T11:33:20Z"},
	Test{Name: "vdd_3v3", Value: 3.31, Unit: "V", Low: 3.135, High: 3.465, Pass: true},
	Test{Name: "wifi_rssi", Value: -91, Unit: "dBm", Low: -80, High: 0, Pass: false, Text: "FLEETLINE-TEST"},
	Prov{Step: StepKeyGenerated, PublicKeySHA256: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"},
	Prov{Step: StepCSRCreated},
	Prov{Step: StepCertReceived, CertificateID: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"},
	Prov{Step: StepThingRegistered, ThingName: "FL24-000123-7"},
	Prov{Step: StepClaimErased},
	ProvResult{OK: true, ThingName: "FL24-000123-7", CertificateID: "0f1e"},
	ProvResult{OK: false, Op: "RegisterThing", StatusCode: 403, ErrorCode: "AccessDenied", ErrorMessage: "Pre-provisioning hook denied provisioning"},
	ProvResult{OK: false, Op: "connect", Error: "x509: certificate has expired or is not yet valid"},
	Cert{CertificateID: "0f1e", PEM: testCert},
	Verdict{Pass: true},
	Verdict{Pass: false, Reason: "test vdd_3v3 out of limits"},
	Time{UnixMillis: 1796300000000, UTC: "2026-12-03T11:33:20Z"},
	Start{},
	Retest{},
}

func encodeAll(t *testing.T, msgs []Message) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, m := range msgs {
		line, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode(%#v): %v", m, err)
		}
		b.Write(line)
	}
	return b.Bytes()
}

func TestGoldenLines(t *testing.T) {
	got := encodeAll(t, goldenMessages)
	path := filepath.Join("testdata", "golden.txt")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encoded lines differ from %s (go test -update rewrites it)\ngot:\n%s", path, got)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(want), "\n"), "\n")
	if len(lines) != len(goldenMessages) {
		t.Fatalf("%s has %d lines, want %d", path, len(lines), len(goldenMessages))
	}
	for i, line := range lines {
		m, err := DecodeLine([]byte(line))
		if err != nil {
			t.Errorf("line %d: %v", i+1, err)
			continue
		}
		if !reflect.DeepEqual(m, goldenMessages[i]) {
			t.Errorf("line %d decodes to %#v, want %#v", i+1, m, goldenMessages[i])
		}
	}
}

func TestChecksumCheckValue(t *testing.T) {
	if got := Checksum([]byte("123456789")); got != 0xcbf43926 {
		t.Fatalf("CRC-32 check value = %08x, want cbf43926", got)
	}
}

func TestDecodeLine(t *testing.T) {
	ok := `@FCT1 {"type":"verdict","pass":true} *`
	good := ok + crcHex(`{"type":"verdict","pass":true}`)
	tests := []struct {
		name string
		line string
		want Message
		err  error
	}{
		{"plain log", "I (312) cpu_start: Starting scheduler on PRO CPU.", nil, ErrNotMarked},
		{"good", good, Verdict{Pass: true}, nil},
		{"crlf", good + "\r\n", Verdict{Pass: true}, nil},
		{"through ESP_LOGI", "\x1b[0;32mI (1234) fct: " + good + "\x1b[0m", Verdict{Pass: true}, nil},
		{"upper-case hex", ok + strings.ToUpper(crcHex(`{"type":"verdict","pass":true}`)), Verdict{Pass: true}, nil},
		{"extra fields ignored", frameStr(`{"type":"verdict","pass":true,"board_temp":41.5}`), Verdict{Pass: true}, nil},
		{"unknown type", frameStr(`{"type":"battery","mv":3700}`), Unknown{Name: "battery", Body: []byte(`{"type":"battery","mv":3700}`)}, ErrUnknownType},
		{"bad crc", ok + "00000000", nil, ErrChecksum},
		{"truncated", good[:len(good)-3], nil, ErrSyntax},
		{"cut in json", `@FCT1 {"type":"verd`, nil, ErrSyntax},
		{"no space", "@FCT1{}", nil, ErrSyntax},
		{"version 2", "@FCT2 " + `{"type":"verdict","pass":true} *` + crcHex(`{"type":"verdict","pass":true}`), nil, ErrVersion},
		{"not an object", frameStr(`[1,2]`), nil, ErrSyntax},
		{"no type", frameStr(`{"pass":true}`), nil, ErrSyntax},
		{"empty type", frameStr(`{"type":""}`), nil, ErrSyntax},
		{"wrong field type", frameStr(`{"type":"verdict","pass":"yes"}`), nil, ErrSyntax},
		{"bad json", frameStr(`{"type":"verdict",}`), nil, ErrSyntax},
		{"hex not hex", ok + "zzzzzzzz", nil, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeLine([]byte(tt.line))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !reflect.DeepEqual(m, tt.want) {
				t.Fatalf("msg = %#v, want %#v", m, tt.want)
			}
		})
	}
}

// TestCorruptedLines flips every bit of every golden line: the result is
// either rejected or decodes to exactly the original message, never to
// something else.
func TestCorruptedLines(t *testing.T) {
	for _, m := range goldenMessages {
		line, _ := Encode(m)
		line = line[:len(line)-1]
		for i := range line {
			for bit := 0; bit < 8; bit++ {
				bad := append([]byte(nil), line...)
				bad[i] ^= 1 << bit
				got, err := DecodeLine(bad)
				if err == nil && !reflect.DeepEqual(got, m) {
					t.Fatalf("flipping bit %d of byte %d of %q gave %#v", bit, i, line, got)
				}
			}
		}
	}
}

func TestEncodeRejectsNaN(t *testing.T) {
	var zero float64
	if _, err := Encode(Test{Name: "x", Value: zero / zero}); err == nil {
		t.Fatal("Encode of a NaN value succeeded")
	}
}

func TestLooksLikePrivateKey(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"-----BEGIN " + "PRIVATE KEY-----", true},
		{"-----BEGIN " + "EC PRIVATE KEY-----", true},
		{"I (1200) fct: -----BEGIN " + "RSA PRIVATE KEY-----", true},
		{"-----END ENCRYPTED PRIVATE KEY-----", true},
		{"-----BEGIN " + "OPENSSH PRIVATE KEY-----", true},
		{`@FCT1 {"type":"cert","pem":"-----BEGIN ` + `EC PRIVATE KEY-----\nMHc"} *00000000`, true},
		{"MHcCAQEEIBx3kZ1mJ2n0", true},
		{"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXk", true},
		{"-----BEGIN CERTIFICATE-----", false},
		{"-----BEGIN PUBLIC KEY-----", false},
		{"I (312) cpu_start: Starting scheduler", false},
	}
	for _, tt := range tests {
		if got := LooksLikePrivateKey(tt.line); got != tt.want {
			t.Errorf("LooksLikePrivateKey(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func crcHex(body string) string {
	line := frame([]byte(body))
	return string(line[len(line)-9 : len(line)-1])
}

func frameStr(body string) string { return strings.TrimSuffix(string(frame([]byte(body))), "\n") }

// TestErrorsHideDeviceFields: errors quote what a device sent, and errors
// reach logs and events, so key material is redacted and long fields cut.
func TestErrorsHideDeviceFields(t *testing.T) {
	pemType := `-----BEGIN ` + `EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5ZZ8yzXxbaE6toAoGCCqGSM49\n-----END EC PRIVATE KEY-----`
	long := strings.Repeat("x", 200)
	tests := []struct {
		name    string
		line    string
		want    error
		msg     string
		mustNot string
	}{
		{"key as type", frameStr(`{"type":"` + pemType + `"}`), ErrUnknownType, "<redacted: looks like private-key material>", "PRIVATE KEY"},
		{"long type", frameStr(`{"type":"` + long + `"}`), ErrUnknownType, `"` + long[:32] + `"...`, long[:33]},
		{"long version", Marker + long + " {} *00000000", ErrSyntax, "version \"" + long[:32] + "\"... is not a number", long[:33]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeLine([]byte(tc.line))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), tc.mustNot) {
				t.Errorf("error %q: want it to contain %q and not %q", err, tc.msg, tc.mustNot)
			}
		})
	}
}
