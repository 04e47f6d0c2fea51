package rfc2217

// optState is the state of one side of one telnet option, after RFC 1143's
// "Q method" without the queue bits: we never change our mind mid-request.
type optState uint8

const (
	optNo      optState = iota // disabled (the default for every option)
	optYes                     // enabled
	optWantYes                 // we asked to enable it and wait for the answer
)

// negotiator tracks the telnet options of one connection. "Local" options are
// the ones this end performs (answered with WILL/WONT to a DO/DONT), "remote"
// ones the peer performs (answered with DO/DONT to a WILL/WONT). Answers are
// only sent on a state change, which is what keeps two telnet ends from
// looping on each other.
type negotiator struct {
	local, remote [256]optState
	// canLocal and canRemote say which options may be enabled at all; an
	// unsupported option is refused.
	canLocal, canRemote func(opt byte) bool
}

// request starts enabling an option: WILL for a local one, DO for a remote
// one. It returns the bytes to send (none if already enabled or asked).
func (n *negotiator) request(dst []byte, verb, opt byte) []byte {
	st := &n.remote[opt]
	if verb == cmdWILL {
		st = &n.local[opt]
	}
	if *st != optNo {
		return dst
	}
	*st = optWantYes
	return appendNegotiation(dst, verb, opt)
}

// receive applies an incoming negotiation and appends the answer, if any.
func (n *negotiator) receive(dst []byte, verb, opt byte) []byte {
	switch verb {
	case cmdWILL:
		return receiveYes(dst, &n.remote[opt], n.canRemote(opt), cmdDO, cmdDONT, opt)
	case cmdWONT:
		return receiveNo(dst, &n.remote[opt], cmdDONT, opt)
	case cmdDO:
		return receiveYes(dst, &n.local[opt], n.canLocal(opt), cmdWILL, cmdWONT, opt)
	case cmdDONT:
		return receiveNo(dst, &n.local[opt], cmdWONT, opt)
	}
	return dst
}

// receiveYes handles the peer asking for (or agreeing to) an option.
func receiveYes(dst []byte, st *optState, supported bool, yes, no, opt byte) []byte {
	switch *st {
	case optNo:
		if !supported {
			return appendNegotiation(dst, no, opt)
		}
		*st = optYes
		return appendNegotiation(dst, yes, opt)
	case optWantYes:
		// The answer to our own request; RFC 1143 allows the peer to
		// agree even to an option we would not have offered.
		*st = optYes
	}
	return dst
}

// receiveNo handles the peer refusing or disabling an option.
func receiveNo(dst []byte, st *optState, no, opt byte) []byte {
	switch *st {
	case optYes:
		*st = optNo
		return appendNegotiation(dst, no, opt)
	case optWantYes:
		*st = optNo
	}
	return dst
}

// enabled reports whether the option is on for this side.
func (n *negotiator) enabled(local bool, opt byte) bool {
	if local {
		return n.local[opt] == optYes
	}
	return n.remote[opt] == optYes
}

// pending reports whether our request for a local option is unanswered.
func (n *negotiator) pending(local bool, opt byte) bool {
	if local {
		return n.local[opt] == optWantYes
	}
	return n.remote[opt] == optWantYes
}

// oneOf returns a predicate accepting exactly the given options.
func oneOf(opts ...byte) func(byte) bool {
	return func(o byte) bool {
		for _, x := range opts {
			if x == o {
				return true
			}
		}
		return false
	}
}
