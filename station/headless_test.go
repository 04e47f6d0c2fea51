package station

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fleetline/batch"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// headlessEvents is a fixed two-board run: one PASS, one FAIL.
func headlessEvents() ([]Event, Summary) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	low, high := 3.135, 3.465
	evs := []Event{
		{Type: EvBatchStarted, Time: at(0), Message: "batch B1: 2 slots, build mode"},
		{Type: EvSlotState, Time: at(1), Slot: "S01", State: StateRunning, Step: StepIdentify, MAC: "24:0a:c4:00:00:01", Message: "esp32 rev 301"},
		{Type: EvStepStarted, Time: at(1), Slot: "S01", Step: StepFlash},
		{Type: EvProgress, Time: at(2), Slot: "S01", Step: StepFlash, Label: "app", Done: 4096, Total: 65536},
		{Type: EvStepFinished, Time: at(3), Slot: "S01", Step: StepFlash, Duration: 2 * time.Second, Message: "wrote app"},
		{Type: EvConsole, Time: at(4), Slot: "S01", Message: "I (140) main_task: Calling app_main()"},
		{Type: EvMeasurement, Time: at(5), Slot: "S01", Measurement: &Measurement{Name: "vdd_3v3", Value: 3.3, Unit: "V", Low: &low, High: &high, Passed: true}},
		{Type: EvLog, Time: at(5), Slot: "S01", Step: StepProvision, Message: "provisioning: key_generated"},
		{Type: EvUnitResult, Time: at(6), Slot: "S01", MAC: "24:0a:c4:00:00:01", SN: "FL000001", Result: &UnitResult{Slot: "S01", MAC: "24:0a:c4:00:00:01", SN: "FL000001", Chip: "esp32", Passed: true, Attempt: 1, ThingName: "dev-FL000001", Duration: 6 * time.Second}},
		{Type: EvUnitResult, Time: at(7), Slot: "S02", MAC: "24:0a:c4:00:00:02", SN: "FL000002", Result: &UnitResult{Slot: "S02", MAC: "24:0a:c4:00:00:02", SN: "FL000002", Passed: false, Attempt: 2,
			Step: StepSelfTest, Kind: KindDevice, Reason: ReasonTestOutOfLimits, Message: "vdd_3v3 = 2.9V is outside [3.135, 3.465]", Remedy: Reasons[ReasonTestOutOfLimits].Remedy, Duration: 7 * time.Second}},
		{Type: EvQuarantine, Time: at(8), Slot: "S02", State: StateQuarantined, Message: "slot quarantined after 3 failed boards in a row"},
		{Type: EvBatchFinished, Time: at(9), Message: "batch B1: 1 passed, 1 failed in this run"},
	}
	sum := Summary{RunPassed: 1, RunFailed: 1, Stats: Stats{Quantity: 10, Passed: 1, Failed: 1, Remaining: 9, Attempts: 2, FirstPassYield: 0.5, FinalYield: 0.5,
		Slots: []batch.SlotStats{{Slot: "S01", Passed: 1, Attempts: 1, BusyTime: 6 * time.Second}, {Slot: "S02", Failed: 1, Attempts: 1, ConsecutiveFails: 1, Quarantined: true, BusyTime: 7 * time.Second}}}}
	return evs, sum
}

func TestHeadlessGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		opt  HeadlessOptions
	}{
		{"headless-text.golden", HeadlessOptions{}},
		{"headless-verbose.golden", HeadlessOptions{Verbose: true}},
		{"headless-json.golden", HeadlessOptions{JSON: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, sum := headlessEvents()
			ch := make(chan Event, len(evs))
			for _, ev := range evs {
				ch <- ev
			}
			close(ch)
			var out bytes.Buffer
			if code := WriteHeadless(&out, ch, func() Summary { return sum }, tt.opt); code != ExitSomeFailed {
				t.Errorf("exit %d", code)
			}
			path := filepath.Join("testdata", tt.name)
			if *update {
				must(t, os.WriteFile(path, out.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			must(t, err)
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s (run with -update):\n%s", path, out.String())
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		s    Summary
		want int
	}{
		{Summary{RunPassed: 3}, ExitAllPassed},
		{Summary{}, ExitAllPassed},
		{Summary{RunPassed: 2, RunFailed: 1}, ExitSomeFailed},
		{Summary{RunFailed: 1, Interrupted: true}, ExitInterrupted},
	} {
		if got := tt.s.ExitCode(); got != tt.want {
			t.Errorf("%+v: exit %d, want %d", tt.s, got, tt.want)
		}
	}
}
