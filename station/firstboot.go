package station

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fleetline/firmware/selftest"
)

// bootReport is everything the board said during its first boot (or
// retest boot), as decoded from its console.
type bootReport struct {
	hello   *selftest.Hello
	clock   *selftest.Clock // the board's clock after the time sync
	tests   []selftest.Test
	prov    map[string]selftest.Prov
	result  *selftest.ProvResult
	cert    *selftest.Cert
	verdict *selftest.Verdict
	leaked  bool // a console line carried private key material
	bad     int  // rejected protocol lines
}

// firstBoot resets the board into its app and runs the console
// conversation: wait for hello, send the time and start (or retest),
// collect tests, provisioning steps, the certificate and the verdict. It
// records the boot, selftest and provision steps as their messages arrive.
func (a *attempt) firstBoot(ctx context.Context, retest bool) *Failure {
	e := a.e
	r := &bootReport{prov: map[string]selftest.Prov{}}
	a.report = r
	var con Console
	lines := make(chan lineOrErr, 64)
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()

	// boot: reset into the app and wait for hello.
	if f := a.step(ctx, StepBoot, func(ctx context.Context) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeouts.FirstBoot)
		defer cancel()
		c, err := a.board.BootApp(ctx, e.cfg.AppBaud)
		if err != nil {
			return "", classify(StepBoot, err, ReasonBootFailed)
		}
		con = c
		go readLines(readCtx, con, lines)
		for r.hello == nil {
			m, err := a.next(ctx, lines, r)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					return "", fail(StepBoot, ReasonNoHello, err, "no hello from the factory firmware within %s", e.cfg.Timeouts.FirstBoot)
				}
				return "", classify(StepBoot, err, ReasonBootFailed)
			}
			if h, ok := m.(*selftest.Hello); ok {
				r.hello = h
			}
		}
		return fmt.Sprintf("firmware %s, mode %s", r.hello.Firmware, r.hello.Mode), nil
	}); f != nil {
		if con != nil {
			con.Close()
		}
		return f
	}
	defer con.Close()

	var start selftest.Message = selftest.Start{}
	if retest {
		start = selftest.Retest{}
	}
	for _, m := range []selftest.Message{selftest.NewTime(e.clock.Now()), start} {
		line, err := selftest.Encode(m)
		if err == nil {
			err = con.WriteLine(ctx, line)
		}
		if err != nil {
			return classify(StepBoot, err, ReasonBootFailed)
		}
	}

	// selftest, then provision, until the verdict.
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeouts.Provision)
	defer cancel()
	phase := StepSelfTest
	t0 := e.clock.Now()
	e.setState(a.ss, StateRunning, StepSelfTest, "")
	e.emit(Event{Type: EvStepStarted, Slot: a.ss.slot.Name, Step: StepSelfTest, MAC: a.info.MAC, SN: a.sn})
	endPhase := func(f *Failure, next Step) *Failure {
		d := e.clock.Now().Sub(t0)
		entry := StepEntry{Step: phase, Started: t0, Duration: d, OK: f == nil}
		if phase == StepSelfTest {
			entry.Measurements = a.measurements()
			entry.Detail = fmt.Sprintf("%d tests", len(r.tests))
		}
		msg := entry.Detail
		if f != nil {
			entry.Reason, entry.Detail, msg = f.Reason, f.Message, f.Message
		}
		e.emit(Event{Type: EvStepFinished, Slot: a.ss.slot.Name, Step: phase, MAC: a.info.MAC, SN: a.sn, Duration: d, Message: msg})
		if rf := a.record(ctx, entry); rf != nil && f == nil {
			return rf
		}
		if f == nil && next != "" {
			phase, t0 = next, e.clock.Now()
			a.last = next
			e.setState(a.ss, StateRunning, next, "")
			e.emit(Event{Type: EvStepStarted, Slot: a.ss.slot.Name, Step: next, MAC: a.info.MAC, SN: a.sn})
		}
		return f
	}
	for r.verdict == nil {
		m, err := a.next(ctx, lines, r)
		if err != nil {
			f := classify(phase, err, ReasonBootFailed)
			if errors.Is(err, context.DeadlineExceeded) {
				f = fail(phase, ReasonTimeout, err, "no verdict from the board within %s of its hello", e.cfg.Timeouts.Provision)
			}
			return endPhase(f, "")
		}
		switch m := m.(type) {
		case *selftest.Test:
			r.tests = append(r.tests, *m)
			e.emit(Event{Type: EvMeasurement, Slot: a.ss.slot.Name, Step: StepSelfTest, Measurement: a.measure(*m)})
		case *selftest.Prov, *selftest.ProvResult, *selftest.Cert:
			if phase == StepSelfTest {
				if f := endPhase(nil, StepProvision); f != nil {
					return f
				}
			}
			switch m := m.(type) {
			case *selftest.Prov:
				r.prov[m.Step] = *m
				e.emit(Event{Type: EvLog, Slot: a.ss.slot.Name, Step: StepProvision, Message: "provisioning: " + m.Step})
			case *selftest.ProvResult:
				r.result = m
			case *selftest.Cert:
				r.cert = m
			}
		case *selftest.Clock:
			r.clock = m
		case *selftest.Verdict:
			r.verdict = m
		}
	}
	a.collectProvisioning()
	var f *Failure
	if r.leaked {
		f = fail(phase, ReasonPrivateKeyLeaked, nil, "the firmware printed secret key material on the console: a security defect")
	} else if phase == StepProvision && r.result != nil && !r.result.OK {
		f = provFailure(*r.result)
	}
	return endPhase(f, "")
}

type lineOrErr struct {
	line string
	err  error
}

// readLines pumps console lines into ch until an error, which it sends last.
func readLines(ctx context.Context, con Console, ch chan<- lineOrErr) {
	for {
		line, err := con.ReadLine(ctx)
		select {
		case ch <- lineOrErr{line, err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// next returns the next protocol message. Every line is published as a
// console event (a line with key material is redacted and flagged); plain
// and rejected lines are skipped.
func (a *attempt) next(ctx context.Context, lines <-chan lineOrErr, r *bootReport) (selftest.Message, error) {
	for {
		var l lineOrErr
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case l = <-lines:
		}
		if l.err != nil {
			return nil, l.err
		}
		text := l.line
		if a.e.cfg.LooksLikeSecret(text) {
			r.leaked = true
			text = "[line withheld: it carries secret key material]"
		}
		a.e.emit(Event{Type: EvConsole, Slot: a.ss.slot.Name, Message: text})
		if r.leaked && text != l.line {
			continue
		}
		m, err := selftest.DecodeLine([]byte(l.line))
		switch {
		case errors.Is(err, selftest.ErrNotMarked):
			continue
		case errors.Is(err, selftest.ErrUnknownType):
			// A newer firmware's message: named in the log, its body (which
			// the station cannot vet for secrets) left out.
			name := "?"
			if u, ok := m.(selftest.Unknown); ok {
				name = u.Name
			} else if u, ok := m.(*selftest.Unknown); ok {
				name = u.Name
			}
			a.e.emit(Event{Type: EvLog, Slot: a.ss.slot.Name, Message: fmt.Sprintf("console: ignored protocol message of unknown type %.32q", name)})
			continue
		case err != nil:
			r.bad++
			a.e.emit(Event{Type: EvLog, Slot: a.ss.slot.Name, Message: "console: rejected protocol line: " + err.Error()})
			continue
		}
		return toPointer(m), nil
	}
}

// toPointer normalizes decoded messages to pointers for the type switches.
func toPointer(m selftest.Message) selftest.Message {
	switch v := m.(type) {
	case selftest.Hello:
		return &v
	case selftest.Clock:
		return &v
	case selftest.Test:
		return &v
	case selftest.Prov:
		return &v
	case selftest.ProvResult:
		return &v
	case selftest.Cert:
		return &v
	case selftest.Verdict:
		return &v
	}
	return m
}

// measure judges a test against the batch's limit for it, or the board's
// own limits when the batch names none.
func (a *attempt) measure(t selftest.Test) *Measurement {
	low, high := t.Low, t.High
	m := &Measurement{Name: t.Name, Value: t.Value, Unit: t.Unit, Low: &low, High: &high}
	if l, ok := a.e.cfg.Limits[t.Name]; ok {
		m.Low, m.High = l.Low, l.High
		if l.Unit != "" {
			m.Unit = l.Unit
		}
	}
	m.Passed = (m.Low == nil || t.Value >= *m.Low) && (m.High == nil || t.Value <= *m.High)
	if _, ok := a.e.cfg.Limits[t.Name]; !ok {
		m.Passed = m.Passed && t.Pass
	}
	return m
}

func (a *attempt) measurements() []Measurement {
	var out []Measurement
	for _, t := range a.report.tests {
		out = append(out, *a.measure(t))
	}
	return out
}

// collectProvisioning gathers what the board reported for the record.
func (a *attempt) collectProvisioning() {
	r := a.report
	p := &a.prov
	p.Firmware = r.hello.Firmware
	if k, ok := r.prov[selftest.StepKeyGenerated]; ok {
		p.PublicKeySHA256 = k.PublicKeySHA256
	}
	if c, ok := r.prov[selftest.StepCertReceived]; ok {
		p.CertificateID = c.CertificateID
	}
	if t, ok := r.prov[selftest.StepThingRegistered]; ok {
		p.ThingName = t.ThingName
	}
	_, p.ClaimErased = r.prov[selftest.StepClaimErased]
	if res := r.result; res != nil {
		p.ThingName = first(p.ThingName, res.ThingName)
		p.CertificateID = first(p.CertificateID, res.CertificateID)
		p.StatusCode, p.ErrorCode, p.ErrorMessage = res.StatusCode, res.ErrorCode, res.ErrorMessage
		if p.ErrorMessage == "" {
			p.ErrorMessage = res.Error
		}
	}
	if r.cert != nil {
		p.CertificateID = first(p.CertificateID, r.cert.CertificateID)
	}
	if r.hello.ThingName != "" {
		p.ThingName = first(p.ThingName, r.hello.ThingName)
	}
	a.hasProv = a.id != 0
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// provFailure maps the cloud's rejected triple (or a local provisioning
// error) to a reason code. The triple is kept verbatim in the record; the
// mapping only chooses the operator's remedy.
func provFailure(r selftest.ProvResult) *Failure {
	text := strings.ToLower(strings.Join([]string{r.ErrorCode, r.ErrorMessage, r.Error}, " "))
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(text, w) {
				return true
			}
		}
		return false
	}
	detail := fmt.Sprintf("%s rejected", first(r.Op, "provisioning"))
	if r.StatusCode != 0 || r.ErrorCode != "" {
		detail += fmt.Sprintf(": %d %s %s", r.StatusCode, r.ErrorCode, r.ErrorMessage)
	} else if r.Error != "" {
		detail += ": " + r.Error
	}
	var reason string
	switch {
	case has("not yet valid", "clock", "system time", "time not set"):
		reason = ReasonClockInvalid
	case has("expired"):
		reason = ReasonClaimExpired
	case has("template") && has("not exist", "not found", "inactive", "not active", "disabled", "missing"):
		reason = ReasonTemplateMissing
	case r.StatusCode == 429 || has("throttl", "rate exceeded", "too many", "limitexceeded"):
		reason = ReasonThrottled
	case has("not registered", "unauthorized", "forbidden", "access denied", "accessdenied", "not authorized") || r.StatusCode == 401 || r.StatusCode == 403:
		reason = ReasonClaimNotReg
	case r.Op == "connect" || has("unreachable", "timeout", "timed out", "refused", "dns", "network", "no route"):
		reason = ReasonCloudUnreachable
	default:
		reason = ReasonProvisionFailed
	}
	return fail(StepProvision, reason, nil, "%s", detail)
}
