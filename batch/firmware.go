package batch

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"fleetline/firmware"
	"fleetline/firmware/nvs"
	"fleetline/firmware/spiffs"
	"fleetline/serialno"
)

// LoadBundle loads the manifest's firmware bundle: an ESP-IDF build
// directory (or its flasher_args.json) or a bundle manifest file.
func LoadBundle(path string) (*firmware.Bundle, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if st.IsDir() {
		return firmware.LoadBuildDir(path)
	}
	if filepath.Base(path) == "flasher_args.json" {
		return firmware.LoadBuildDir(filepath.Dir(path))
	}
	return firmware.LoadManifest(path)
}

// FactoryData returns the factory data a board with this SN gets.
func (m *Manifest) FactoryData(claim *ClaimCert, sn string) nvs.FactoryData {
	fd := nvs.FactoryData{Namespace: m.Factory.Namespace, ClaimCertPEM: claim.PEM, ClaimKeyPEM: claim.KeyPEM,
		SN: sn, Template: m.Claim.Template, Endpoint: m.Claim.Endpoint}
	for _, k := range m.extraKeys() {
		fd.Extra = append(fd.Extra, nvs.Str(m.Factory.Namespace, k, m.Factory.Extra[k]))
	}
	return fd
}

// extraKeys are the names of the manifest's extra factory fields, sorted,
// so every board's factory data is laid out the same.
func (m *Manifest) extraKeys() []string {
	return slices.Sorted(maps.Keys(m.Factory.Extra))
}

// SPIFFSConfig is the SPIFFS layout the firmware is built with, for the
// spiffs factory format.
func (m *Manifest) SPIFFSConfig() spiffs.Config {
	c := spiffs.DefaultConfig()
	if m.Factory.ObjNameLen > 0 {
		c.ObjNameLen = m.Factory.ObjNameLen
	}
	return c
}

// FactoryImage builds the factory data partition image of one board, in the
// manifest's format: an NVS partition (nvs) or a SPIFFS image holding the
// provisioning files (spiffs), size bytes long.
func (m *Manifest) FactoryImage(claim *ClaimCert, sn string, size int) ([]byte, error) {
	fd := m.FactoryData(claim, sn)
	if m.Factory.Format != "spiffs" {
		return nvs.BuildFactoryNVS(fd, size)
	}
	files := spiffs.FactoryFiles(fd.ClaimCertPEM, fd.ClaimKeyPEM, fd.Template, fd.SN, fd.Endpoint)
	for _, k := range m.extraKeys() {
		files = append(files, spiffs.File{Name: spiffs.ProvisioningDir + "/" + k + ".txt", Data: []byte(m.Factory.Extra[k])})
	}
	img, err := spiffs.Build(files, size, m.SPIFFSConfig())
	if errors.Is(err, spiffs.ErrNameTooLong) {
		return nil, fmt.Errorf("%w: set factory.obj_name_len in the manifest to the firmware's CONFIG_SPIFFS_OBJ_NAME_LEN (at least %d)", err, spiffs.FactoryObjNameLen)
	}
	return img, err
}

// factoryFull reports whether err says the factory data did not fit.
func factoryFull(err error) bool {
	return errors.Is(err, nvs.ErrPartitionFull) || errors.Is(err, spiffs.ErrFull)
}

// LongestSN renders the range's last sequence number: the widest SN the
// batch can write, for sizing the factory data.
func (m *Manifest) LongestSN(now time.Time) (string, error) {
	t, err := serialno.Parse(m.Serial.Template)
	if err != nil {
		return "", err
	}
	return t.Format(m.Serial.End, serialno.Fields{Date: now, Lot: m.Serial.Lot})
}

// FirmwareChecks returns the pre-flight checks that load the bundle: its
// validation against the chip, and whether the factory data fits its
// partition. The two share one load of the bundle (its images are read
// whole), so a pre-flight reads it once; take new Checks for each
// pre-flight, so a rebuilt bundle is read again.
func FirmwareChecks() Checks {
	var (
		mu     sync.Mutex
		done   bool
		loaded string
		bundle *firmware.Bundle
		err    error
	)
	load := func(path string) (*firmware.Bundle, error) {
		mu.Lock()
		defer mu.Unlock()
		if !done || loaded != path {
			done, loaded = true, path
			bundle, err = LoadBundle(path)
		}
		return bundle, err
	}
	return Checks{
		ValidateBundle: func(path, chip string) []string {
			b, err := load(path)
			if err != nil {
				return []string{err.Error()}
			}
			var out []string
			if err := b.Validate(firmware.Target{Chip: chip, Revision: -1}); err != nil {
				if ve, ok := err.(*firmware.ValidationError); ok {
					for _, p := range ve.Problems {
						out = append(out, p.String())
					}
				} else {
					out = append(out, err.Error())
				}
			}
			if m := b.AppDesc(); m == nil {
				out = append(out, "no app descriptor: the firmware version cannot be checked")
			}
			return out
		},
		FactoryFit: func(m *Manifest) (int, int, error) {
			b, err := load(m.Bundle)
			if err != nil {
				return 0, 0, err
			}
			if b.PartitionTable == nil {
				return 0, 0, fmt.Errorf("the bundle has no partition table")
			}
			p, ok := b.PartitionTable.Find(m.Factory.Partition)
			if !ok {
				return 0, 0, fmt.Errorf("no partition %q in the bundle's table", m.Factory.Partition)
			}
			claim, err := LoadClaim(m)
			if err != nil {
				return 0, 0, err
			}
			sn, err := m.LongestSN(time.Now())
			if err != nil {
				return 0, 0, err
			}
			_, err = m.FactoryImage(claim, sn, int(p.Size))
			if !factoryFull(err) {
				return 0, int(p.Size), err
			}
			// Find the partition size the data needs, for the finding.
			for need := int(p.Size) + 0x1000; need <= 1<<20; need += 0x1000 {
				if _, err := m.FactoryImage(claim, sn, need); err == nil {
					return need, int(p.Size), nil
				}
			}
			return 1<<20 + 1, int(p.Size), nil
		},
	}
}
