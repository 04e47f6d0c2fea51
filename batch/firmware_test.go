package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fleetline/firmware"
)

// writeBundle builds a small ESP32 bundle with the default partition table
// (factory data partition "fctry", 24 KiB) and returns its manifest path.
func writeBundle(t *testing.T, dir string) string {
	t.Helper()
	boot, err := firmware.BuildBootloader(firmware.BootloaderSpec{Chip: firmware.ChipESP32})
	must(t, err)
	table, err := firmware.DefaultPartitionTable().MarshalBinary()
	must(t, err)
	app, err := firmware.BuildApp(firmware.AppSpec{Chip: firmware.ChipESP32, Version: "3.1.4"})
	must(t, err)
	for name, data := range map[string][]byte{"bootloader.bin": boot, "pt.bin": table, "app.bin": app} {
		must(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	p := filepath.Join(dir, "bundle.toml")
	must(t, os.WriteFile(p, []byte("chip = \"esp32\"\n[[files]]\nname = \"bootloader\"\noffset = 0x1000\npath = \"bootloader.bin\"\n"+
		"[[files]]\nname = \"partition-table\"\noffset = 0x8000\npath = \"pt.bin\"\n[[files]]\nname = \"app\"\noffset = 0x20000\npath = \"app.bin\"\n"), 0o644))
	return p
}

func TestFirmwareChecks(t *testing.T) {
	m, env := testManifest(t)
	m.Bundle = writeBundle(t, t.TempDir())
	m.Chip = "esp32"
	env.Checks = FirmwareChecks()
	if fs := Preflight(m, env); len(fs) != 0 {
		t.Errorf("clean bundle: %v", fs)
	}

	t.Run("wrong chip", func(t *testing.T) {
		m2 := *m
		m2.Chip = "esp32s3"
		if got := codes(Preflight(&m2, env)); !strings.Contains(got, "error:bundle_invalid") {
			t.Errorf("findings %q", got)
		}
	})
	t.Run("factory data too large", func(t *testing.T) {
		m2 := *m
		m2.Factory.Extra = map[string]string{}
		for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
			m2.Factory.Extra[k] = strings.Repeat("x", 3000)
		}
		fs := Preflight(&m2, env)
		if got := codes(fs); got != "error:factory_data_too_large" {
			t.Fatalf("findings %q", got)
		}
		if !strings.Contains(fs[0].Message, "partition \"fctry\" holds 24576") {
			t.Errorf("message %q", fs[0].Message)
		}
	})
	t.Run("no such partition", func(t *testing.T) {
		m2 := *m
		m2.Factory.Partition = "nope"
		if got := codes(Preflight(&m2, env)); got != "error:factory_data_unchecked" {
			t.Errorf("findings %q", got)
		}
	})
	t.Run("missing bundle", func(t *testing.T) {
		m2 := *m
		m2.Bundle = filepath.Join(t.TempDir(), "none")
		if got := codes(Preflight(&m2, env)); !strings.Contains(got, "error:bundle_invalid") {
			t.Errorf("findings %q", got)
		}
	})
	if sn, err := m.LongestSN(time.Now()); err != nil || sn != "S0010" {
		t.Errorf("longest SN %q, %v", sn, err)
	}
}

// TestSPIFFSFactory: the spiffs layout writes the provisioning files; the
// firmware's object-name length must hold their paths, and pre-flight says
// which setting to raise when it does not.
func TestSPIFFSFactory(t *testing.T) {
	m, env := testManifest(t)
	m.Bundle = writeBundle(t, t.TempDir())
	m.Chip = "esp32"
	m.Factory.Format, m.Factory.Partition = "spiffs", "storage"
	env.Checks = FirmwareChecks()

	fs := Preflight(m, env)
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "factory.obj_name_len") || !strings.Contains(fs[0].Message, "CONFIG_SPIFFS_OBJ_NAME_LEN") {
		t.Fatalf("default object-name length: findings %v", fs)
	}

	m.Factory.ObjNameLen = 40
	if fs := Preflight(m, env); len(fs) != 0 {
		t.Fatalf("object-name length 40: findings %v", fs)
	}
	claim, err := LoadClaim(m)
	must(t, err)
	img, err := m.FactoryImage(claim, "SL000000001", 0x10000)
	must(t, err)
	if len(img) != 0x10000 {
		t.Fatalf("image of %d bytes", len(img))
	}
}

// TestFirmwareChecksLoadOnce: the two checks of one pre-flight share one
// load of the bundle; new Checks read it again.
func TestFirmwareChecksLoadOnce(t *testing.T) {
	m, _ := testManifest(t)
	dir := t.TempDir()
	m.Bundle = writeBundle(t, dir)
	m.Chip = "esp32"
	c := FirmwareChecks()
	if p := c.ValidateBundle(m.Bundle, m.Chip); len(p) != 0 {
		t.Fatalf("problems %v", p)
	}
	must(t, os.Remove(filepath.Join(dir, "app.bin")))
	if _, have, err := c.FactoryFit(m); err != nil || have != 24576 {
		t.Errorf("factory fit after the first load: have %d, %v", have, err)
	}
	if p := FirmwareChecks().ValidateBundle(m.Bundle, m.Chip); len(p) == 0 {
		t.Error("new checks did not read the bundle again")
	}
}
