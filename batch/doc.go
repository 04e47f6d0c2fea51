// Package batch is the work order a station runs: the TOML manifest that
// names the product, the firmware bundle, the quantity, the serial-number
// range, the factory claim credentials and provisioning template, the
// factory-data layout, the self-test limits, timeouts, retry and quarantine
// policy; the pre-flight checks that run before any board is touched, each
// finding a specific message with its remedy; and the progress arithmetic
// (first-pass and final yield, units per hour, per-slot statistics) that the
// station derives from the audit log, so a batch resumed after a crash
// continues from what was recorded.
//
// A manifest is decoded strictly: a key the manifest format does not know
// is an error naming the key and its line, because a misspelt limit or
// timeout silently falling back to a default is how a line ships bad units.
package batch
