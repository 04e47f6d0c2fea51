package station

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"fleetline/flasher/portio"
)

// Reason codes: stable snake_case names of every way an attempt can fail.
const (
	ReasonNoSync            = "no_sync"
	ReasonWrongBootMode     = "wrong_boot_mode"
	ReasonConnectFailed     = "connect_failed"
	ReasonWrongChip         = "wrong_chip"
	ReasonFlashTooSmall     = "flash_too_small"
	ReasonSecureDownload    = "secure_download_mode"
	ReasonFlashWriteFailed  = "flash_write_failed"
	ReasonMD5Mismatch       = "md5_mismatch"
	ReasonBoardRemoved      = "board_removed"
	ReasonStopped           = "stopped"
	ReasonTimeout           = "timeout"
	ReasonNoHello           = "no_hello"
	ReasonBootFailed        = "boot_failed"
	ReasonTestOutOfLimits   = "test_out_of_limits"
	ReasonTestMissing       = "test_missing"
	ReasonClaimExpired      = "claim_expired"
	ReasonTemplateMissing   = "template_missing"
	ReasonClaimNotReg       = "claim_not_registered"
	ReasonClockInvalid      = "clock_invalid"
	ReasonCloudUnreachable  = "cloud_unreachable"
	ReasonThrottled         = "throttled"
	ReasonProvisionFailed   = "provisioning_failed"
	ReasonDuplicateKey      = "duplicate_key"
	ReasonSNMismatch        = "sn_mismatch"
	ReasonMACMismatch       = "mac_mismatch"
	ReasonCertMissing       = "cert_missing"
	ReasonCertChainInvalid  = "cert_chain_invalid"
	ReasonCertValidity      = "cert_validity_invalid"
	ReasonThingMismatch     = "thing_name_mismatch"
	ReasonClaimNotErased    = "claim_not_erased"
	ReasonPrivateKeyLeaked  = "private_key_leaked"
	ReasonBoardFailed       = "board_reported_fail"
	ReasonFactoryData       = "factory_data_failed"
	ReasonStoreFailed       = "store_failed"
	ReasonUnknownBoard      = "unknown_board"
	ReasonRetestMismatch    = "retest_mismatch"
	ReasonFirmwareMismatch  = "firmware_mismatch"
	ReasonCertFingerprint   = "cert_fingerprint_mismatch"
	ReasonInternal          = "internal_error"
	ReasonProtocolViolation = "protocol_violation"
)

// ReasonInfo is the default classification and the operator's remedy for a
// reason code.
type ReasonInfo struct {
	Kind      Kind
	Transient bool
	Remedy    string
}

// Reasons is the table of every reason code with its kind, whether a retry
// may help, and the remedy shown to the operator. The README's table and
// the TUI's help read it.
var Reasons = map[string]ReasonInfo{
	ReasonNoSync:            {KindTransport, true, "reseat the board and check the cable and hub port; if it persists, hold BOOT while pressing EN"},
	ReasonWrongBootMode:     {KindDevice, true, "the board booted its app instead of the ROM loader: check the auto-reset circuit (DTR/RTS) or the reset strategy in the manifest"},
	ReasonConnectFailed:     {KindTransport, true, "check the cable and the hub port of this slot"},
	ReasonWrongChip:         {KindConfig, false, "this board's chip is not the bundle's target: put it aside or load the right work order"},
	ReasonFlashTooSmall:     {KindDevice, false, "the board's flash is smaller than the bundle needs: put the board aside"},
	ReasonSecureDownload:    {KindDevice, false, "the board is locked in secure download mode: it cannot be verified, put it aside for engineering"},
	ReasonFlashWriteFailed:  {KindDevice, true, "retry; if the same board fails again its flash is bad, put it aside"},
	ReasonMD5Mismatch:       {KindVerify, true, "retry; repeated mismatches mean a bad cable or flash chip"},
	ReasonBoardRemoved:      {KindCanceled, false, "the board was pulled out mid-run: plug it back in to run it again"},
	ReasonStopped:           {KindCanceled, false, "the station stopped: run the board again"},
	ReasonTimeout:           {KindTransport, true, "the board stopped answering: reseat it and check the cable"},
	ReasonNoHello:           {KindDevice, true, "the factory firmware did not start: check the bundle's app and the console baud (app_baud)"},
	ReasonBootFailed:        {KindDevice, false, "the app crashed on boot: read the console output in the slot's details"},
	ReasonTestOutOfLimits:   {KindDevice, false, "a self test was out of limits: put the board aside for repair"},
	ReasonTestMissing:       {KindDevice, false, "the firmware did not run a required self test: check the firmware version"},
	ReasonClaimExpired:      {KindProvisioning, false, "refresh the factory claim credentials (new claim certificate and key) and restart the batch"},
	ReasonTemplateMissing:   {KindProvisioning, false, "create or activate the provisioning template in the IoT account"},
	ReasonClaimNotReg:       {KindProvisioning, false, "register the claim certificate with the provisioning template (attach the claim policy)"},
	ReasonClockInvalid:      {KindProvisioning, true, "the station syncs the board's time; if it persists, check the board's RTC and the station clock"},
	ReasonCloudUnreachable:  {KindProvisioning, true, "check the line's network connection to the IoT endpoint"},
	ReasonThrottled:         {KindProvisioning, true, "the cloud is throttling requests: the station retries with backoff; lower the line rate if it persists"},
	ReasonProvisionFailed:   {KindProvisioning, false, "provisioning was refused: see the cloud's error in the attempt record"},
	ReasonDuplicateKey:      {KindVerify, false, "the device key or certificate serial is already used by another unit: quarantine the board and tell engineering"},
	ReasonSNMismatch:        {KindVerify, false, "the board reports another SN than the one written: reflash it; if it persists check the factory partition"},
	ReasonMACMismatch:       {KindVerify, false, "the board reports another MAC than the ROM loader read: check for swapped cables between slots"},
	ReasonCertMissing:       {KindProvisioning, false, "the board reported no device certificate: check the firmware's provisioning"},
	ReasonCertChainInvalid:  {KindVerify, false, "the device certificate does not chain to the batch's CA bundle: check device.ca_bundle and the IoT account"},
	ReasonCertValidity:      {KindVerify, false, "the device certificate's validity window is wrong: check the station and cloud clocks"},
	ReasonThingMismatch:     {KindVerify, false, "the thing name is not the expected one: check the provisioning template and device.thing_pattern"},
	ReasonClaimNotErased:    {KindVerify, false, "the firmware did not erase the claim credentials: do not ship; report the firmware defect"},
	ReasonPrivateKeyLeaked:  {KindVerify, false, "security failure: the firmware printed a private key on the console; stop the batch and report the firmware defect"},
	ReasonBoardFailed:       {KindDevice, false, "the board reported a failed first boot: read the console output in the slot's details"},
	ReasonFactoryData:       {KindConfig, false, "the factory data image could not be built: check the [factory] section and the claim files"},
	ReasonStoreFailed:       {KindStore, false, "the audit log could not record: check the database disk, then run the board again"},
	ReasonUnknownBoard:      {KindConfig, false, "this board was not built with this database: use the database of the line that built it"},
	ReasonRetestMismatch:    {KindVerify, false, "the board's identity differs from its audit record: quarantine it for engineering"},
	ReasonFirmwareMismatch:  {KindVerify, false, "the board runs another firmware version than it was built with: rework it"},
	ReasonCertFingerprint:   {KindVerify, false, "the board holds another device certificate than was recorded: quarantine it for engineering"},
	ReasonInternal:          {KindDevice, false, "unexpected error: note the message and tell engineering"},
	ReasonProtocolViolation: {KindDevice, false, "the firmware broke the first-boot protocol: check the firmware version"},
}

// ReasonCodes returns every reason code, sorted.
func ReasonCodes() []string {
	out := make([]string, 0, len(Reasons))
	for k := range Reasons {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fail builds a Failure for a reason code with the table's kind and remedy.
func fail(step Step, reason string, err error, format string, a ...any) *Failure {
	info, ok := Reasons[reason]
	if !ok {
		info = Reasons[ReasonInternal]
	}
	return &Failure{Step: step, Kind: info.Kind, Reason: reason, Message: fmt.Sprintf(format, a...),
		Remedy: info.Remedy, Transient: info.Transient, Err: err}
}

// classify turns any error from a step into a *Failure: a Failure is kept
// (its Step filled in), a closed port is a removed board, a cancelled
// context is a stop, a deadline is the step's timeout, anything else is the
// step's generic reason.
func classify(step Step, err error, generic string) *Failure {
	if err == nil {
		return nil
	}
	if f, ok := AsFailure(err); ok {
		if f.Step == "" {
			f.Step = step
		}
		return f
	}
	switch {
	case errors.Is(err, portio.ErrClosed):
		return fail(step, ReasonBoardRemoved, err, "board removed during %s", step)
	case errors.Is(err, context.Canceled):
		return fail(step, ReasonStopped, err, "stopped during %s", step)
	case errors.Is(err, context.DeadlineExceeded):
		return fail(step, ReasonTimeout, err, "%s timed out", step)
	}
	return fail(step, generic, err, "%s: %v", step, err)
}
