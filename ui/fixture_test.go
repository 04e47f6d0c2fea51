package ui

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"fleetline/batch"
	"fleetline/station"
)

// t0 is the scripted clock's origin: every golden is rendered at a fixed time.
var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// fakeController records what the screen asked of the line.
type fakeController struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (f *fakeController) rec(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}
func (f *fakeController) Start() error                   { f.rec("start"); return f.fail }
func (f *fakeController) Pause()                         { f.rec("pause") }
func (f *fakeController) Resume()                        { f.rec("resume") }
func (f *fakeController) Stop()                          { f.rec("stop") }
func (f *fakeController) RetrySlot(s string) error       { f.rec("retry " + s); return f.fail }
func (f *fakeController) ClearQuarantine(s string) error { f.rec("clear " + s); return f.fail }
func (f *fakeController) SetOperator(id string)          { f.rec("operator " + id) }

func (f *fakeController) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

var errFake = errors.New("fake refusal")

func slotNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("S%02d", i+1)
	}
	return out
}

func fptr(v float64) *float64 { return &v }

// script is a scripted event stream for n slots: slot i ends in one of a
// handful of situations (passed, failed with each kind of reason,
// flashing, in self test, quarantined, idle), so the goldens show them all.
func script(n int) []station.Event {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	stats := &station.Stats{Quantity: 100}
	evs := []station.Event{{Type: station.EvBatchStarted, Time: at(0), Message: fmt.Sprintf("batch B-1: %d slots, build mode", n), Stats: stats}}
	passed, failed, inflight := 0, 0, 0
	for i, name := range slotNames(n) {
		mac := fmt.Sprintf("24:0a:c4:00:%02x:%02x", i/256, i%256)
		sn := fmt.Sprintf("FL%06d", i+1)
		start := at(1 + i)
		steps := []station.Step{station.StepIdentify, station.StepReserve, station.StepPersonal, station.StepFlash}
		evs = append(evs, station.Event{Type: station.EvSlotState, Time: start, Slot: name, State: station.StateRunning, Step: station.StepIdentify, MAC: mac, Message: "esp32 rev 3, MAC " + mac})
		kind := i % 7
		if kind == 6 {
			// Idle: nothing plugged in.
			evs = evs[:len(evs)-1]
			evs = append(evs, station.Event{Type: station.EvSlotState, Time: start, Slot: name, State: station.StateIdle, Step: station.StepWaiting, Message: "waiting for a board"})
			continue
		}
		for k, st := range steps {
			evs = append(evs, station.Event{Type: station.EvStepStarted, Time: start.Add(time.Duration(k) * 100 * time.Millisecond), Slot: name, Step: st, MAC: mac, SN: sn})
			if st != station.StepFlash {
				evs = append(evs, station.Event{Type: station.EvStepFinished, Time: start.Add(time.Duration(k)*100*time.Millisecond + 80*time.Millisecond), Slot: name, Step: st, MAC: mac, SN: sn, Duration: 80 * time.Millisecond, Message: "ok"})
			}
		}
		evs = append(evs, station.Event{Type: station.EvProgress, Time: start.Add(time.Second), Slot: name, Step: station.StepFlash, Label: "app", Done: int64(300+100*(i%7)) << 10, Total: 1 << 20})
		if kind == 1 {
			inflight++
			continue // still flashing
		}
		evs = append(evs, station.Event{Type: station.EvStepFinished, Time: start.Add(12 * time.Second), Slot: name, Step: station.StepFlash, Duration: 11 * time.Second, Message: "wrote bootloader, partition-table, app, factory_nvs"},
			station.Event{Type: station.EvSlotState, Time: start.Add(13 * time.Second), Slot: name, State: station.StateRunning, Step: station.StepSelfTest},
			station.Event{Type: station.EvStepStarted, Time: start.Add(13 * time.Second), Slot: name, Step: station.StepSelfTest},
			station.Event{Type: station.EvConsole, Time: start.Add(13 * time.Second), Slot: name, Message: "I (312) boot: ESP-IDF v5.2 2nd stage bootloader"},
			station.Event{Type: station.EvConsole, Time: start.Add(13 * time.Second), Slot: name, Message: "@FCT hello sn=" + sn},
			station.Event{Type: station.EvMeasurement, Time: start.Add(14 * time.Second), Slot: name, Step: station.StepSelfTest, Measurement: &station.Measurement{Name: "vdd33", Value: 3.31, Unit: "V", Low: fptr(3.1), High: fptr(3.5), Passed: true}})
		if kind == 2 {
			inflight++
			continue // in self test
		}
		res := &station.UnitResult{Slot: name, MAC: mac, SN: sn, Chip: "esp32", Passed: true, Duration: 40 * time.Second, ThingName: "dev-" + sn, CertID: "c0ffee"}
		switch kind {
		case 3:
			res.Passed, res.Step, res.Kind, res.Reason = false, station.StepProvision, station.KindProvisioning, "claim_expired"
			res.Message, res.Remedy = "the cloud refused the claim certificate: it has expired", "refresh the factory claim credentials"
		case 4:
			res.Passed, res.Step, res.Kind, res.Reason = false, station.StepSelfTest, station.KindDevice, "test_out_of_limits"
			res.Message, res.Remedy = "rssi -91 dBm outside [-80, 0]", "check the antenna and shield; retest or scrap the board"
			evs = append(evs, station.Event{Type: station.EvMeasurement, Time: start.Add(15 * time.Second), Slot: name, Step: station.StepSelfTest, Measurement: &station.Measurement{Name: "rssi", Value: -91, Unit: "dBm", Low: fptr(-80), High: fptr(0)}})
		}
		evs = append(evs, station.Event{Type: station.EvUnitResult, Time: start.Add(40 * time.Second), Slot: name, MAC: mac, SN: sn, Result: res})
		state := station.StatePass
		if res.Passed {
			passed++
		} else {
			failed++
			state = station.StateFail
		}
		evs = append(evs, station.Event{Type: station.EvSlotState, Time: start.Add(40 * time.Second), Slot: name, State: state, Step: station.StepDone, MAC: mac, SN: sn})
		if kind == 5 {
			evs = append(evs, station.Event{Type: station.EvQuarantine, Time: start.Add(41 * time.Second), Slot: name, State: station.StateQuarantined, Message: "slot quarantined after 3 failed boards in a row: check the cable, hub port and pogo pins, then clear it"})
		}
	}
	st := station.Stats{Quantity: 100, Passed: passed, Failed: failed, InProgress: inflight, Remaining: 100 - passed, FirstPassYield: float64(passed) / float64(max(passed+failed, 1)), UnitsPerHour: 42}
	evs = append(evs, station.Event{Type: station.EvStats, Time: at(60), Stats: &st})
	return evs
}

var testFindings = batch.Findings{
	{Severity: batch.SevWarning, Code: batch.CodeClaimExpiring, Message: "the claim certificate expires 2026-12-03 13:00 UTC, 3 h after now; at 42 units/h the batch needs 2.3 h more", Remedy: "renew the claim certificate before the batch ends"},
	{Severity: batch.SevWarning, Code: batch.CodeClaimKeyPerms, Message: "claim.key is readable by group and others", Remedy: "chmod 600 claim.key"},
}
