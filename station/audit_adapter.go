package station

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fleetline/batch"
	"fleetline/station/audit"
)

// AuditStore adapts the SQLite audit log to the engine's Store.
type AuditStore struct {
	S *audit.Store
}

var _ Store = AuditStore{}

// StartAttempt implements Store.
func (a AuditStore) StartAttempt(ctx context.Context, ai AttemptInfo) (int64, error) {
	return a.S.StartAttempt(ctx, auditStart(ai))
}

// ReserveAndStart implements Store in one transaction.
func (a AuditStore) ReserveAndStart(ctx context.Context, ai AttemptInfo) (string, int64, error) {
	r, id, err := a.S.ReserveAndStart(ctx, auditStart(ai))
	return r.SN, id, err
}

// auditStart converts an attempt's start to the log's record.
func auditStart(ai AttemptInfo) audit.AttemptStart {
	kind := audit.KindNormal
	switch {
	case ai.Retest:
		kind = audit.KindRetest
	case ai.Rework:
		kind = audit.KindRework
	}
	return audit.AttemptStart{Batch: ai.Batch, MAC: ai.MAC, Chip: ai.Chip,
		Revision: fmt.Sprint(ai.Revision), Slot: ai.Slot, Operator: ai.Operator, Kind: kind}
}

// FinishAttempt implements Store in one transaction. A cancelled attempt
// ends as a failure of kind canceled, with its reason (board_removed,
// stopped).
func (a AuditStore) FinishAttempt(ctx context.Context, attempt int64, steps []StepEntry, p *Provisioning, o Outcome) error {
	out := audit.Outcome{Result: audit.OutcomePass}
	if !o.Passed {
		out = audit.Outcome{Result: audit.OutcomeFail, ReasonCode: o.Reason, ReasonKind: string(o.Kind),
			Message: strings.TrimSpace(string(o.Step) + ": " + o.Message)}
	}
	return a.S.CompleteAttempt(ctx, attempt, auditSteps(steps), auditProvisioning(p), out)
}

// FinishAndConfirm implements Store in one transaction; o must be a pass.
// The log itself refuses a device key or serial another unit has.
func (a AuditStore) FinishAndConfirm(ctx context.Context, attempt int64, steps []StepEntry, p *Provisioning, o Outcome, _, sn string) error {
	if !o.Passed {
		return fmt.Errorf("finish attempt %d and confirm SN %s: the attempt failed: %w", attempt, sn, audit.ErrInvalid)
	}
	err := a.S.CompleteAndConfirm(ctx, attempt, auditSteps(steps), auditProvisioning(p), audit.Outcome{Result: audit.OutcomePass}, sn)
	var dup *audit.DuplicateKeyError
	if errors.As(err, &dup) {
		return &DuplicateKeyError{Owner: dup.Owner, Err: err}
	}
	return err
}

// auditSteps converts steps to the log's records.
func auditSteps(steps []StepEntry) []audit.Step {
	out := make([]audit.Step, len(steps))
	for i, s := range steps {
		res := "pass"
		if !s.OK {
			res = "fail"
		}
		msg := s.Detail
		if s.Reason != "" {
			msg = s.Reason + ": " + s.Detail
		}
		ms := make([]audit.Measurement, len(s.Measurements))
		for j, m := range s.Measurements {
			ms[j] = audit.Measurement{Name: m.Name, Value: m.Value, Unit: m.Unit, Low: m.Low, High: m.High, Passed: m.Passed}
		}
		out[i] = audit.Step{Name: string(s.Step), Start: s.Started, End: s.Started.Add(s.Duration),
			Result: res, Message: msg, Measurements: ms}
	}
	return out
}

// auditProvisioning converts a provisioning result to the log's record:
// names and fingerprints. The cloud's rejected triple, when there is one,
// goes into the attempt's end message instead. Nothing to record is nil.
func auditProvisioning(p *Provisioning) *audit.Provisioning {
	if p == nil || (p.ThingName == "" && p.CertificateID == "" && p.CertSHA256 == "" && p.PublicKeySHA256 == "" && p.CertSerial == "") {
		return nil
	}
	return &audit.Provisioning{ThingName: p.ThingName, DeviceCertID: p.CertificateID, CertSHA256: p.CertSHA256,
		PublicKeySHA256: strings.ToLower(p.PublicKeySHA256), DeviceCertSerial: strings.ToLower(p.CertSerial)}
}

// UnitByMAC implements Store: the unit and, from its history, what its
// last passed build attempt recorded.
func (a AuditStore) UnitByMAC(ctx context.Context, mac string) (*Unit, error) {
	u, err := a.S.UnitByMAC(ctx, mac)
	if errors.Is(err, audit.ErrNotFound) || (err == nil && u.SN == "") {
		return nil, ErrUnknownUnit
	}
	if err != nil {
		return nil, err
	}
	out := &Unit{SN: u.SN, MAC: u.MAC, Batch: u.Batch, Confirmed: u.State == audit.StateConfirmed}
	hist, err := a.S.History(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, at := range hist {
		if at.Kind == audit.KindRetest || at.Outcome != audit.OutcomePass {
			continue
		}
		if n := len(at.Provisioning); n > 0 {
			p := at.Provisioning[n-1]
			out.ThingName, out.CertSHA256 = p.ThingName, p.CertSHA256
		}
		for _, st := range at.Steps {
			if st.Name == string(StepBoot) {
				out.Firmware = bootFirmware(st.Message)
			}
		}
	}
	return out, nil
}

// bootFirmware reads the firmware version from a boot step's message
// ("firmware 1.4.2, mode normal").
func bootFirmware(msg string) string {
	rest, ok := strings.CutPrefix(msg, "firmware ")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, ",")
	return v
}

// Counts implements Store from the log's progress, yield and recent rate,
// so a resumed batch shows the rate it was running at.
func (a AuditStore) Counts(ctx context.Context, batchID string) (batch.Counts, error) {
	p, err := a.S.BatchProgress(ctx, batchID)
	if err != nil {
		return batch.Counts{}, err
	}
	y, err := a.S.BatchYield(ctx, batchID)
	if err != nil {
		return batch.Counts{}, err
	}
	rate, err := a.S.BatchRate(ctx, batchID, audit.DefaultRateWindow)
	if err != nil {
		return batch.Counts{}, err
	}
	return batch.Counts{Tried: int(p.Passed + p.Failed), Passed: int(p.Passed), Failed: int(p.Failed), FirstPassed: int(y.FirstPass),
		UnitsPerHour: rate}, nil
}
