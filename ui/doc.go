// Package ui is the operator's terminal screen (Bubble Tea + Lip Gloss) on
// a running station engine: a header with the batch, the claim
// certificate's remaining validity and the counters; one tile per slot; a
// log pane; a detail view per slot; the pre-flight findings and the
// operator's id before the batch starts; and the QA re-test screen.
//
// The model never blocks the engine. Events come from the engine's
// subscription channel through a Cmd that waits for the next event and
// gathers whatever else arrives within a 50 ms frame (so progress from 32
// slots costs one render per frame, not one per event); a slow terminal
// only renders less often, and the engine's bus coalesces and drops
// progress for a slow subscriber. Update is a pure function of the
// model and a message: every action on the line (start, pause, retry,
// clear a quarantine, set the operator, stop) goes out as a Cmd through
// the Controller interface, so tests drive the model with a fake.
//
// Quitting is safe: q asks to confirm, then stops the engine (boards in
// flight finish or stop at a safe point and are recorded) and exits only
// once the engine has closed its event channel.
//
// Colour is optional: every state reads in words and border shapes as
// well (PASS has a double border and a PASS label, FAIL a thick border and
// a FAIL label), and NO_COLOR or a forced Ascii profile renders no escape
// codes at all, which is how the golden files are made.
package ui
