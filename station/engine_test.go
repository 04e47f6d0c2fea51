package station

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetline/batch"
	"fleetline/firmware/selftest"
)

type rig struct {
	t     *testing.T
	line  *fakeLine
	store *fakeStore
	clock *fakeClock
	conn  Connector // default line
	cfg   Config
	eng   *Engine
	mu    sync.Mutex
	evs   []Event
	done  chan struct{}
}

func f64(v float64) *float64 { return &v }

func newRig(t *testing.T) *rig {
	r := &rig{t: t, line: newFakeLine(t), store: newFakeStore(), clock: newFakeClock(), done: make(chan struct{})}
	r.cfg = Config{
		Batch: "B1", Station: "st1", Operator: "op1", Quantity: 100,
		Image: Image{Chip: "esp32", FirmwareVersion: "1.0.0", Regions: []Region{{Name: "bootloader", Offset: 0x1000, Data: make([]byte, 8192)},
			{Name: "app", Offset: 0x10000, Data: make([]byte, 20000)}}, FactoryLabel: "fctry", FactoryOffset: 0x9000, FactorySize: 0x6000},
		BuildFactory: func(sn, mac string) ([]byte, error) { return []byte("SN=" + sn), nil },
		InspectFactory: func(data []byte) (FactoryContents, error) {
			return FactoryContents{SN: strings.TrimPrefix(string(data), "SN=")}, nil
		},
		Limits:       map[string]batch.Limit{"vdd": {Low: f64(3.15), High: f64(3.45), Unit: "V"}},
		Retry:        batch.Retry{MaxAttempts: 3, Backoff: time.Second},
		Quarantine:   2,
		CAPool:       r.line.ca.pool,
		ThingName:    func(sn string) string { return "thing-" + sn },
		PollInterval: time.Second,
	}
	return r
}

func (r *rig) start(slots ...string) {
	r.t.Helper()
	var conn Connector = r.line
	if r.conn != nil {
		conn = r.conn
	}
	eng, err := New(r.cfg, Deps{Connector: conn, Store: r.store, Clock: r.clock})
	if err != nil {
		r.t.Fatal(err)
	}
	r.eng = eng
	ch, _ := eng.Subscribe(16)
	go func() {
		defer close(r.done)
		for ev := range ch {
			r.mu.Lock()
			r.evs = append(r.evs, ev)
			r.mu.Unlock()
		}
	}()
	var ss []Slot
	for _, s := range slots {
		ss = append(ss, Slot{Name: s, Address: "fake://" + s})
	}
	if err := eng.Start(context.Background(), ss); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) run(slots ...string) Summary {
	r.t.Helper()
	r.start(slots...)
	return r.wait()
}

func (r *rig) wait() Summary {
	s := r.eng.Wait()
	<-r.done
	r.store.checkRecorded(r.t)
	return s
}

func (r *rig) results() []UnitResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []UnitResult
	for _, ev := range r.evs {
		if ev.Type == EvUnitResult && ev.Result.MAC != "" {
			out = append(out, *ev.Result)
		}
	}
	return out
}

func (r *rig) events(typ EventType) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, ev := range r.evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func TestCleanBatch(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 4
	r.line.add("A", fwSpec{}, fwSpec{})
	r.line.add("B", fwSpec{}, fwSpec{})
	sum := r.run("A", "B")
	if sum.RunPassed != 4 || sum.RunFailed != 0 || sum.Interrupted {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Stats.Passed != 4 || sum.Stats.FirstPassYield != 1 || sum.Stats.Remaining != 96 {
		t.Errorf("stats %+v", sum.Stats)
	}
	if got := r.store.outcomes(); len(got) != 4 || slices.ContainsFunc(got, func(s string) bool { return !strings.HasSuffix(s, ":pass") }) {
		t.Errorf("outcomes %v", got)
	}
	for sn, ok := range r.store.conf {
		if !ok {
			t.Errorf("%s not confirmed", sn)
		}
	}
	// Every attempt records the whole pipeline in order.
	want := []Step{StepIdentify, StepReserve, StepPersonal, StepFlash, StepVerify, StepBoot, StepSelfTest, StepProvision, StepCheck, StepRecord}
	for _, a := range r.store.attempts {
		var got []Step
		for _, s := range a.steps {
			got = append(got, s.Step)
		}
		if !slices.Equal(got, want) {
			t.Errorf("steps %v, want %v", got, want)
		}
		if a.prov == nil || a.prov.CertSHA256 == "" || a.prov.PublicKeySHA256 == "" || !a.prov.ClaimErased || a.prov.ThingName != "thing-"+a.info.SN {
			t.Errorf("provisioning record %+v", a.prov)
		}
		if a.info.Operator != "op1" || a.info.Station != "st1" {
			t.Errorf("attempt info %+v", a.info)
		}
		if len(a.steps[6].Measurements) != 1 || !a.steps[6].Measurements[0].Passed {
			t.Errorf("measurements %+v", a.steps[6].Measurements)
		}
	}
	evs := r.events(EvBatchFinished)
	if len(evs) != 1 {
		t.Fatalf("%d batch_finished events", len(evs))
	}
	r.mu.Lock()
	last := r.evs[len(r.evs)-1]
	r.mu.Unlock()
	if last.Type != EvBatchFinished {
		t.Errorf("last event %s", last.Type)
	}
}

// TestEventOrderPerSlot checks every board's events arrive in pipeline
// order: steps start and finish in sequence and the result comes last.
// TestUnknownMessageTypeIsLogged: a newer firmware's message type is named
// in the log, its body left out, and the board still passes.
func TestUnknownMessageTypeIsLogged(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	r.line.add("A", fwSpec{unknownMsg: `{"type":"battery_gauge","note":"body the station must not echo"}`})
	if sum := r.run("A"); sum.RunPassed != 1 {
		t.Fatalf("summary %+v", sum)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	logged := false
	for _, ev := range r.evs {
		if ev.Type == EvLog && strings.Contains(ev.Message, "battery_gauge") {
			logged = true
			if strings.Contains(ev.Message, "must not echo") {
				t.Errorf("log repeats the body: %q", ev.Message)
			}
		}
	}
	if !logged {
		t.Error("unknown message type not logged")
	}
}

func TestEventOrderPerSlot(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 2
	r.line.add("A", fwSpec{})
	r.line.add("B", fwSpec{})
	r.run("A", "B")
	for _, slot := range []string{"A", "B"} {
		var seq []string
		r.mu.Lock()
		for _, ev := range r.evs {
			if ev.Slot == slot && (ev.Type == EvStepStarted || ev.Type == EvStepFinished || ev.Type == EvUnitResult) {
				seq = append(seq, string(ev.Type)+":"+string(ev.Step))
			}
		}
		r.mu.Unlock()
		want := []string{}
		for _, s := range []Step{StepReserve, StepPersonal, StepFlash, StepVerify, StepBoot, StepSelfTest, StepProvision, StepCheck, StepRecord} {
			if s == StepReserve {
				want = append(want, "step_started:reserve")
				continue
			}
			want = append(want, "step_started:"+string(s), "step_finished:"+string(s))
		}
		want = append(want, "unit_result:")
		if !slices.Equal(seq, want) {
			t.Errorf("slot %s events:\n got %v\nwant %v", slot, seq, want)
		}
	}
	if n := len(r.events(EvMeasurement)); n != 2 {
		t.Errorf("%d measurement events", n)
	}
	if n := len(r.events(EvProgress)); n == 0 {
		t.Error("no progress events")
	}
}

func TestFailures(t *testing.T) {
	other := newTestCA(t, "other CA")
	tests := []struct {
		name     string
		fw       fwSpec
		reason   string
		kind     Kind
		attempts int
	}{
		{"out of limits", fwSpec{tests: []selftest.Test{{Name: "vdd", Value: 2.9, Low: 3.1, High: 3.5, Pass: true}}}, ReasonTestOutOfLimits, KindDevice, 1},
		{"test missing", fwSpec{tests: []selftest.Test{{Name: "wifi", Value: 1, Low: 0, High: 2, Pass: true}}}, ReasonTestMissing, KindDevice, 1},
		{"claim expired", fwSpec{result: &selftest.ProvResult{Op: "connect", Error: "TLS alert: certificate expired"}}, ReasonClaimExpired, KindProvisioning, 1},
		{"template missing", fwSpec{result: &selftest.ProvResult{Op: "RegisterThing", StatusCode: 404, ErrorCode: "ResourceNotFoundException", ErrorMessage: "Template T does not exist"}}, ReasonTemplateMissing, KindProvisioning, 1},
		{"claim not registered", fwSpec{result: &selftest.ProvResult{Op: "CreateCertificateFromCsr", StatusCode: 403, ErrorCode: "Forbidden", ErrorMessage: "claim certificate not registered"}}, ReasonClaimNotReg, KindProvisioning, 1},
		{"clock", fwSpec{result: &selftest.ProvResult{Op: "connect", Error: "certificate is not yet valid"}}, ReasonClockInvalid, KindProvisioning, 3},
		{"throttled", fwSpec{result: &selftest.ProvResult{Op: "RegisterThing", StatusCode: 429, ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded"}}, ReasonThrottled, KindProvisioning, 3},
		{"unreachable", fwSpec{result: &selftest.ProvResult{Op: "connect", Error: "dial tcp: connection refused"}}, ReasonCloudUnreachable, KindProvisioning, 3},
		{"mac mismatch", fwSpec{helloMAC: "aa:bb:cc:dd:ee:ff"}, ReasonMACMismatch, KindVerify, 1},
		{"sn mismatch", fwSpec{helloSN: "OTHER"}, ReasonSNMismatch, KindVerify, 1},
		{"chain", fwSpec{ca: other}, ReasonCertChainInvalid, KindVerify, 1},
		{"thing", fwSpec{thing: "someone-else"}, ReasonThingMismatch, KindVerify, 1},
		{"claim not erased", fwSpec{skipErase: true}, ReasonClaimNotErased, KindVerify, 1},
		{"key leaked", fwSpec{leakKey: true}, ReasonPrivateKeyLeaked, KindVerify, 1},
		{"verdict", fwSpec{verdictFail: "wifi_scan"}, ReasonBoardFailed, KindDevice, 1},
		{"removed", fwSpec{removeAfterHello: true}, ReasonBoardRemoved, KindCanceled, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.cfg.Count = 1
			r.line.add("A", tt.fw)
			sum := r.run("A")
			res := r.results()
			if sum.RunFailed != 1 || len(res) != tt.attempts {
				t.Fatalf("summary %+v, %d results %+v", sum, len(res), res)
			}
			got := res[len(res)-1]
			if got.Passed || got.Reason != tt.reason || got.Kind != tt.kind || got.Remedy != Reasons[tt.reason].Remedy || got.Message == "" {
				t.Errorf("result %+v, want %s/%s", got, tt.reason, tt.kind)
			}
			if len(r.store.attempts) != tt.attempts {
				t.Errorf("%d attempts recorded, want %d", len(r.store.attempts), tt.attempts)
			}
			if len(r.store.conf) != 0 {
				t.Errorf("failed unit confirmed: %v", r.store.conf)
			}
			for _, a := range r.store.attempts {
				if a.outcome.Reason != tt.reason {
					t.Errorf("recorded reason %q", a.outcome.Reason)
				}
			}
			for _, ev := range r.events(EvConsole) {
				if strings.Contains(ev.Message, "PRIVATE KEY") {
					t.Errorf("console event carries key material: %q", ev.Message)
				}
			}
		})
	}
}

func TestDuplicateKey(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 2
	r.line.add("A", fwSpec{serial: 4242}, fwSpec{serial: 4242})
	r.run("A")
	if got := r.store.outcomes(); !slices.Equal(got, []string{"SN0001:pass", "SN0002:" + ReasonDuplicateKey}) {
		t.Errorf("outcomes %v", got)
	}
	// The refused board's attempt is recorded whole: its steps, its
	// certificate's fingerprints, and the record step failed with why.
	a := r.store.attempts[1]
	last := a.steps[len(a.steps)-1]
	if a.prov == nil || a.prov.CertSerial == "" || last.Step != StepRecord || last.OK || last.Reason != ReasonDuplicateKey || !strings.Contains(last.Detail, "SN0001") {
		t.Errorf("refused attempt: provisioning %+v, last step %+v", a.prov, last)
	}
	if res := r.results(); len(res) != 2 || res[1].Step != StepRecord || !strings.Contains(res[1].Message, "SN0001") {
		t.Errorf("results %+v", res)
	}
}

func TestTransientRetry(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	b := r.line.add("A", fwSpec{})[0]
	b.writeFails = 1
	sum := r.run("A")
	if sum.RunPassed != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if got := r.store.outcomes(); !slices.Equal(got, []string{"SN0001:" + ReasonMD5Mismatch, "SN0001:pass"}) {
		t.Errorf("outcomes %v (same SN on retry, one record per attempt)", got)
	}
	if st := sum.Stats; st.Passed != 1 || st.FirstPassYield != 0 || st.FinalYield != 1 || st.Attempts != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	b := r.line.add("A", fwSpec{})[0]
	b.writeFails = 10
	r.run("A")
	if n := len(r.store.attempts); n != 3 {
		t.Errorf("%d attempts, want max_attempts 3", n)
	}
}

func TestQuarantine(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 3
	bad := fwSpec{tests: []selftest.Test{{Name: "vdd", Value: 0}}}
	r.line.add("A", bad, bad, fwSpec{})
	r.line.add("B")
	r.start("A", "B")
	// Two failed boards in a row quarantine slot A; the third waits.
	waitFor(t, r, func() bool { return len(r.events(EvQuarantine)) == 1 })
	if v := r.eng.Slots()[0]; !v.Stats.Quarantined || v.Stats.ConsecutiveFails != 2 {
		t.Fatalf("slot A %+v", v)
	}
	if err := r.eng.ClearQuarantine("A"); err != nil {
		t.Fatal(err)
	}
	sum := r.wait()
	if sum.RunPassed != 1 || sum.RunFailed != 2 {
		t.Errorf("summary %+v", sum)
	}
	if err := r.eng.ClearQuarantine("nope"); err == nil {
		t.Error("unknown slot accepted")
	}
}

func TestNoSyncReportedOnce(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	r.line.fails["A"] = 3
	r.line.add("A", fwSpec{})
	sum := r.run("A")
	var unanswered []UnitResult
	for _, ev := range r.events(EvUnitResult) {
		if ev.Result.MAC == "" {
			unanswered = append(unanswered, *ev.Result)
		}
	}
	if len(unanswered) != 1 || unanswered[0].Reason != ReasonNoSync || unanswered[0].Remedy == "" {
		t.Errorf("no-sync results %+v", unanswered)
	}
	if sum.RunPassed != 1 {
		t.Errorf("board after the sync failures did not pass: %+v", sum)
	}
}

func TestWrongChipReservesNothing(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	r.cfg.Image.Chip = "esp32s3"
	r.line.add("A", fwSpec{})
	r.run("A")
	res := r.results()
	if len(res) != 1 || res[0].Reason != ReasonWrongChip || res[0].SN != "" {
		t.Errorf("results %+v", res)
	}
	if len(r.store.resv) != 0 || len(r.store.attempts) != 0 {
		t.Errorf("wrong chip reserved an SN: %v", r.store.resv)
	}
}

func TestStoreFailure(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	r.store.failOn = "Confirm"
	r.line.add("A", fwSpec{})
	r.run("A")
	res := r.results()
	if len(res) != 1 || res[0].Reason != ReasonStoreFailed || res[0].Kind != KindStore {
		t.Errorf("results %+v", res)
	}
}

func TestStopFinishesBoardsInFlight(t *testing.T) {
	r := newRig(t)
	b := r.line.add("A", fwSpec{}, fwSpec{})[0]
	b.writeBlock = make(chan struct{})
	r.start("A")
	waitFor(t, r, func() bool { return hasStep(r, "A", StepFlash) })
	r.eng.Stop()
	close(b.writeBlock)
	sum := r.wait()
	if !sum.Interrupted || sum.RunPassed != 1 || len(r.store.attempts) != 1 {
		t.Errorf("summary %+v, outcomes %v", sum, r.store.outcomes())
	}
}

func TestCancelRecordsInterruptedAttempt(t *testing.T) {
	r := newRig(t)
	b := r.line.add("A", fwSpec{})[0]
	b.writeBlock = make(chan struct{})
	eng, err := New(r.cfg, Deps{Connector: r.line, Store: r.store, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	r.eng = eng
	ch, _ := eng.Subscribe(0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := eng.Start(ctx, []Slot{{Name: "A"}}); err != nil {
		t.Fatal(err)
	}
	for ev := range ch {
		if ev.Type == EvStepStarted && ev.Step == StepFlash {
			cancel()
		}
	}
	sum := eng.Wait()
	r.store.checkRecorded(t)
	if !sum.Interrupted {
		t.Error("not interrupted")
	}
	if got := r.store.outcomes(); !slices.Equal(got, []string{"SN0001:" + ReasonStopped}) {
		t.Errorf("outcomes %v", got)
	}
	if k := r.store.attempts[0].outcome.Kind; k != KindCanceled {
		t.Errorf("kind %s", k)
	}
}

func TestPauseAndResume(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	r.line.add("A", fwSpec{})
	eng, err := New(r.cfg, Deps{Connector: r.line, Store: r.store, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	r.eng = eng
	eng.Pause()
	ch, _ := eng.Subscribe(0)
	if err := eng.Start(context.Background(), []Slot{{Name: "A"}}); err != nil {
		t.Fatal(err)
	}
	for ev := range ch {
		if ev.Type == EvStepStarted {
			t.Fatal("a step started while paused")
		}
		if ev.Type == EvSlotState && ev.State == StatePaused {
			break
		}
	}
	eng.Resume()
	for range ch {
	}
	if sum := eng.Wait(); sum.RunPassed != 1 {
		t.Errorf("summary %+v", sum)
	}
}

func TestResumeReusesSN(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	b := r.line.add("A", fwSpec{})[0]
	b.writeFails = 10
	r.cfg.Retry.MaxAttempts = 1
	r.run("A")
	// A second run (a restart) on the same board continues the batch.
	r2 := newRig(t)
	r2.store, r2.line, r2.cfg.Count = r.store, r.line, 1
	r2.cfg.CAPool = r.line.ca.pool
	b.writeFails = 0
	r.line.mu.Lock()
	r.line.slots["A"] = []*fakeBoard{b}
	r.line.mu.Unlock()
	sum := r2.run("A")
	if got := r.store.outcomes(); !slices.Equal(got, []string{"SN0001:" + ReasonMD5Mismatch, "SN0001:pass"}) {
		t.Errorf("outcomes %v", got)
	}
	if sum.Stats.Passed != 1 || sum.Stats.Attempts != 2 || sum.Stats.FirstPassYield != 0 {
		t.Errorf("stats %+v", sum.Stats)
	}
}

func TestQuantityStopsTheRun(t *testing.T) {
	r := newRig(t)
	r.cfg.Quantity = 2
	r.line.add("A", fwSpec{}, fwSpec{}, fwSpec{})
	sum := r.run("A")
	if sum.RunPassed != 2 || sum.Stats.Remaining != 0 {
		t.Errorf("summary %+v", sum)
	}
}

// TestQuantityHoldsWithDeferredCounts: far from the quantity the counters
// are re-read at most once a second, and boards here finish much faster
// than that; the batch must still stop at exactly its quantity.
func TestQuantityHoldsWithDeferredCounts(t *testing.T) {
	r := newRig(t)
	r.cfg.Quantity = 24
	for _, slot := range []string{"A", "B", "C"} {
		fws := make([]fwSpec, 12)
		r.line.add(slot, fws...)
	}
	sum := r.run("A", "B", "C")
	if sum.RunPassed != 24 || sum.Stats.Passed != 24 || sum.Stats.Remaining != 0 {
		t.Fatalf("summary %+v", sum)
	}
}

func TestSetOperator(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	b := r.line.add("A", fwSpec{})[0]
	b.writeBlock = make(chan struct{})
	r.start("A")
	r.eng.SetOperator("op2")
	close(b.writeBlock)
	r.wait()
	if op := r.store.attempts[0].info.Operator; op != "op1" && op != "op2" {
		t.Errorf("operator %q", op)
	}
}

func TestConfigValidation(t *testing.T) {
	if _, err := New(Config{}, Deps{}); err == nil || !strings.Contains(err.Error(), "batch id") {
		t.Errorf("err = %v", err)
	}
}

func hasStep(r *rig, slot string, step Step) bool {
	for _, ev := range r.events(EvStepStarted) {
		if ev.Slot == slot && ev.Step == step {
			return true
		}
	}
	return false
}

// waitFor polls cond on events the rig has collected (bounded, with a
// clear failure instead of a hang).
func waitFor(t *testing.T, r *rig, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRetrySlotRunsTheSameBoardAgain(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 2
	r.cfg.Retry.MaxAttempts = 1
	b := r.line.add("A", fwSpec{})[0]
	b.writeFails = 1
	// The failed board stays in the slot; the engine leaves it alone until
	// the operator asks for a retry.
	r.line.sticky = true
	r.start("A")
	waitFor(t, r, func() bool { return len(r.results()) == 1 })
	if err := r.eng.RetrySlot("A"); err != nil {
		t.Fatal(err)
	}
	sum := r.wait()
	if got := r.store.outcomes(); !slices.Equal(got, []string{"SN0001:" + ReasonMD5Mismatch, "SN0001:pass"}) || sum.RunPassed != 1 || sum.RunFailed != 1 {
		t.Errorf("outcomes %v, summary %+v", got, sum)
	}
}

// TestAttemptWrites: a passing board's steps, provisioning result and
// outcome reach the log in one write after the one that opened the
// attempt, complete and in order.
func TestAttemptWrites(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	r.line.add("A", fwSpec{})
	if sum := r.run("A"); sum.RunPassed != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if r.store.writes != 1 {
		t.Errorf("%d step/finish writes for one board, want 1", r.store.writes)
	}
	a := r.store.attempts[0]
	var got []Step
	for _, s := range a.steps {
		got = append(got, s.Step)
	}
	want := []Step{StepIdentify, StepReserve, StepPersonal, StepFlash, StepVerify, StepBoot, StepSelfTest, StepProvision, StepCheck, StepRecord}
	if !slices.Equal(got, want) || a.prov == nil || a.prov.PublicKeySHA256 == "" {
		t.Errorf("steps %v (want %v), provisioning %+v", got, want, a.prov)
	}
}

// TestAttemptCompletionRefused: when the final write is refused the
// attempt is still closed, by its outcome alone, and the board fails.
func TestAttemptCompletionRefused(t *testing.T) {
	r := newRig(t)
	r.cfg.Count = 1
	r.cfg.Retry.MaxAttempts = 1
	r.store.failOn, r.store.failN = "FinishAttempt", 1
	r.line.add("A", fwSpec{})
	if sum := r.run("A"); sum.RunPassed != 0 {
		t.Fatalf("summary %+v: a board whose record was lost passed", sum)
	}
	if got := r.store.outcomes(); !slices.Equal(got, []string{"SN0001:" + ReasonStoreFailed}) {
		t.Errorf("outcomes %v", got)
	}
}
