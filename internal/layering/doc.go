// Package layering holds the test that keeps fleetline's import graph
// pointing the way the design says: cmd on top, ui and the headless output
// above station, the simulator never reachable from production packages,
// and go.bug.st/serial behind flasher/serialport alone.
package layering
