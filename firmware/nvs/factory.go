package nvs

import (
	"errors"
	"fmt"
)

// The factory firmware contract: where fleetline puts a board's factory
// data and where the firmware puts what it gets from provisioning. The
// partition is a dedicated one (label "fctry" by default, type data,
// subtype nvs) so that erasing the application's "nvs" partition, a user
// factory reset, keeps the board's identity.
const (
	// DefaultPartition is the partition label fleetline writes by default.
	DefaultPartition = "fctry"
	// DefaultNamespace is the namespace the factory keys live in by default.
	DefaultNamespace = "fctry"

	// Written at the factory.
	KeyClaimCert    = "claim_cert"    // blob: the batch's claim certificate, PEM, no NUL
	KeyClaimKey     = "claim_key"     // blob: the claim private key, PEM, no NUL
	KeySerialNo     = "serial_no"     // string: the board's SN
	KeyProvTemplate = "prov_template" // string: fleet-provisioning template name
	KeyIoTEndpoint  = "iot_endpoint"  // string: AWS IoT data endpoint host name

	// Written by the firmware after provisioning by claim, which then
	// erases KeyClaimCert and KeyClaimKey.
	KeyDeviceCert = "device_cert" // blob: the device certificate, PEM
	KeyDeviceKey  = "device_key"  // blob: the device private key, PEM
	KeyThingName  = "thing_name"  // string: the thing name the template assigned
)

// FactoryData is the per-device data fleetline writes into a board.
type FactoryData struct {
	Namespace    string // DefaultNamespace when empty
	ClaimCertPEM []byte // the batch's claim certificate
	ClaimKeyPEM  []byte // its private key: a secret, never logged or printed
	SN           string // the unit's serial number
	Template     string // the fleet-provisioning template name
	Endpoint     string // the MQTT endpoint, host:port
	// Extra holds batch-defined keys, written after the standard ones; an
	// empty Namespace means the factory namespace.
	Extra []Entry
}

// ErrFactory: factory data misses a required field or reuses a reserved key.
var ErrFactory = errors.New("bad factory data")

var reservedKeys = map[string]bool{
	KeyClaimCert: true, KeyClaimKey: true, KeySerialNo: true, KeyProvTemplate: true, KeyIoTEndpoint: true,
	KeyDeviceCert: true, KeyDeviceKey: true, KeyThingName: true,
}

// Entries lists the factory data as NVS entries in the order they are
// written.
func (fd FactoryData) Entries() ([]Entry, error) {
	ns := fd.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	switch {
	case len(fd.ClaimCertPEM) == 0:
		return nil, fmt.Errorf("nvs: factory data: %w: no claim certificate", ErrFactory)
	case len(fd.ClaimKeyPEM) == 0:
		return nil, fmt.Errorf("nvs: factory data: %w: no claim private key", ErrFactory)
	case fd.SN == "":
		return nil, fmt.Errorf("nvs: factory data: %w: no SN", ErrFactory)
	}
	es := []Entry{
		BlobEntry(ns, KeyClaimCert, fd.ClaimCertPEM),
		BlobEntry(ns, KeyClaimKey, fd.ClaimKeyPEM),
		Str(ns, KeySerialNo, fd.SN),
	}
	if fd.Template != "" {
		es = append(es, Str(ns, KeyProvTemplate, fd.Template))
	}
	if fd.Endpoint != "" {
		es = append(es, Str(ns, KeyIoTEndpoint, fd.Endpoint))
	}
	for _, e := range fd.Extra {
		if e.Namespace == "" {
			e.Namespace = ns
		}
		if e.Namespace == ns && reservedKeys[e.Key] {
			return nil, fmt.Errorf("nvs: factory data: extra key %q: %w: the key is reserved by the factory contract", e.Key, ErrFactory)
		}
		es = append(es, e)
	}
	return es, nil
}

// BuildFactoryNVS writes the factory data into a fresh NVS image of size
// bytes (format version 2, not encrypted).
func BuildFactoryNVS(fd FactoryData, size int) ([]byte, error) {
	return BuildFactory(fd, size, BuildOptions{})
}

// BuildFactory is BuildFactoryNVS with options, e.g. a Key for an
// encrypted partition.
func BuildFactory(fd FactoryData, size int, opt BuildOptions) ([]byte, error) {
	es, err := fd.Entries()
	if err != nil {
		return nil, err
	}
	img, err := Build(es, size, opt)
	if err != nil {
		return nil, fmt.Errorf("nvs: factory data: %w", err)
	}
	return img, nil
}

// ReadFactory reads the factory data back from a partition; namespace ""
// means DefaultNamespace. The claim credentials may be absent (the
// firmware erases them after provisioning); the SN may not.
func ReadFactory(p *Partition, namespace string) (FactoryData, error) {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	fd := FactoryData{Namespace: namespace}
	sn, err := p.String(namespace, KeySerialNo)
	if err != nil {
		return fd, fmt.Errorf("nvs: read factory data: %w", err)
	}
	fd.SN = sn
	if err := errors.Join(
		optional(p.Blob, namespace, KeyClaimCert, &fd.ClaimCertPEM),
		optional(p.Blob, namespace, KeyClaimKey, &fd.ClaimKeyPEM),
		optional(p.String, namespace, KeyProvTemplate, &fd.Template),
		optional(p.String, namespace, KeyIoTEndpoint, &fd.Endpoint),
	); err != nil {
		return fd, fmt.Errorf("nvs: read factory data: %w (rewrite the factory partition)", err)
	}
	for _, e := range p.Entries() {
		if e.Namespace == namespace && reservedKeys[e.Key] {
			continue
		}
		fd.Extra = append(fd.Extra, e)
	}
	return fd, nil
}

// DeviceCredentials is what the firmware stores after provisioning.
type DeviceCredentials struct {
	CertPEM   []byte // the device certificate the cloud issued
	KeyPEM    []byte // the device's private key: a secret, never logged or printed
	ThingName string // the thing the template registered
}

// ReadDevice reads the device credentials the firmware stored; ErrNotFound
// when the board has not provisioned yet.
func ReadDevice(p *Partition, namespace string) (DeviceCredentials, error) {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	var dc DeviceCredentials
	var err error
	if dc.CertPEM, err = p.Blob(namespace, KeyDeviceCert); err != nil {
		return dc, fmt.Errorf("nvs: read device credentials: %w", err)
	}
	if err := errors.Join(
		optional(p.Blob, namespace, KeyDeviceKey, &dc.KeyPEM),
		optional(p.String, namespace, KeyThingName, &dc.ThingName),
	); err != nil {
		return dc, fmt.Errorf("nvs: read device credentials: %w", err)
	}
	return dc, nil
}

// optional reads a key that may be absent into dst. Only absence is
// forgiven: a key of the wrong type is an error, since the reserved keys
// are skipped from Extra and the value would otherwise vanish unreported.
func optional[T any](get func(ns, key string) (T, error), ns, key string, dst *T) error {
	v, err := get(ns, key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	*dst = v
	return err
}
