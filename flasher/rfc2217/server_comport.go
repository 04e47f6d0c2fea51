package rfc2217

import (
	"errors"

	"fleetline/flasher/portio"
)

// comPort carries out one COM-PORT-OPTION command from the client and
// answers it with code+100 and the value now in effect, the way
// esp_rfc2217_server and ser2net do (pyserial clients wait for the answer
// and compare it with what they asked for). A line or rate the port cannot
// take is answered with the old value, which such clients report as
// rejected.
func (ss *session) comPort(code byte, v []byte) {
	reply := func(value ...byte) {
		ss.send(appendComPort(nil, serverOffset+code, value...))
	}
	switch code {
	case cpSetBaud:
		want, err := parseBaud(v)
		if err != nil {
			ss.logf("%v", err)
			return
		}
		if want != 0 { // zero only asks for the current rate
			if err := ss.port.SetBaud(want); err != nil {
				ss.portFailed("set baud", err)
			} else {
				ss.baud = want
			}
		}
		reply(baudValue(ss.baud)...)
	case cpSetDataSize:
		reply(dataSize8)
	case cpSetParity:
		reply(parityNone)
	case cpSetStopSize:
		reply(stopSizeOne)
	case cpSetControl:
		if len(v) < 1 {
			return
		}
		reply(ss.control(v[0]))
	case cpNotifyLine, cpNotifyModem:
		reply(0) // a poll: nothing to report
	case cpFlowSuspend, cpFlowResume:
		// Not answered (RFC 2217 §3); the socket's own flow control
		// already holds back a client that does not read.
	case cpSetLineMask, cpSetModemMask:
		if len(v) < 1 {
			return
		}
		reply(v[0])
	case cpPurgeData:
		if len(v) < 1 {
			return
		}
		if v[0] != purgeReceive && v[0] != purgeBoth {
			// The transmit side has nothing to purge: data is
			// written to the port as it arrives.
			reply(v[0])
			return
		}
		// Flush and answer under the write lock, so that nothing the
		// port gave before the purge is sent after the answer.
		ss.wmu.Lock()
		ss.purges.Add(1)
		err := ss.port.Flush()
		_, werr := ss.conn.Write(appendComPort(nil, serverOffset+code, v[0]))
		ss.wmu.Unlock()
		if werr != nil {
			ss.conn.Close()
		}
		if err != nil {
			ss.portFailed("purge", err)
		}
	default:
		ss.logf("ignored %s", codeName(code))
	}
}

// control applies a SET-CONTROL value and returns the value to answer with.
func (ss *session) control(v byte) byte {
	switch {
	case v <= ctlHWFlow:
		return ctlNoFlow // only "no flow control" is offered
	case v <= ctlBreakOff:
		return ctlBreakOff // BREAK is not supported by portio.Port
	case v == ctlReqDTR:
		return controlValue(false, ss.dtr)
	case v == ctlDTROn || v == ctlDTROff:
		on := v == ctlDTROn
		if ss.lineFailed("set DTR", ss.port.SetDTR(on)) {
			return controlValue(false, !on)
		}
		ss.dtr = on
		return v
	case v == ctlReqRTS:
		return controlValue(true, ss.rts)
	case v == ctlRTSOn || v == ctlRTSOff:
		on := v == ctlRTSOn
		if ss.lineFailed("set RTS", ss.port.SetRTS(on)) {
			return controlValue(true, !on)
		}
		ss.rts = on
		return v
	case v <= ctlHWFlowInMax:
		if v < 17 {
			return ctlNoFlowIn
		}
		return ctlNoFlow
	}
	return ctlNoFlow
}

// lineFailed handles a DTR/RTS change the port refused. A port that has
// gone ends the session (and the change is answered as not made). Any
// other failure (a pty has no modem lines) is logged once and the change
// is acknowledged anyway: pyserial and esptool give up on a port whose
// server rejects SET-CONTROL, while against a local pty they carry on
// without resetting, and so should they here.
func (ss *session) lineFailed(what string, err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, portio.ErrClosed) {
		ss.fail(err)
		return true
	}
	if !ss.linesWarned {
		ss.linesWarned = true
		ss.logf("%s: %v; acknowledging DTR/RTS changes without effect: the board cannot be reset through this port", what, err)
	}
	return false
}

// portFailed logs a refused command; a port that has gone ends the session.
func (ss *session) portFailed(what string, err error) {
	if errors.Is(err, portio.ErrClosed) {
		ss.fail(err)
		return
	}
	ss.logf("%s: %v", what, err)
}
