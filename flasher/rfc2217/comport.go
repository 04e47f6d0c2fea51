package rfc2217

import (
	"encoding/binary"
	"fmt"
)

// COM-PORT-OPTION command codes (RFC 2217 §3), client to server. The server
// answers a command with the same code plus serverOffset.
const (
	cpSetBaud        = 1
	cpSetDataSize    = 2
	cpSetParity      = 3
	cpSetStopSize    = 4
	cpSetControl     = 5
	cpNotifyLine     = 6
	cpNotifyModem    = 7
	cpFlowSuspend    = 8
	cpFlowResume     = 9
	cpSetLineMask    = 10
	cpSetModemMask   = 11
	cpPurgeData      = 12
	serverOffset     = 100
	cpMaxClientCode  = cpPurgeData
	cpMinServerReply = serverOffset + cpSetBaud
)

// SET-CONTROL values used here.
const (
	ctlReqFlow     = 0  // request outbound flow-control setting
	ctlNoFlow      = 1  // no flow control (outbound/both)
	ctlSWFlow      = 2  // XON/XOFF
	ctlHWFlow      = 3  // RTS/CTS
	ctlReqBreak    = 4  // request BREAK state
	ctlBreakOn     = 5  // BREAK on
	ctlBreakOff    = 6  // BREAK off
	ctlReqDTR      = 7  // request DTR state
	ctlDTROn       = 8  // DTR asserted
	ctlDTROff      = 9  // DTR released
	ctlReqRTS      = 10 // request RTS state
	ctlRTSOn       = 11 // RTS asserted
	ctlRTSOff      = 12 // RTS released
	ctlReqFlowIn   = 13 // request inbound flow-control setting
	ctlNoFlowIn    = 14 // no inbound flow control
	ctlHWFlowInMax = 19 // last defined SET-CONTROL value (DSR flow control)
)

// Line settings: 8 data bits, no parity (1), one stop bit (1). The ROM
// loader and every ESP console use 8N1.
const (
	dataSize8   = 8
	parityNone  = 1
	stopSizeOne = 1
)

// PURGE-DATA values.
const (
	purgeReceive  = 1 // the access server's receive buffer (data from the device)
	purgeTransmit = 2 // its transmit buffer (data for the device)
	purgeBoth     = 3
)

// appendComPort appends one COM-PORT-OPTION subnegotiation.
func appendComPort(dst []byte, code byte, value ...byte) []byte {
	body := make([]byte, 0, 1+len(value))
	body = append(body, code)
	body = append(body, value...)
	return appendSubneg(dst, optComPort, body...)
}

// baudValue encodes a baud rate as RFC 2217's 4-byte network-order integer.
func baudValue(baud int) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(baud))
}

// parseBaud decodes a SET-BAUDRATE value.
func parseBaud(v []byte) (int, error) {
	if len(v) != 4 {
		return 0, fmt.Errorf("SET-BAUDRATE value has %d bytes, want 4", len(v))
	}
	return int(binary.BigEndian.Uint32(v)), nil
}

// controlValue maps a line and its level to the SET-CONTROL value.
func controlValue(rts, asserted bool) byte {
	switch {
	case rts && asserted:
		return ctlRTSOn
	case rts:
		return ctlRTSOff
	case asserted:
		return ctlDTROn
	default:
		return ctlDTROff
	}
}

// codeName names a COM-PORT-OPTION code for errors and logs.
func codeName(code byte) string {
	if code >= serverOffset {
		code -= serverOffset
	}
	switch code {
	case cpSetBaud:
		return "SET-BAUDRATE"
	case cpSetDataSize:
		return "SET-DATASIZE"
	case cpSetParity:
		return "SET-PARITY"
	case cpSetStopSize:
		return "SET-STOPSIZE"
	case cpSetControl:
		return "SET-CONTROL"
	case cpNotifyLine:
		return "NOTIFY-LINESTATE"
	case cpNotifyModem:
		return "NOTIFY-MODEMSTATE"
	case cpFlowSuspend:
		return "FLOWCONTROL-SUSPEND"
	case cpFlowResume:
		return "FLOWCONTROL-RESUME"
	case cpSetLineMask:
		return "SET-LINESTATE-MASK"
	case cpSetModemMask:
		return "SET-MODEMSTATE-MASK"
	case cpPurgeData:
		return "PURGE-DATA"
	}
	return fmt.Sprintf("COM-PORT code %d", code)
}
