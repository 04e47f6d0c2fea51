package station

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"fleetline/batch"
)

// Mode is what the engine does with each board.
type Mode string

// Engine modes.
const (
	ModeBuild  Mode = "build"  // the factory flow: reserve, flash, first boot, record
	ModeRetest Mode = "retest" // QA: boot in retest mode without flashing, compare with the record
	ModeRework Mode = "rework" // reflash a board already built, keeping its SN and identity
)

// Image is the firmware the batch writes: the bundle's regions, its chip,
// its app version and where the per-device factory data goes.
type Image struct {
	Chip            string
	FirmwareVersion string
	Regions         []Region
	FactoryLabel    string
	FactoryOffset   uint32
	FactorySize     uint32
	MinFlashSize    uint32 // end of the highest region or partition
}

// FactoryContents is what a factory data partition read back holds.
type FactoryContents struct {
	SN           string
	ClaimCert    bool // a claim certificate is still present
	ClaimKey     bool // a claim private key is still present
	DeviceCert   bool
	ProvTemplate string
}

// Config is everything the engine needs to know about the batch. Build it
// from a manifest with FromManifest, or by hand in tests.
type Config struct {
	Mode     Mode
	Batch    string
	Product  string
	Station  string
	Operator string
	Quantity int // units the batch needs; 0 = unbounded
	Count    int // boards to finish in this run; 0 = until Quantity passed

	Image Image
	// BuildFactory returns the factory data image for one board.
	BuildFactory func(sn, mac string) ([]byte, error)
	// InspectFactory parses a factory partition read back (retest --read-nvs).
	InspectFactory func(data []byte) (FactoryContents, error)
	// ReadFactory makes the retest read the factory partition back.
	ReadFactory bool

	Limits     map[string]batch.Limit
	Timeouts   batch.Timeouts
	Retry      batch.Retry
	Quarantine int // consecutive failed boards that quarantine a slot; 0 = never
	Baud       int
	AppBaud    int

	CAPool    *x509.CertPool
	ThingName func(sn string) string
	// LooksLikeSecret reports console lines that carry private key material.
	LooksLikeSecret func(line string) bool

	// CertMaxSkew is how far in the future a device certificate's NotBefore
	// may be (clock skew); CertMinValidity how long it must stay valid.
	CertMaxSkew     time.Duration
	CertMinValidity time.Duration
	// PollInterval is how often an empty or finished slot is polled.
	PollInterval time.Duration
}

func (c *Config) applyDefaults() {
	if c.Mode == "" {
		c.Mode = ModeBuild
	}
	d := batch.DefaultTimeouts
	if c.Timeouts.Connect == 0 {
		c.Timeouts.Connect = d.Connect
	}
	if c.Timeouts.Flash == 0 {
		c.Timeouts.Flash = d.Flash
	}
	if c.Timeouts.FirstBoot == 0 {
		c.Timeouts.FirstBoot = d.FirstBoot
	}
	if c.Timeouts.Provision == 0 {
		c.Timeouts.Provision = d.Provision
	}
	if c.Retry.MaxAttempts < 1 {
		c.Retry.MaxAttempts = 1
	}
	if c.Baud == 0 {
		c.Baud = batch.DefaultBaud
	}
	if c.AppBaud == 0 {
		c.AppBaud = batch.DefaultAppBaud
	}
	if c.ThingName == nil {
		c.ThingName = func(sn string) string { return sn }
	}
	if c.CertMaxSkew == 0 {
		c.CertMaxSkew = 10 * time.Minute
	}
	if c.CertMinValidity == 0 {
		c.CertMinValidity = 24 * time.Hour
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.Batch == "" {
		errs = append(errs, errors.New("batch id is empty"))
	}
	if c.Mode != ModeRetest {
		if len(c.Image.Regions) == 0 {
			errs = append(errs, errors.New("image has no regions"))
		}
		if c.BuildFactory == nil {
			errs = append(errs, errors.New("no factory data builder"))
		}
		if c.Image.FactorySize == 0 {
			errs = append(errs, errors.New("image has no factory data partition"))
		}
	}
	if c.CAPool == nil {
		errs = append(errs, errors.New("no CA pool for device certificates"))
	}
	if c.ReadFactory && c.InspectFactory == nil {
		errs = append(errs, errors.New("read-back of factory data asked for without a reader"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("station config: %w", err)
	}
	return nil
}
