// Package station is the engine of a fleetline station: one supervisor per
// slot drives each attached board through the pipeline (connect, identify,
// reserve SN, personalize, flash, verify, boot, self test, provisioning,
// checks, record) and publishes an Event for every state change, which the
// TUI, the headless JSON-lines output and the log all observe.
package station
