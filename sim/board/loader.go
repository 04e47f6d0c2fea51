package board

import (
	"encoding/binary"
	"time"

	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

// Buffer sizes of the ROM loader. A request is copied into a buffer that
// persists between commands, so fields a short frame does not carry are
// read from what the previous request left there, as the real ROM does.
const (
	reqBufSize    = rom.HeaderLen + rom.DataHeaderLen + rom.MemBlockROM + 8
	replyBufSize  = 128
	flashMaxBlock = 0x1000 // 0x400, 0x800 and 0x1000 are accepted, 0x4000 is refused
	// romDefaultFlashSize is the flash size both ROMs assume until
	// SPI_SET_PARAMS names one: MD5, READ_FLASH_SLOW and FLASH_BEGIN past
	// 2 MiB fail before it, whatever chip is fitted (unless Config.LenientFlashSize).
	romDefaultFlashSize = 2 << 20
)

// loader is the ROM serial loader's state.
type loader struct {
	p       *chipProfile
	dec     slip.Decoder
	req     [reqBufSize]byte
	reply   [replyBufSize]byte // shared by all replies; its tail stays stale
	value   uint32             // header value: only SYNC and READ_REG change it
	lastOp  rom.Op             // last command handled, echoed by "unsupported" replies
	lastErr byte               // error byte left over on later successful replies
	w       *writeSession
	spiSize uint32 // flash size the ROM believes in: romDefaultFlashSize until SPI_SET_PARAMS
	stub    bool   // the esptool stub model has taken over (see stub.go)
	read    *stubRead
}

// writeSession is an open FLASH_BEGIN, FLASH_DEFL_BEGIN or MEM_BEGIN.
type writeSession struct {
	kind      rom.Op
	offset    uint32
	size      uint32
	blockSize uint32
	next      uint32 // next sequence number expected
	accepted  uint32 // blocks written so far
	written   uint32 // bytes of accepted blocks: the next block goes to offset+written
	blocks    uint32 // block count announced by *_BEGIN
	inf       *inflater
	pending   []byte // inflated bytes not yet written (FLASH_DEFL)
}

func newLoader(p *chipProfile) *loader {
	l := &loader{p: p, spiSize: romDefaultFlashSize}
	l.dec.Lenient = true // the ROM drops a bad escape's Esc and keeps the byte
	l.dec.MaxFrame = reqBufSize
	return l
}

// abort ends any session (on reset).
func (l *loader) abort() {
	if l.w != nil && l.w.inf != nil {
		l.w.inf.close()
	}
	l.w = nil
}

func (l *loader) supports(op rom.Op) bool {
	switch op {
	case rom.OpFlashBegin, rom.OpFlashData, rom.OpFlashEnd, rom.OpMemBegin, rom.OpMemEnd, rom.OpMemData,
		rom.OpSync, rom.OpWriteReg, rom.OpReadReg, rom.OpSPISetParams, rom.OpSPIAttach,
		rom.OpReadFlashSlow, rom.OpChangeBaudrate, rom.OpFlashDeflBegin, rom.OpFlashDeflData,
		rom.OpFlashDeflEnd, rom.OpSPIFlashMD5:
		return true
	case rom.OpGetSecurityInfo:
		return l.p.secInfo
	}
	return false
}

// flashLimit is where the ROM's range checks end: the size SPI_SET_PARAMS
// declared (2 MiB before it), but never past the chip actually fitted.
func (l *loader) flashLimit(fitted uint32) uint64 {
	return uint64(min(l.spiSize, fitted))
}

// word reads request data word i from the persistent buffer.
func (l *loader) word(i int) uint32 {
	return binary.LittleEndian.Uint32(l.req[rom.HeaderLen+4*i:])
}

// romReceiveLocked feeds bytes the ROM's UART received to the loader.
func (b *Board) romReceiveLocked(data []byte, at time.Time) {
	if b.faults.NoSync {
		return // the fault: this ROM never hears the host
	}
	l := b.rom
	l.dec.Feed(data)
	for b.mode == modeROM && b.rom == l {
		frame, err, ok := l.dec.Next()
		if !ok {
			return
		}
		if err != nil {
			continue // an overlong frame: the ROM's buffer cannot hold it
		}
		if l.stub {
			b.stubFrameLocked(l, frame, at)
			continue
		}
		b.handleFrameLocked(l, frame, at)
	}
}

// result is the outcome of one command.
type result struct {
	dataLen  int  // bytes of l.reply before the status
	failed   bool // status byte 1
	code     rom.ErrorCode
	clearErr bool // the command resets the left-over error byte
	cost     time.Duration
	silent   bool // no reply at all
	after    func(at time.Time)
}

func fail(code rom.ErrorCode) result { return result{failed: true, code: code} }

// handleFrameLocked executes one request frame.
func (b *Board) handleFrameLocked(l *loader, frame []byte, at time.Time) {
	n := copy(l.req[:], frame)
	dlen := max(n-rom.HeaderLen, 0)
	dir, op := l.req[0], rom.Op(l.req[1])
	if dir != rom.DirRequest || !l.supports(op) {
		l.lastErr = byte(rom.ErrBadMessage)
		l.reply[0], l.reply[1] = 1, byte(rom.ErrBadMessage)
		// The refusal goes out through the last handled command's reply
		// path, so after a SYNC it is sent eight times, as SYNC's are.
		copies := 1
		if l.lastOp == rom.OpSync {
			copies = rom.SyncReplies
		}
		for i := 0; i < copies; i++ {
			b.sendReplyLocked(l, l.lastOp, 0, b.startAt(at))
		}
		return
	}
	l.lastOp = op
	start := b.startAt(at)
	r := b.dispatchLocked(l, op, dlen, start)
	done := start.Add(r.cost)
	if b.costs.realistic {
		b.busy = done
	}
	if r.silent {
		return
	}
	switch {
	case r.failed:
		l.lastErr = byte(r.code)
	case r.clearErr:
		l.lastErr = 0
	}
	l.reply[r.dataLen] = 0
	if r.failed {
		l.reply[r.dataLen] = 1
	}
	l.reply[r.dataLen+1] = l.lastErr
	copies := 1
	if op == rom.OpSync {
		copies = rom.SyncReplies
	}
	for i := 0; i < copies; i++ {
		b.sendReplyLocked(l, op, r.dataLen, done)
	}
	if r.after != nil {
		r.after(done)
	}
}

// startAt is when the chip gets to a request that arrived at at.
func (b *Board) startAt(at time.Time) time.Time {
	if b.busy.After(at) {
		return b.busy
	}
	return at
}

// sendReplyLocked frames reply header + l.reply[:dataLen+4].
func (b *Board) sendReplyLocked(l *loader, op rom.Op, dataLen int, at time.Time) {
	pkt := rom.Response{Op: op, Value: l.value, Data: l.reply[:dataLen+rom.StatusLenROM]}.AppendBinary(nil)
	b.emitLocked(at, slip.Encode(pkt))
}

func (b *Board) dispatchLocked(l *loader, op rom.Op, dlen int, at time.Time) result {
	switch op {
	case rom.OpSync:
		l.value = l.word(0) // the first SYNC payload word, 0x20120707
		b.autobaud = true
		return result{clearErr: true}
	case rom.OpReadReg:
		l.value = b.regs.read(l.word(0), b.strap, b.clkdiv)
		return result{clearErr: true}
	case rom.OpWriteReg:
		var cost time.Duration
		for g := 0; g < max(1, dlen/rom.WriteRegGroupLen); g++ {
			b.regs.write(l.word(4*g), l.word(4*g+1), l.word(4*g+2))
			if b.costs.realistic {
				cost += time.Duration(l.word(4*g+3)) * time.Microsecond
			}
		}
		return result{cost: cost, clearErr: true}
	case rom.OpSPIAttach:
		return result{clearErr: true}
	case rom.OpSPISetParams:
		l.spiSize = l.word(1)
		return result{}
	case rom.OpChangeBaudrate:
		return b.changeBaudLocked(l)
	case rom.OpFlashBegin, rom.OpFlashDeflBegin, rom.OpMemBegin:
		return b.beginLocked(l, op, dlen)
	case rom.OpFlashData, rom.OpFlashDeflData, rom.OpMemData:
		return b.dataLocked(l, op, dlen)
	case rom.OpFlashEnd, rom.OpFlashDeflEnd:
		return b.flashEndLocked(l, op)
	case rom.OpMemEnd:
		return b.memEndLocked(l)
	case rom.OpSPIFlashMD5:
		return b.md5Locked(l)
	case rom.OpReadFlashSlow:
		return b.readSlowLocked(l)
	case rom.OpGetSecurityInfo:
		copy(l.reply[:], l.p.securityInfo())
		return result{dataLen: rom.SecurityInfoLen}
	}
	return fail(rom.ErrBadMessage)
}

// changeBaudLocked answers at the old rate, then reprograms UART0 and sends
// the two delimiters the ROM emits at the new rate. The ESP32 ROM divides
// its clock estimate (from the RTC calibration and the CK8M eFuse) by the
// rate, so esptool pre-scales what it sends; the actual rate is the sent
// value times 40 MHz over that estimate.
func (b *Board) changeBaudLocked(l *loader) result {
	sent := l.word(0)
	actual := int(sent)
	if b.p.scaledBaud {
		romFreq := uint64(1280) * 15625 * uint64(b.ck8m) / 40
		if romFreq > 0 {
			actual = int((uint64(sent)*40_000_000 + romFreq/2) / romFreq)
		}
	}
	return result{after: func(at time.Time) {
		if actual <= 0 {
			return
		}
		b.setChipBaudLocked(actual, true)
		b.emitLocked(at, []byte{slip.End, slip.End})
	}}
}
