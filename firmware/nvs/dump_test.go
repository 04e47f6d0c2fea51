package nvs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDumpRedactsAndSummarises(t *testing.T) {
	key := testKeyPEM(t)
	img, err := Build([]Entry{
		BlobEntry("fctry", KeyClaimCert, testCertPEM),
		BlobEntry("fctry", KeyClaimKey, key),
		Str("fctry", "key_as_string", string(key)),
		Str("fctry", KeySerialNo, "SN-1"),
		Int("fctry", "temp", I16, -40),
	}, 0x3000, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := newNOR(t, 0x3000)
	copy(f.mem, img)
	s, err := Open(f, 0, 0x3000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Erase("fctry", KeyClaimKey); err != nil {
		t.Fatal(err)
	}
	d := MakeDump(s.Partition())
	var text, js bytes.Buffer
	if err := d.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "json": js.String()} {
		if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, string(key[30:60])) {
			t.Errorf("%s dump leaks the private key:\n%s", name, out)
		}
	}
	for _, want := range []string{"active", `"SN-1"`, "-40", "<private key, ", "redacted>", "<blob, 63 bytes, sha256 ", "erased entries: 1", `key "claim_key" (blob_index)`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text dump lacks %q:\n%s", want, text.String())
		}
	}
	var back Dump
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Entries) != 4 || !back.Entries[1].Redacted || back.Entries[1].Value != nil {
		t.Errorf("json entries %+v", back.Entries)
	}
	t.Log(text.String())
}
