package batch

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"fleetline/serialno"
)

// Severity says whether a finding stops the batch.
type Severity string

// Severities.
const (
	SevError   Severity = "error"   // the batch must not start
	SevWarning Severity = "warning" // the operator must acknowledge it
)

// Finding is one pre-flight result: what is wrong and what to do about it.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"` // stable, snake_case
	Message  string   `json:"message"`
	Remedy   string   `json:"remedy"`
}

// String formats a finding for a terminal.
func (f Finding) String() string {
	return fmt.Sprintf("%s %s: %s — %s", f.Severity, f.Code, f.Message, f.Remedy)
}

// Findings is a pre-flight report.
type Findings []Finding

// Errors returns the findings that stop the batch.
func (fs Findings) Errors() Findings { return fs.filter(SevError) }

// Warnings returns the findings the operator must acknowledge.
func (fs Findings) Warnings() Findings { return fs.filter(SevWarning) }

// OK reports whether no finding stops the batch.
func (fs Findings) OK() bool { return len(fs.Errors()) == 0 }

func (fs Findings) filter(s Severity) Findings {
	var out Findings
	for _, f := range fs {
		if f.Severity == s {
			out = append(out, f)
		}
	}
	return out
}

// Pre-flight finding codes.
const (
	CodeClaimUnreadable    = "claim_unreadable"
	CodeClaimExpired       = "claim_expired"
	CodeClaimNotYetValid   = "claim_not_yet_valid"
	CodeClaimExpiring      = "claim_expiring"
	CodeClaimKeyMismatch   = "claim_key_mismatch"
	CodeClaimKeyPerms      = "claim_key_permissions"
	CodeTemplateInvalid    = "template_name_invalid"
	CodeBundleInvalid      = "bundle_invalid"
	CodeFactoryTooLarge    = "factory_data_too_large"
	CodeFactoryUnchecked   = "factory_data_unchecked"
	CodeSNRangeTooSmall    = "sn_range_too_small"
	CodeSNTemplate         = "sn_template_invalid"
	CodeDatabaseReadOnly   = "database_not_writable"
	CodeCABundleInvalid    = "ca_bundle_invalid"
	CodeQuantityDone       = "quantity_reached"
	DefaultUnitsPerHour    = 60.0 // per station, when the audit log has no rate yet
	claimExpiryMarginHours = 1.0  // warn when the claim ends within this of the batch's end
)

// Checks are the pre-flight checks that need other packages (the bundle
// validator, the factory-image builder); a nil func skips its check.
type Checks struct {
	// ValidateBundle lists every problem of the bundle for the chip.
	ValidateBundle func(bundle, chip string) []string
	// FactoryFit returns the factory data image's size and its partition's
	// size for this manifest (with a worst-case SN).
	FactoryFit func(m *Manifest) (need, have int, err error)
}

// Env is what pre-flight needs to know about the present: the time, the
// database and the batch's progress so far (from the audit log on resume).
type Env struct {
	Now          time.Time
	DBPath       string
	Passed       int     // units already built in this batch
	UnitsPerHour float64 // observed rate; 0 uses DefaultUnitsPerHour
	Checks       Checks
}

var templateName = regexp.MustCompile(`^[0-9A-Za-z_-]{1,36}$`)

// Preflight runs every check that can be made before a board is touched and
// returns all findings, errors first. It never stops at the first problem:
// the engineer fixes the manifest once, not once per run.
func Preflight(m *Manifest, env Env) Findings {
	var fs Findings
	add := func(sev Severity, code, remedy, format string, a ...any) {
		fs = append(fs, Finding{Severity: sev, Code: code, Message: fmt.Sprintf(format, a...), Remedy: remedy})
	}
	remaining := max(m.Quantity-env.Passed, 0)

	fs = append(fs, checkClaim(m, env, remaining)...)
	if !templateName.MatchString(m.Claim.Template) {
		add(SevError, CodeTemplateInvalid, "use the provisioning template's exact name: 1-36 characters of letters, digits, '_' and '-'",
			"provisioning template name %q is not a valid template name", m.Claim.Template)
	}
	if _, err := LoadCAPool(m.Device.CABundle); err != nil {
		add(SevError, CodeCABundleInvalid, "point device.ca_bundle at the PEM file of the CA that signs device certificates", "%v", err)
	}
	if t, err := serialno.Parse(m.Serial.Template); err != nil {
		add(SevError, CodeSNTemplate, "fix serial.template (fields: {yy} {ww} {lot} {seq:N} {check:luhn} ...)", "serial.template: %v", err)
	} else if err := t.CheckRange(serialno.Range{First: m.Serial.Start, Last: m.Serial.End}); err != nil {
		add(SevError, CodeSNTemplate, "lower serial.end or widen the template's {seq:N}", "%v", err)
	} else if t.NeedsLot() && m.Serial.Lot == "" {
		add(SevError, CodeSNTemplate, "set serial.lot", "serial.template %q has a {lot} field but serial.lot is empty", m.Serial.Template)
	}
	if c := m.Serial.Capacity(); c < uint64(m.Quantity) {
		add(SevError, CodeSNRangeTooSmall, "widen serial.start..serial.end or lower the quantity",
			"SN range %d..%d holds %d serial numbers, the batch needs %d", m.Serial.Start, m.Serial.End, c, m.Quantity)
	}
	if err := checkWritable(env.DBPath); err != nil {
		add(SevError, CodeDatabaseReadOnly, "choose a --db path on a writable disk, or fix the directory's permissions", "audit database %s is not writable: %v", env.DBPath, err)
	}
	if env.Checks.ValidateBundle != nil {
		for _, p := range env.Checks.ValidateBundle(m.Bundle, m.Chip) {
			add(SevError, CodeBundleInvalid, "rebuild the firmware or fix the bundle manifest, then run pre-flight again", "bundle %s: %s", m.Bundle, p)
		}
	}
	if env.Checks.FactoryFit != nil {
		need, have, err := env.Checks.FactoryFit(m)
		switch {
		case err != nil:
			add(SevError, CodeFactoryUnchecked, "check factory.partition names a partition of the bundle's table", "factory data: %v", err)
		case need > have:
			add(SevError, CodeFactoryTooLarge, "enlarge the factory partition in the partition table or drop factory.extra keys",
				"factory data needs %d bytes, partition %q holds %d", need, m.Factory.Partition, have)
		}
	}
	if remaining == 0 {
		add(SevWarning, CodeQuantityDone, "start a new work order for more units", "batch %s already has %d of %d units", m.Batch, env.Passed, m.Quantity)
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Severity == SevError && fs[j].Severity != SevError })
	return fs
}

// checkWritable reports whether the database file can be created or opened
// for writing, without creating it.
func checkWritable(path string) error {
	if path == "" {
		return fmt.Errorf("no database path")
	}
	if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
		return f.Close()
	} else if !os.IsNotExist(err) {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".fleetline-preflight-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// hours formats a duration in hours for findings.
func hours(d time.Duration) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", d.Hours()), ".0") + " h"
}
