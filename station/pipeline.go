package station

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// attempt is one run of the pipeline on one board. The attempt record is
// opened right after the SN is reserved, in its own commit; finished steps
// wait in pending and are written together with the provisioning result
// and the outcome at the end (the write that also confirms the SN and
// refuses another unit's device key). The
// audit log commits with fsync, so a step per commit cost a 32-slot line
// most of its CPU; a crash in between still leaves the open attempt, which
// the next start closes as interrupted. The attempt is always closed,
// whatever happens, before the result is published.
type attempt struct {
	e       *Engine
	ss      *slotState
	n       int
	board   Board
	info    ChipInfo
	sn      string
	unit    *Unit // retest and rework: the audit record of the board
	id      int64
	started time.Time
	pending []StepEntry
	last    Step // the step running or last run
	prov    Provisioning
	hasProv bool
	report  *bootReport
	// confirm: the batch whose SN finish confirms with the passing
	// outcome, in the same write; "" until the record step passes.
	confirm string
}

// runBoard runs a board's attempts: a transient failure is retried after a
// backoff (each retry a new attempt record, on a fresh connection) up to
// Retry.MaxAttempts; a permanent one ends the board.
func (e *Engine) runBoard(ctx context.Context, ss *slotState, board Board) UnitResult {
	mac := board.Info().MAC
	for n := 1; ; n++ {
		res, f := e.attempt(ctx, ss, board, n)
		if f == nil || !f.Transient || n >= e.cfg.Retry.MaxAttempts || ctx.Err() != nil || e.isStopping() {
			return res
		}
		e.setState(ss, StateRunning, StepWaiting, fmt.Sprintf("retry %d of %d after %s", n+1, e.cfg.Retry.MaxAttempts, f.Reason))
		if e.nap(ctx, ss, e.backoff(n)) != nil || e.isStopping() {
			return res
		}
		cctx, cancel := context.WithTimeout(ctx, e.cfg.Timeouts.Connect)
		next, err := e.conn.Connect(cctx, ss.slot, e.cfg.Baud)
		cancel()
		if err != nil {
			res.Message += fmt.Sprintf(" (retry could not connect: %v)", err)
			return res
		}
		if next.Info().MAC != mac {
			next.Close()
			res.Message += " (another board is in the slot now)"
			return res
		}
		board = next
	}
}

// attempt runs the pipeline once on a connected board and returns its
// published result and, when it failed, the failure.
func (e *Engine) attempt(ctx context.Context, ss *slotState, board Board, n int) (UnitResult, *Failure) {
	a := &attempt{e: e, ss: ss, n: n, board: board, info: board.Info(), started: e.clock.Now()}
	defer board.Close()
	e.setIdentity(ss, a.info.MAC, "")
	e.setState(ss, StateRunning, StepIdentify, fmt.Sprintf("%s rev %d, MAC %s", a.info.Chip, a.info.Revision, a.info.MAC))
	a.pending = append(a.pending, StepEntry{Step: StepIdentify, Started: a.started, OK: true,
		Detail: fmt.Sprintf("chip %s rev %d flash %d bytes", a.info.Chip, a.info.Revision, a.info.FlashSize)})
	var f *Failure
	switch e.cfg.Mode {
	case ModeRetest:
		f = a.runRetest(ctx)
	default:
		f = a.runBuild(ctx)
	}
	return a.finish(ctx, f)
}

// runBuild is the factory flow (and rework, which keeps the board's SN).
func (a *attempt) runBuild(ctx context.Context) *Failure {
	e := a.e
	if f := a.checkChip(); f != nil {
		return f
	}
	if e.isStopping() {
		return fail(StepReserve, ReasonStopped, nil, "stopped before the board was started")
	}
	if f := a.reserve(ctx); f != nil {
		return f
	}
	var factory []byte
	if f := a.step(ctx, StepPersonal, func(ctx context.Context) (string, error) {
		data, err := e.cfg.BuildFactory(a.sn, a.info.MAC)
		if err != nil {
			return "", fail(StepPersonal, ReasonFactoryData, err, "build factory data: %v", err)
		}
		if uint32(len(data)) > e.cfg.Image.FactorySize {
			return "", fail(StepPersonal, ReasonFactoryData, nil, "factory data is %d bytes, partition %q holds %d", len(data), e.cfg.Image.FactoryLabel, e.cfg.Image.FactorySize)
		}
		factory = data
		return fmt.Sprintf("%d bytes for %s", len(data), e.cfg.Image.FactoryLabel), nil
	}); f != nil {
		return f
	}
	if f := a.flash(ctx, factory); f != nil {
		return f
	}
	if f := a.firstBoot(ctx, false); f != nil {
		return f
	}
	if f := a.step(ctx, StepCheck, func(ctx context.Context) (string, error) {
		return "identity, certificate and claim erasure checked", a.checkBuild(ctx)
	}); f != nil {
		return f
	}
	return a.step(ctx, StepRecord, func(ctx context.Context) (string, error) {
		b := e.cfg.Batch
		if a.unit != nil {
			b = a.unit.Batch
		}
		// Confirmed by finish with the pass, or not at all.
		a.confirm = b
		return "SN " + a.sn + " confirmed", nil
	})
}

// checkChip compares the board with the bundle's target and size.
func (a *attempt) checkChip() *Failure {
	img := a.e.cfg.Image
	switch {
	case a.info.SecureDownload:
		return fail(StepIdentify, ReasonSecureDownload, nil, "board is in secure download mode")
	case img.Chip != "" && !strings.EqualFold(a.info.Chip, img.Chip):
		return fail(StepIdentify, ReasonWrongChip, nil, "board is an %s, the bundle is for %s", a.info.Chip, img.Chip)
	case img.MinFlashSize > 0 && a.info.FlashSize > 0 && a.info.FlashSize < img.MinFlashSize:
		return fail(StepIdentify, ReasonFlashTooSmall, nil, "board has %d bytes of flash, the bundle needs %d", a.info.FlashSize, img.MinFlashSize)
	}
	return nil
}

// reserve books the board's SN (the same one again for a known MAC; for a
// rework, the SN it was built with) and opens the attempt record right
// away, so no SN is ever handed out without a record.
func (a *attempt) reserve(ctx context.Context) *Failure {
	e := a.e
	t0 := e.clock.Now()
	ctx = context.WithoutCancel(ctx) // reserve and open the record as one
	e.emit(Event{Type: EvStepStarted, Slot: a.ss.slot.Name, Step: StepReserve, MAC: a.info.MAC})
	if e.cfg.Mode == ModeRework {
		u, err := e.store.UnitByMAC(ctx, a.info.MAC)
		if errors.Is(err, ErrUnknownUnit) {
			return fail(StepReserve, ReasonUnknownBoard, err, "board %s was never built with this database: rework keeps an SN, it cannot make one", a.info.MAC)
		} else if err != nil {
			return fail(StepReserve, ReasonStoreFailed, err, "look up board %s: %v", a.info.MAC, err)
		}
		a.unit, a.sn = u, u.SN
		if f := a.open(ctx, false); f != nil {
			return f
		}
	} else {
		sn, id, err := e.store.ReserveAndStart(ctx, a.startInfo(false))
		if err != nil {
			return fail(StepReserve, ReasonStoreFailed, err, "reserve an SN and open the attempt record: %v", err)
		}
		a.sn, a.id = sn, id
	}
	e.setIdentity(a.ss, a.info.MAC, a.sn)
	return a.record(ctx, StepEntry{Step: StepReserve, Started: t0, Duration: e.clock.Now().Sub(t0), OK: true, Detail: "SN " + a.sn})
}

// open starts the attempt record; the steps that ran before it stay in
// pending for the next write.
func (a *attempt) open(ctx context.Context, retest bool) *Failure {
	e := a.e
	id, err := e.store.StartAttempt(ctx, a.startInfo(retest))
	if err != nil {
		return fail(StepReserve, ReasonStoreFailed, err, "open the attempt record: %v", err)
	}
	a.id = id
	return nil
}

// startInfo describes the attempt for its record.
func (a *attempt) startInfo(retest bool) AttemptInfo {
	e := a.e
	return AttemptInfo{Batch: e.cfg.Batch, SN: a.sn, MAC: a.info.MAC, Slot: a.ss.slot.Name,
		Station: e.cfg.Station, Operator: e.currentOperator(), Chip: a.info.Chip, Revision: a.info.Revision,
		Retest: retest, Rework: e.cfg.Mode == ModeRework, Number: a.n, Started: a.started}
}

// record keeps one finished step for the next write of the attempt.
func (a *attempt) record(_ context.Context, s StepEntry) *Failure {
	a.pending = append(a.pending, s)
	return nil
}

// failRecordStep marks the kept record step as failed with f: the log
// refused what it had reported done.
func (a *attempt) failRecordStep(f *Failure) {
	for i := len(a.pending) - 1; i >= 0; i-- {
		if a.pending[i].Step == StepRecord {
			a.pending[i].OK, a.pending[i].Reason, a.pending[i].Detail = false, f.Reason, f.Message
			return
		}
	}
}

// step runs fn as one pipeline step: events before and after, the step
// recorded either way.
func (a *attempt) step(ctx context.Context, step Step, fn func(ctx context.Context) (string, error)) *Failure {
	return a.stepWith(ctx, step, func(ctx context.Context) (string, []Measurement, error) {
		d, err := fn(ctx)
		return d, nil, err
	})
}

func (a *attempt) stepWith(ctx context.Context, step Step, fn func(ctx context.Context) (string, []Measurement, error)) *Failure {
	e := a.e
	a.last = step
	t0 := e.clock.Now()
	e.setState(a.ss, StateRunning, step, "")
	e.emit(Event{Type: EvStepStarted, Slot: a.ss.slot.Name, Step: step, MAC: a.info.MAC, SN: a.sn})
	detail, ms, err := fn(ctx)
	f := classify(step, err, ReasonInternal)
	d := e.clock.Now().Sub(t0)
	entry := StepEntry{Step: step, Started: t0, Duration: d, OK: f == nil, Detail: detail, Measurements: ms}
	msg := detail
	if f != nil {
		entry.Reason, entry.Detail = f.Reason, f.Message
		msg = f.Message
	}
	e.emit(Event{Type: EvStepFinished, Slot: a.ss.slot.Name, Step: step, MAC: a.info.MAC, SN: a.sn, Duration: d, Message: msg})
	if rf := a.record(ctx, entry); rf != nil && f == nil {
		return rf
	}
	return f
}

// flash writes the bundle and the board's factory data, skipping regions
// already correct, and verifies every region's MD5.
func (a *attempt) flash(ctx context.Context, factory []byte) *Failure {
	e := a.e
	img := e.cfg.Image
	regions := make([]Region, 0, len(img.Regions)+1)
	for _, r := range img.Regions {
		r.Shared = true
		regions = append(regions, r)
	}
	regions = append(regions, Region{Name: img.FactoryLabel, Offset: img.FactoryOffset, Data: factory})
	var rep WriteReport
	if f := a.step(ctx, StepFlash, func(ctx context.Context) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeouts.Flash)
		defer cancel()
		var err error
		rep, err = a.board.Write(ctx, regions, func(region string, done, total int64) {
			e.emit(Event{Type: EvProgress, Slot: a.ss.slot.Name, Step: StepFlash, Label: region, Done: done, Total: total})
		})
		if err != nil {
			return "", classify(StepFlash, err, ReasonFlashWriteFailed)
		}
		return fmt.Sprintf("wrote %s; skipped %s; %d bytes", list(rep.Written), list(rep.Skipped), rep.Bytes), nil
	}); f != nil {
		return f
	}
	return a.step(ctx, StepVerify, func(context.Context) (string, error) {
		return fmt.Sprintf("MD5 of %d regions matches", len(regions)), nil
	})
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}

// finish closes the attempt record (with a context that outlives a
// cancelled run, so an interrupted attempt is recorded as such) and
// publishes the unit's result.
func (a *attempt) finish(ctx context.Context, f *Failure) (UnitResult, *Failure) {
	e := a.e
	rctx := context.WithoutCancel(ctx)
	now := e.clock.Now()
	if f != nil && f.Reason == ReasonStopped && ctx.Err() != nil {
		f.Message = "interrupted: " + f.Message
	}
	if a.id != 0 {
		e.mu.Lock()
		e.runAttempts++
		e.mu.Unlock()
		var prov *Provisioning
		if a.hasProv {
			prov = &a.prov
		}
		outcome := func(f *Failure) Outcome {
			o := Outcome{Passed: f == nil, Finished: now}
			if f != nil {
				o.Step, o.Kind, o.Reason, o.Message = f.Step, f.Kind, f.Reason, f.Message
			}
			return o
		}
		write := func() error { return e.store.FinishAttempt(rctx, a.id, a.pending, prov, outcome(f)) }
		if f == nil && a.confirm != "" {
			write = func() error {
				return e.store.FinishAndConfirm(rctx, a.id, a.pending, prov, outcome(f), a.confirm, a.sn)
			}
		}
		err := write()
		var dup *DuplicateKeyError
		if f == nil && errors.As(err, &dup) {
			// Refused by the log: another unit has this device key. The
			// attempt is recorded whole, as failed at the record step.
			f = fail(StepRecord, ReasonDuplicateKey, nil, "%v", dup)
			a.failRecordStep(f)
			err = e.store.FinishAttempt(rctx, a.id, a.pending, prov, outcome(f))
		}
		if err != nil {
			// Nothing of it was kept (a step refused, a full disk): close
			// the attempt with its outcome alone, so it does not read as
			// interrupted, and fail a board that had passed.
			e.emit(Event{Type: EvLog, Slot: a.ss.slot.Name, Message: fmt.Sprintf("audit log: record attempt %d: %v", a.id, err)})
			if f == nil {
				f = fail(StepRecord, ReasonStoreFailed, err, "record the attempt: %v", err)
			}
			if err := e.store.FinishAttempt(rctx, a.id, nil, nil, outcome(f)); err != nil {
				e.emit(Event{Type: EvLog, Slot: a.ss.slot.Name, Message: fmt.Sprintf("audit log: close attempt %d: %v", a.id, err)})
			}
		}
		a.pending = nil
	}
	e.mu.Lock()
	a.ss.stats.Attempts++
	a.ss.stats.BusyTime += now.Sub(a.started)
	e.mu.Unlock()
	res := UnitResult{Slot: a.ss.slot.Name, MAC: a.info.MAC, SN: a.sn, Chip: a.info.Chip, Passed: f == nil,
		Attempt: a.id, Duration: now.Sub(a.started), Retest: e.cfg.Mode == ModeRetest,
		ThingName: a.prov.ThingName, CertID: a.prov.CertificateID}
	msg := "PASS"
	if f != nil {
		res.Step, res.Kind, res.Reason, res.Message, res.Remedy = f.Step, f.Kind, f.Reason, f.Message, f.Remedy
		msg = f.Error()
	}
	e.emit(Event{Type: EvUnitResult, Slot: a.ss.slot.Name, MAC: a.info.MAC, SN: a.sn, Result: &res, Message: msg})
	return res, f
}
