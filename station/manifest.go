package station

import (
	"errors"
	"fmt"

	"fleetline/batch"
	"fleetline/firmware"
	"fleetline/firmware/nvs"
	"fleetline/firmware/spiffs"
)

// Setup is a batch loaded for the engine: the manifest, its claim, its
// bundle and the engine configuration built from them.
type Setup struct {
	Manifest *batch.Manifest
	Claim    *batch.ClaimCert
	Bundle   *firmware.Bundle
	Config   Config
}

// FromManifest loads the claim, the bundle and the CA of a manifest and
// returns the engine configuration for mode. Pre-flight (batch.Preflight)
// is the place for findings; this returns the first error that makes a
// configuration impossible.
func FromManifest(m *batch.Manifest, mode Mode) (*Setup, error) {
	claim, err := batch.LoadClaim(m)
	if err != nil {
		return nil, err
	}
	pool, err := batch.LoadCAPool(m.Device.CABundle)
	if err != nil {
		return nil, err
	}
	b, err := batch.LoadBundle(m.Bundle)
	if err != nil {
		return nil, err
	}
	img, err := ImageFromBundle(b, m)
	if err != nil {
		return nil, err
	}
	cfg := Config{
		Mode: mode, Batch: m.Batch, Product: m.Product, Station: m.Station, Operator: m.Operator, Quantity: m.Quantity,
		Image: img, Limits: m.Limits, Timeouts: m.Timeouts, Retry: m.Retry, Quarantine: m.Quarantine.After,
		Baud: m.Baud, AppBaud: m.AppBaud, CAPool: pool, ThingName: m.ThingName,
		BuildFactory: func(sn, _ string) ([]byte, error) {
			return m.FactoryImage(claim, sn, int(img.FactorySize))
		},
		InspectFactory: func(data []byte) (FactoryContents, error) { return InspectNVS(data, m.Factory.Namespace) },
	}
	if m.Factory.Format == "spiffs" {
		cfg.InspectFactory = func(data []byte) (FactoryContents, error) { return InspectSPIFFS(data, m.SPIFFSConfig()) }
	}
	return &Setup{Manifest: m, Claim: claim, Bundle: b, Config: cfg}, nil
}

// ImageFromBundle turns a bundle into the engine's Image: its regions, its
// chip (the manifest's, else the bundle's), its app version and the factory
// partition the manifest names.
func ImageFromBundle(b *firmware.Bundle, m *batch.Manifest) (Image, error) {
	img := Image{Chip: m.Chip, FactoryLabel: m.Factory.Partition}
	if img.Chip == "" {
		img.Chip = b.Chip
	}
	for _, r := range b.Regions {
		if r.Data == nil {
			return Image{}, fmt.Errorf("bundle %s: region %s: %v", b.Source, r.Name, r.Err)
		}
		img.Regions = append(img.Regions, Region{Name: r.Name, Offset: r.Offset, Data: r.Data})
	}
	if d := b.AppDesc(); d != nil {
		img.FirmwareVersion = d.Version
	}
	if b.PartitionTable == nil {
		return Image{}, fmt.Errorf("bundle %s has no partition table: the factory partition %q cannot be placed", b.Source, m.Factory.Partition)
	}
	p, ok := b.PartitionTable.Find(m.Factory.Partition)
	if !ok {
		return Image{}, fmt.Errorf("bundle %s: no partition %q in the partition table", b.Source, m.Factory.Partition)
	}
	img.FactoryOffset, img.FactorySize = p.Offset, p.Size
	img.MinFlashSize = uint32(max(b.Size(), b.PartitionTable.End()))
	return img, nil
}

// InspectSPIFFS reads the provisioning files of a SPIFFS factory partition
// read back from a board. A claim file counts as erased only when the
// filesystem has no such file: one that is there but does not read whole
// (a page lost, never closed) may still hold the claim's bytes.
func InspectSPIFFS(data []byte, cfg spiffs.Config) (FactoryContents, error) {
	fs, err := spiffs.Parse(data, cfg)
	if err != nil {
		return FactoryContents{}, err
	}
	present := func(name string) bool {
		b, err := fs.Open(name)
		if err != nil {
			return !errors.Is(err, spiffs.ErrNotFound)
		}
		return len(b) > 0
	}
	sn, err := fs.Open(spiffs.SerialNumberFile)
	if err == nil && len(sn) == 0 {
		err = errors.New("the file is empty")
	}
	if err != nil {
		return FactoryContents{}, fmt.Errorf("factory partition: read %s (written by fleetline's SPIFFS layout): %w", spiffs.SerialNumberFile, err)
	}
	tmpl, _ := fs.Open(spiffs.TemplateFile)
	return FactoryContents{
		SN: string(sn), ProvTemplate: string(tmpl),
		ClaimCert: present(spiffs.ClaimCertFile), ClaimKey: present(spiffs.ClaimKeyFile),
		// Firmware of this layout keeps its device credentials in NVS, not
		// on the filesystem, so DeviceCert is not read from here.
	}, nil
}

// InspectNVS parses a factory partition read back from a board.
func InspectNVS(data []byte, namespace string) (FactoryContents, error) {
	p, err := nvs.Parse(data)
	if err != nil {
		return FactoryContents{}, err
	}
	fd, err := nvs.ReadFactory(p, namespace)
	if err != nil {
		return FactoryContents{}, err
	}
	fc := FactoryContents{SN: fd.SN, ClaimCert: len(fd.ClaimCertPEM) > 0, ClaimKey: len(fd.ClaimKeyPEM) > 0, ProvTemplate: fd.Template}
	if dc, err := nvs.ReadDevice(p, namespace); err == nil && len(dc.CertPEM) > 0 {
		fc.DeviceCert = true
	}
	return fc, nil
}
