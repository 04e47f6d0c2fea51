package factoryapp

import (
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"fleetline/firmware/nvs"
	"fleetline/firmware/selftest"
	"fleetline/firmware/spiffs"
	"fleetline/sim/cloud"
)

// Config is how a virtual board's factory firmware behaves. The zero value
// is a healthy board; New fills in the defaults.
type Config struct {
	// Seed drives the self-test measurements; each board mixes in its MAC,
	// so boards with one Seed still differ, reproducibly.
	Seed uint64
	// Firmware describes the app when the flashed image carries no app
	// descriptor; normally the descriptor in the app partition wins.
	Firmware FirmwareInfo
	// StartupLog makes the app print ESP-IDF's startup log (cpu_start,
	// app_init, heap_init, spi_flash, main_task) itself. sim/board prints
	// it before calling the app, so leave this off there; set it for a
	// Device that hands over straight from the bootloader.
	StartupLog bool
	// Tests are the self tests; nil means DefaultTests.
	Tests []TestSpec
	// Faults makes this board misbehave (see ParseFaults).
	Faults Faults
	// RootCAPEM is the trust anchor built into the app (on a real product,
	// Amazon Root CA 1). An NVS string "root_ca" in the factory namespace,
	// if present, replaces it. Without either, TLS to the cloud fails.
	RootCAPEM []byte
	// Partition and Namespace locate the factory data; empty means
	// nvs.DefaultPartition and nvs.DefaultNamespace.
	Partition string
	Namespace string
	// SPIFFS is how the firmware's SPIFFS is configured, for batches that
	// write the factory files there; zero means spiffs.DefaultConfig with
	// ObjNameLen spiffs.FactoryObjNameLen.
	SPIFFS spiffs.Config
	// ManufacturingDate ("2006-01-02") goes into RegisterThing when the
	// factory data has no "mfg_date" string; empty means the board's date
	// once its clock is set.
	ManufacturingDate string
	// HelloInterval is how often hello repeats until the station speaks.
	HelloInterval time.Duration
	// StationTimeout bounds the wait for time and start/retest.
	StationTimeout time.Duration
	// OpTimeout bounds connecting and each cloud operation.
	OpTimeout time.Duration
	// UnsyncedTime is the board's clock at boot, before the station's time
	// arrives: 1970-01-01, as an ESP32 without RTC backup keeps it.
	UnsyncedTime time.Time
	// Entropy is the board's RNG for key generation; nil means crypto/rand.
	Entropy io.Reader
	// Now is the host clock the board's clock advances by; nil means
	// time.Now.
	Now func() time.Time
	// Cloud receives the board's cloud-side fault (Faults.Cloud) at boot,
	// keyed by the board's SN, its MQTT client ID. Normally the *cloud.Cloud
	// the line runs; nil leaves cloud-side faults to whoever set up the cloud.
	Cloud FaultInjector
}

// FaultInjector is where a board registers its cloud-side fault.
type FaultInjector interface {
	SetClientFault(clientID string, f cloud.ClientFault) error
}

// ExpiredClaimer is implemented by a cloud (*cloud.Cloud) that can hand out
// an expired claim it knows. A board with the claim_expired fault then
// connects with those stale credentials, as a board programmed from an old
// factory image would, and fails TLS the way AWS IoT refuses an expired
// claim; without it the fault falls back to a cloud-side client fault.
type ExpiredClaimer interface {
	ExpiredClaim(template string) (certPEM, keyPEM []byte, err error)
}

// FirmwareInfo is what esp_app_desc_t says about the app.
type FirmwareInfo struct {
	Version     string
	Project     string
	IDF         string
	CompileTime string // "Dec  3 2026 10:00:00"
	ELFSHA256   string // hex
}

// Defaults.
const (
	DefaultHelloInterval  = time.Second
	DefaultStationTimeout = 60 * time.Second
	DefaultOpTimeout      = 10 * time.Second
	DefaultMQTTPort       = "8883"
)

func (c Config) withDefaults() Config {
	if c.Firmware.Version == "" {
		c.Firmware = FirmwareInfo{Version: "1.0.0", Project: "fleetline-fct", IDF: "v5.2.1", CompileTime: "Dec  1 2026 09:00:00", ELFSHA256: strings.Repeat("5a", 32)}
	}
	if c.Tests == nil {
		c.Tests = DefaultTests()
	}
	if c.Partition == "" {
		c.Partition = nvs.DefaultPartition
	}
	if c.Namespace == "" {
		c.Namespace = nvs.DefaultNamespace
	}
	if c.SPIFFS == (spiffs.Config{}) {
		c.SPIFFS = spiffs.DefaultConfig()
		c.SPIFFS.ObjNameLen = spiffs.FactoryObjNameLen
	}
	if c.HelloInterval == 0 {
		c.HelloInterval = DefaultHelloInterval
	}
	if c.StationTimeout == 0 {
		c.StationTimeout = DefaultStationTimeout
	}
	if c.OpTimeout == 0 {
		c.OpTimeout = DefaultOpTimeout
	}
	if c.UnsyncedTime.IsZero() {
		c.UnsyncedTime = time.Unix(0, 0).UTC()
	}
	if c.Entropy == nil {
		c.Entropy = rand.Reader
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Faults are the ways a board's first boot goes wrong on purpose. Faults of
// the cloud's making (throttling, a missing or inactive template, an
// unregistered or expired claim) are set up at the cloud or in the factory
// data instead; these are the board's own.
type Faults struct {
	// ClockUnsynced: the board ignores the station's time and keeps its
	// boot clock, so TLS fails with "certificate is not yet valid".
	ClockUnsynced bool
	// Unreachable: the board's network cannot reach the cloud.
	Unreachable bool
	// FailTest names a self test whose value lands outside its limits.
	FailTest string
	// RebootAfter names a provisioning step after which the board reboots
	// (once), as a brown-out or watchdog would.
	RebootAfter string
	// BadRNG: the key generator is seeded with a constant, so every board
	// with this fault generates the same key.
	BadRNG bool
	// LeakKey: the firmware prints its new private key on the console.
	LeakKey bool
	// Cloud is a fault of the cloud's making for this board alone
	// (claim_expired, claim_not_registered, template_missing,
	// template_inactive, throttled), registered through Config.Cloud.
	Cloud cloud.ClientFault
}

var cloudFaults = []cloud.ClientFault{cloud.ClientClaimExpired, cloud.ClientClaimNotRegistered, cloud.ClientTemplateMissing, cloud.ClientTemplateInactive, cloud.ClientThrottled}

var rebootSteps = []string{selftest.StepKeyGenerated, selftest.StepCSRCreated, selftest.StepCertReceived, selftest.StepThingRegistered, selftest.StepClaimErased}

// ParseFaults reads a fault spec: comma-separated names, some with a value.
//
//	clock              ClockUnsynced
//	unreachable        Unreachable
//	test_fail=NAME     FailTest
//	reboot=STEP        RebootAfter (key_generated … claim_erased)
//	bad_rng            BadRNG
//	leak_key           LeakKey
//	claim_expired, claim_not_registered, template_missing,
//	template_inactive, throttled
//	                   Cloud (at most one)
//
// An empty spec is no faults.
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, hasVal := strings.Cut(item, "=")
		switch {
		case name == "clock" && !hasVal:
			f.ClockUnsynced = true
		case name == "unreachable" && !hasVal:
			f.Unreachable = true
		case name == "bad_rng" && !hasVal:
			f.BadRNG = true
		case name == "leak_key" && !hasVal:
			f.LeakKey = true
		case name == "test_fail" && val != "":
			f.FailTest = val
		case name == "reboot" && slices.Contains(rebootSteps, val):
			f.RebootAfter = val
		case slices.Contains(cloudFaults, cloud.ClientFault(name)) && !hasVal:
			if f.Cloud != "" {
				return Faults{}, fmt.Errorf("factoryapp: faults %s and %s: at most one cloud-side fault per board", f.Cloud, name)
			}
			f.Cloud = cloud.ClientFault(name)
		case name == "reboot":
			return Faults{}, fmt.Errorf("factoryapp: fault %q: reboot needs one of %s", item, strings.Join(rebootSteps, ", "))
		default:
			return Faults{}, fmt.Errorf("factoryapp: unknown fault %q (want clock, unreachable, test_fail=NAME, reboot=STEP, bad_rng, leak_key or a cloud-side fault)", item)
		}
	}
	return f, nil
}

// String renders the faults in ParseFaults' syntax.
func (f Faults) String() string {
	var out []string
	if f.ClockUnsynced {
		out = append(out, "clock")
	}
	if f.Unreachable {
		out = append(out, "unreachable")
	}
	if f.FailTest != "" {
		out = append(out, "test_fail="+f.FailTest)
	}
	if f.RebootAfter != "" {
		out = append(out, "reboot="+f.RebootAfter)
	}
	if f.BadRNG {
		out = append(out, "bad_rng")
	}
	if f.LeakKey {
		out = append(out, "leak_key")
	}
	if f.Cloud != "" {
		out = append(out, string(f.Cloud))
	}
	return strings.Join(out, ",")
}
