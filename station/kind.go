package station

import (
	"errors"
	"fmt"
)

// Kind classifies a failure; it drives the operator's message, the remedy
// shown, whether a retry can help, and headless exit codes.
type Kind string

// Failure kinds.
const (
	KindTransport    Kind = "transport"    // port, cable, sync, timeouts: often transient
	KindDevice       Kind = "device"       // the board itself: wrong chip, flash write error, test out of limits
	KindVerify       Kind = "verify"       // what was written or reported does not check out
	KindConfig       Kind = "config"       // the batch or station is misconfigured
	KindProvisioning Kind = "provisioning" // the cloud refused or the board could not provision
	KindStore        Kind = "store"        // the audit log could not record
	KindCanceled     Kind = "canceled"     // the operator stopped it or the board was pulled out
)

// Failure is a pipeline error with its reason code, kind and remedy. Steps
// return *Failure; anything else is wrapped as an internal failure.
type Failure struct {
	Step      Step
	Kind      Kind
	Reason    string // stable reason code, snake_case, e.g. "claim_expired"
	Message   string // what happened, in plain words
	Remedy    string // what the operator should do
	Transient bool   // a retry may succeed
	Err       error  // the underlying error, if any
}

// Error implements error.
func (f *Failure) Error() string {
	msg := f.Message
	if msg == "" && f.Err != nil {
		msg = f.Err.Error()
	}
	return fmt.Sprintf("%s: %s (%s)", f.Step, msg, f.Reason)
}

// Unwrap returns the underlying error.
func (f *Failure) Unwrap() error { return f.Err }

// AsFailure returns err as a *Failure, if it is or wraps one.
func AsFailure(err error) (*Failure, bool) {
	var f *Failure
	ok := errors.As(err, &f)
	return f, ok
}
