package rfc2217

import "bytes"

// Telnet command bytes (RFC 854) that RFC 2217 uses.
const (
	cmdSE   = 240 // end of subnegotiation
	cmdNOP  = 241
	cmdSB   = 250 // start of subnegotiation
	cmdWILL = 251
	cmdWONT = 252
	cmdDO   = 253
	cmdDONT = 254
	cmdIAC  = 255 // interpret as command; doubled in data
)

// Telnet options we negotiate.
const (
	optBinary  = 0  // RFC 856: 8-bit clean data path
	optEcho    = 1  // RFC 857
	optSGA     = 3  // RFC 858: suppress go-ahead
	optComPort = 44 // RFC 2217: COM-PORT-OPTION
)

// maxSubneg bounds the bytes kept for one subnegotiation. COM-PORT payloads
// are at most six bytes; anything longer is dropped whole.
const maxSubneg = 256

// handler receives what a decoder finds, in stream order. Slices passed to
// it alias the decoder's input or buffer and are only valid during the call.
type handler interface {
	// data is a run of payload bytes with IAC escapes removed.
	data(p []byte)
	// negotiate is IAC WILL/WONT/DO/DONT opt.
	negotiate(verb, opt byte)
	// subneg is the unescaped body between IAC SB and IAC SE; p[0] is the
	// option. It is never empty.
	subneg(p []byte)
	// command is any other IAC command (NOP, BRK, a stray SE, ...).
	command(c byte)
}

type decodeState uint8

const (
	stData  decodeState = iota
	stIAC               // after IAC
	stVerb              // after IAC WILL/WONT/DO/DONT, waiting for the option
	stSB                // inside IAC SB ...
	stSBIAC             // inside a subnegotiation, after IAC
)

// decoder splits a telnet byte stream into data, negotiations and
// subnegotiations. It keeps state across calls, so input can arrive in any
// chunking.
type decoder struct {
	state    decodeState
	verb     byte
	sb       []byte
	overflow bool
	one      [1]byte
}

// decode feeds p through the decoder, calling h for everything complete.
func (d *decoder) decode(p []byte, h handler) {
	start := 0 // first byte of the pending data run, when in stData
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch d.state {
		case stData:
			if b != cmdIAC {
				continue
			}
			if i > start {
				h.data(p[start:i])
			}
			d.state = stIAC
		case stIAC:
			d.afterIAC(b, h)
		case stVerb:
			h.negotiate(d.verb, b)
			d.state = stData
		case stSB:
			if b == cmdIAC {
				d.state = stSBIAC
			} else {
				d.appendSB(b)
			}
		case stSBIAC:
			switch b {
			case cmdIAC:
				d.appendSB(cmdIAC)
				d.state = stSB
			case cmdSE:
				if !d.overflow && len(d.sb) > 0 {
					h.subneg(d.sb)
				}
				d.sb = d.sb[:0]
				d.state = stData
			default:
				// An unterminated subnegotiation: drop it and read
				// the byte as the command it announces, as if the
				// peer had sent IAC SE first.
				d.sb = d.sb[:0]
				d.afterIAC(b, h)
			}
		}
		start = i + 1
	}
	if d.state == stData && start < len(p) {
		h.data(p[start:])
	}
}

// afterIAC handles the byte following an IAC outside a subnegotiation.
func (d *decoder) afterIAC(b byte, h handler) {
	switch b {
	case cmdIAC:
		d.one[0] = cmdIAC
		h.data(d.one[:])
		d.state = stData
	case cmdSB:
		d.sb = d.sb[:0]
		d.overflow = false
		d.state = stSB
	case cmdWILL, cmdWONT, cmdDO, cmdDONT:
		d.verb = b
		d.state = stVerb
	default:
		h.command(b)
		d.state = stData
	}
}

func (d *decoder) appendSB(b byte) {
	if len(d.sb) >= maxSubneg {
		d.overflow = true
		return
	}
	d.sb = append(d.sb, b)
}

// appendEscaped appends p to dst with every 0xFF doubled, as telnet requires
// for data bytes that equal IAC.
func appendEscaped(dst, p []byte) []byte {
	for {
		i := bytes.IndexByte(p, cmdIAC)
		if i < 0 {
			return append(dst, p...)
		}
		dst = append(dst, p[:i+1]...)
		dst = append(dst, cmdIAC)
		p = p[i+1:]
	}
}

// appendNegotiation appends IAC verb opt.
func appendNegotiation(dst []byte, verb, opt byte) []byte {
	return append(dst, cmdIAC, verb, opt)
}

// appendSubneg appends IAC SB opt body IAC SE with body escaped.
func appendSubneg(dst []byte, opt byte, body ...byte) []byte {
	dst = append(dst, cmdIAC, cmdSB, opt)
	dst = appendEscaped(dst, body)
	return append(dst, cmdIAC, cmdSE)
}
