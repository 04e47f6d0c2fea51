package station

import (
	"time"

	"fleetline/batch"
)

// Step names a stage of the per-board pipeline, in the order a board goes
// through them.
type Step string

// Pipeline steps.
const (
	StepWaiting   Step = "waiting"  // slot idle, no board or board not yet answering
	StepConnect   Step = "connect"  // reset into the ROM loader and SYNC
	StepIdentify  Step = "identify" // chip, revision, MAC, flash id/size, security info
	StepReserve   Step = "reserve"  // SN reserved (or the MAC's existing SN found)
	StepPersonal  Step = "personalize"
	StepFlash     Step = "flash"     // bundle + factory data written
	StepVerify    Step = "verify"    // MD5 of every region
	StepBoot      Step = "boot"      // hard reset into the app, console at app baud
	StepSelfTest  Step = "selftest"  // first-boot tests against limits
	StepProvision Step = "provision" // fleet provisioning by claim, reported by the board
	StepCheck     Step = "check"     // station checks of what the board reported
	StepRecord    Step = "record"    // audit record written, SN confirmed
	StepDone      Step = "done"
	// StepRemove: the board finished (the slot's state says PASS or FAIL)
	// and the station, watching the port, waits for it to be taken out or
	// for the next one to boot.
	StepRemove Step = "remove"
)

// State is a slot's coarse state, what a tile's colour shows.
type State string

// Slot states.
const (
	StateIdle        State = "idle"
	StateRunning     State = "running"
	StatePass        State = "pass"
	StateFail        State = "fail"
	StateQuarantined State = "quarantined"
	StatePaused      State = "paused"
)

// EventType says what an Event reports.
type EventType string

// Event types.
const (
	EvBatchStarted  EventType = "batch_started"
	EvBatchFinished EventType = "batch_finished"
	EvBatchPaused   EventType = "batch_paused"
	EvBatchResumed  EventType = "batch_resumed"
	EvSlotState     EventType = "slot_state"   // State changed
	EvStepStarted   EventType = "step_started" // Step began
	EvStepFinished  EventType = "step_finished"
	EvProgress      EventType = "progress"    // Done/Total within a step (flash bytes)
	EvMeasurement   EventType = "measurement" // one self-test result
	EvConsole       EventType = "console"     // one line of board console output (secrets redacted)
	EvUnitResult    EventType = "unit_result" // a board's attempt ended: PASS or FAIL
	EvLog           EventType = "log"         // free-form station message
	EvQuarantine    EventType = "quarantine"  // slot quarantined or cleared
	EvStats         EventType = "stats"       // batch counters changed
)

// Event is one observation published by the station. Every field but Type,
// Time and (for slot events) Slot is optional; observers (TUI, headless
// JSON lines, log) read what they need. Events never carry secrets.
type Event struct {
	Type EventType `json:"type"`
	Time time.Time `json:"time"`
	Slot string    `json:"slot,omitempty"`

	State State `json:"state,omitempty"`
	Step  Step  `json:"step,omitempty"`

	// Progress within a step.
	Done  int64  `json:"done,omitempty"`
	Total int64  `json:"total,omitempty"`
	Label string `json:"label,omitempty"` // e.g. region name "app@0x10000"

	// Identity once known.
	MAC string `json:"mac,omitempty"`
	SN  string `json:"sn,omitempty"`

	// Step timing (EvStepFinished).
	Duration time.Duration `json:"duration_ns,omitempty"`

	Measurement *Measurement `json:"measurement,omitempty"`
	Result      *UnitResult  `json:"result,omitempty"`
	Stats       *Stats       `json:"stats,omitempty"`

	Message string `json:"message,omitempty"`
}

// Measurement is one self-test value against its limits.
type Measurement struct {
	Name   string   `json:"name"`
	Value  float64  `json:"value"`
	Unit   string   `json:"unit,omitempty"`
	Low    *float64 `json:"low,omitempty"`
	High   *float64 `json:"high,omitempty"`
	Passed bool     `json:"passed"`
}

// UnitResult is the outcome of one attempt on one board.
type UnitResult struct {
	Slot      string        `json:"slot"`
	MAC       string        `json:"mac,omitempty"`
	SN        string        `json:"sn,omitempty"`
	Chip      string        `json:"chip,omitempty"`
	Passed    bool          `json:"passed"`
	Attempt   int64         `json:"attempt_id,omitempty"`
	Step      Step          `json:"step,omitempty"`   // where it failed
	Kind      Kind          `json:"kind,omitempty"`   // failure kind
	Reason    string        `json:"reason,omitempty"` // reason code, e.g. "claim_expired"
	Message   string        `json:"message,omitempty"`
	Remedy    string        `json:"remedy,omitempty"`
	ThingName string        `json:"thing_name,omitempty"`
	CertID    string        `json:"certificate_id,omitempty"`
	Duration  time.Duration `json:"duration_ns"`
	Retest    bool          `json:"retest,omitempty"`
}

// Stats are the batch counters shown in the header and the summary.
type Stats struct {
	Quantity       int     `json:"quantity"`
	Passed         int     `json:"passed"`
	Failed         int     `json:"failed"` // boards whose last attempt failed
	InProgress     int     `json:"in_progress"`
	Remaining      int     `json:"remaining"`
	Attempts       int     `json:"attempts"`
	FirstPassYield float64 `json:"first_pass_yield"` // passed on first attempt / boards tried
	FinalYield     float64 `json:"final_yield"`
	UnitsPerHour   float64 `json:"units_per_hour"`
	// Slots holds per-slot statistics (slot health), sorted by slot name.
	Slots []batch.SlotStats `json:"slots,omitempty"`
}
