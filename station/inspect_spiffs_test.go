package station

import (
	"bytes"
	"errors"
	"testing"

	"fleetline/firmware/spiffs"
)

func TestInspectSPIFFS(t *testing.T) {
	cfg := spiffs.DefaultConfig()
	cfg.ObjNameLen = spiffs.FactoryObjNameLen
	files := spiffs.FactoryFiles([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
		[]byte("claim key bytes"), "FleetTemplate", "SL000000007", "iot.example")
	img, err := spiffs.Build(files, 0x10000, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := InspectSPIFFS(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fc.SN != "SL000000007" || fc.ProvTemplate != "FleetTemplate" || !fc.ClaimCert || !fc.ClaimKey {
		t.Fatalf("contents %+v", fc)
	}
	// With the claim files gone (what the firmware leaves after provisioning)
	// the read-back shows them erased.
	img, err = spiffs.Build(files[2:], 0x10000, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fc, err = InspectSPIFFS(img, cfg); err != nil || fc.ClaimCert || fc.ClaimKey || fc.SN != "SL000000007" {
		t.Fatalf("after erase: %+v %v", fc, err)
	}
	// A claim key whose file is there but does not read whole (its data
	// page overwritten) is not erased: its bytes may still be on flash.
	img, err = spiffs.Build(files, 0x10000, cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(img, []byte("claim key bytes"))
	if at < 0 {
		t.Fatal("claim key not found in the built image")
	}
	copy(img[at-5:at], make([]byte, 5)) // the data page's header
	fs, err := spiffs.Parse(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Open(spiffs.ClaimKeyFile); err == nil || errors.Is(err, spiffs.ErrNotFound) {
		t.Fatalf("damaged claim key opens with %v; the test needs a file that does not read whole", err)
	}
	if fc, err = InspectSPIFFS(img, cfg); err != nil || !fc.ClaimKey {
		t.Fatalf("damaged claim key: %+v %v", fc, err)
	}
	if _, err := InspectSPIFFS(make([]byte, 0x10000), cfg); err == nil {
		t.Fatal("a blank partition read as SPIFFS")
	}
}
