// Package station is the engine of a fleetline station: one supervisor per
// slot drives each attached board through the pipeline (connect, identify,
// reserve SN, personalize, flash, verify, boot, self test, provisioning,
// checks, record) and publishes an Event for every state change, which the
// TUI, the headless JSON-lines output and the log all observe.
//
// # Seams
//
// The engine defines what it needs in deps.go — Connector and Board (the
// ROM loader), Console (the running app's UART), Store (the audit log) and
// Clock — and runs against in-package fakes in its unit tests. The
// adapters (flasher_adapter.go, console.go, audit_adapter.go, manifest.go)
// bind them to fleetline/flasher, fleetline/station/audit, fleetline/firmware
// and fleetline/firmware/nvs. The simulator is used by tests only.
//
// # One board
//
// A supervisor polls its slot's port; a board that answers is identified
// and checked against the bundle (chip, flash size, secure download mode).
// Then its SN is reserved — the same SN again for a MAC the log knows — and
// the attempt record is opened in the same write, so no SN is ever handed
// out without a record. The factory NVS image is built for that SN, bundle
// and NVS are written (compressed, skipping regions already correct, verified
// by MD5), and the board is reset into its app. On the console the station
// waits for hello, sends the time and start (or retest), and collects the
// self tests, provisioning steps, device certificate and verdict
// (firmware/selftest). The checks follow: hello's MAC and SN, tests against
// the batch's limits, the certificate's chain, validity and key, no other
// unit with the same key, the claim erased, and no private key ever seen on
// the console. Steps are kept as they end and written with the
// provisioning result and the outcome when the attempt closes (the attempt
// record itself is opened at once, so a crash leaves it open, to be closed
// as interrupted on the next start). The SN is confirmed on PASS, in the
// write that records the pass, and that write refuses a device key or
// certificate serial another unit has (so of two boards with one key
// exactly the first passes): a board costs two commits. Every attempt is
// closed, even when the run is cancelled.
//
// # Failures, retries, quarantine
//
// Every failure is a *Failure with a reason code from the Reasons table,
// its Kind and the operator's remedy. Transient failures are retried with
// backoff, each retry a new attempt; a slot that fails Quarantine boards in
// a row (for reasons that are the slot's, not the cloud's or the batch's)
// is quarantined until the operator clears it.
//
// # Observers
//
// Subscribe gives any number of observers their own queue: a slow one gets
// its progress events coalesced, never slows the line. Controls (Pause,
// Resume, Stop, RetrySlot, ClearQuarantine, SetOperator) are safe from any
// goroutine; Stop lets boards in flight finish their attempt.
package station
