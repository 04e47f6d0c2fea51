package station

import (
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
	if _, err := InspectSPIFFS(make([]byte, 0x10000), cfg); err == nil {
		t.Fatal("a blank partition read as SPIFFS")
	}
}
