package factoryapp

import (
	"errors"
	"testing"

	"fleetline/firmware/nvs"
	"fleetline/firmware/selftest"
	"fleetline/firmware/spiffs"
)

// spiffsCSV has no factory NVS partition: the batch wrote the factory files
// to SPIFFS and the device credentials go to the app's NVS.
const spiffsCSV = `
nvs,      data, nvs,     0x9000,   0x6000,
phy_init, data, phy,     0xf000,   0x1000,
factory,  app,  factory, 0x10000,  1M,
storage,  data, spiffs,  0x110000, 0x40000,
`

func TestSPIFFSLayout(t *testing.T) {
	l := newLine(t)
	cfg := spiffs.DefaultConfig()
	cfg.ObjNameLen = spiffs.FactoryObjNameLen
	files := spiffs.FactoryFiles(l.claim, l.claimKey, template, "FL-0200", l.endpoint)
	files = append(files, spiffs.File{Name: "/www/index.html", Data: []byte("<h1>hi</h1>")})
	img, err := spiffs.Build(files, 0x40000, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := newFakeBoardWith(t, 20, spiffsCSV, map[string][]byte{"storage": img})
	tr := b.boot(l.app(Faults{})).run(l.now(), selftest.Start{})
	if tr.result == nil || !tr.result.OK || tr.hello.SN != "FL-0200" || tr.hello.Template != template {
		t.Fatalf("hello %+v result %+v", tr.hello, tr.result)
	}
	// Device credentials in the app's NVS, claim files gone, others kept.
	raw := make([]byte, 0x6000)
	if _, err := b.flash.ReadAt(raw, 0x9000); err != nil {
		t.Fatal(err)
	}
	part, err := nvs.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if dc, err := nvs.ReadDevice(part, ""); err != nil || dc.ThingName != "FL-0200" {
		t.Fatalf("device credentials: %q %v", dc.ThingName, err)
	}
	fsImg := make([]byte, 0x40000)
	if _, err := b.flash.ReadAt(fsImg, 0x110000); err != nil {
		t.Fatal(err)
	}
	fs, err := spiffs.Parse(fsImg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{spiffs.ClaimCertFile, spiffs.ClaimKeyFile} {
		if _, err := fs.Open(name); !errors.Is(err, spiffs.ErrNotFound) {
			t.Errorf("%s after provisioning: %v", name, err)
		}
	}
	for _, name := range []string{spiffs.SerialNumberFile, "/www/index.html"} {
		if _, err := fs.Open(name); err != nil {
			t.Errorf("%s lost: %v", name, err)
		}
	}
	// The next boot is a retest.
	tr = b.boot(l.app(Faults{})).run(l.now(), selftest.Start{})
	if tr.hello.Mode != selftest.ModeRetest || !tr.verdict.Pass {
		t.Fatalf("second boot hello %+v verdict %+v", tr.hello, tr.verdict)
	}
}
