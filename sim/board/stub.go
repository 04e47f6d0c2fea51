package board

import (
	"crypto/md5"
	"errors"
	"hash"
	"time"

	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

// The esptool flasher stub, as a declared model (Config.EsptoolStub). A
// simulator cannot run code uploaded to RAM; a board configured with this
// model assumes that what MEM_END starts is esptool's v4 flasher stub and
// answers as that stub does: the "OHAI" greeting, 2-byte status trailers
// (code, 0), SYNC value 0, 16 KiB blocks, a raw 16-byte MD5, and the
// stub-only ERASE_FLASH, ERASE_REGION and READ_FLASH commands. It is a
// behavioural model written from esptool's documented protocol; nothing of
// the stub's code is in it.

// stubGreeting is the unsolicited frame a freshly started stub sends.
var stubGreeting = []byte("OHAI")

const stubMaxBlock = rom.FlashBlockStub

// stubRead is a READ_FLASH in progress: data packets go out while fewer
// than maxUnacked are unacknowledged; the MD5 follows the last ack.
type stubRead struct {
	addr, length, packet, maxUnacked uint32
	sent, acked                      uint32
	sum                              hash.Hash
}

// startStubLocked is MEM_END jumping to the uploaded code under the stub
// model: the stub greets the host and takes over the loader.
func (b *Board) startStubLocked(l *loader, at time.Time) {
	l.stub = true
	l.value = 0
	l.dec.MaxFrame = rom.HeaderLen + rom.DataHeaderLen + stubMaxBlock + 64 // the stub's larger buffer
	l.abort()
	b.emitLocked(at, slip.Encode(stubGreeting))
}

// stubReply sends a stub response: data then (0, 0) or (code, 0).
func (b *Board) stubReply(op rom.Op, value uint32, data []byte, code rom.ErrorCode, at time.Time) {
	st := rom.Status{Failed: code != 0, Code: code}
	d := rom.AppendStatus(append([]byte(nil), data...), rom.StatusLenStub, st, nil)
	b.emitLocked(at, slip.Encode(rom.Response{Op: op, Value: value, Data: d}.AppendBinary(nil)))
}

// stubFrameLocked handles one frame while the stub runs.
func (b *Board) stubFrameLocked(l *loader, frame []byte, at time.Time) {
	start := b.startAt(at)
	if r := l.read; r != nil {
		if len(frame) == 4 { // an acknowledgement: total bytes received so far
			r.acked = le32(frame)
			b.stubPumpReadLocked(l, start)
			return
		}
		l.read = nil
	}
	req, err := rom.ParseRequest(frame)
	if err != nil && !errors.Is(err, rom.ErrLength) {
		b.stubReply(rom.Op(0), 0, nil, rom.StubErrInvalidCmd, start)
		return
	}
	data, cost, code := b.stubDispatchLocked(l, req, start)
	if b.mode != modeROM {
		return // stalled by a fault
	}
	done := start.Add(cost)
	if b.costs.realistic {
		b.busy = done
	}
	value := uint32(0)
	if req.Op == rom.OpReadReg && code == 0 {
		value = b.regs.read(wordAt(req.Data, 0), b.strap, b.clkdiv)
	}
	n := 1
	if req.Op == rom.OpSync {
		n = rom.SyncReplies
	}
	for i := 0; i < n; i++ {
		b.stubReply(req.Op, value, data, code, done)
	}
	b.stubAfterLocked(l, req, code, done)
}

func wordAt(d []byte, i int) uint32 {
	if len(d) < 4*i+4 {
		return 0
	}
	return le32(d[4*i:])
}

// stubDispatchLocked executes a stub command; code 0 is success.
func (b *Board) stubDispatchLocked(l *loader, req rom.Request, at time.Time) ([]byte, time.Duration, rom.ErrorCode) {
	d := req.Data
	w := func(i int) uint32 { return wordAt(d, i) }
	switch req.Op {
	case rom.OpSync, rom.OpReadReg, rom.OpSPIAttach, rom.OpSPISetParams, rom.OpChangeBaudrate, rom.OpMemEnd:
		return nil, 0, 0
	case rom.OpWriteReg:
		for g := 0; g+16 <= len(d); g += 16 {
			b.regs.write(w(g/4), w(g/4+1), w(g/4+2))
		}
		return nil, 0, 0
	case rom.OpFlashBegin, rom.OpFlashDeflBegin:
		size, blockSize, off := w(0), w(2), w(3)
		if len(d) < 16 || blockSize == 0 || blockSize > stubMaxBlock {
			return nil, 0, rom.StubErrBlockSize
		}
		end := (uint64(off) + uint64(size) + SectorSize - 1) / SectorSize * SectorSize
		if off%SectorSize != 0 || end > uint64(b.flash.size) {
			return nil, 0, rom.StubErrSPIOp
		}
		if err := b.flash.erase(off, uint32(end)-off); err != nil {
			return nil, 0, rom.StubErrSPIOp
		}
		ws := &writeSession{kind: rom.OpFlashBegin, offset: off, size: size, blockSize: blockSize}
		if req.Op == rom.OpFlashDeflBegin {
			ws.kind = rom.OpFlashDeflBegin
			ws.inf = newInflater(func(p []byte, pos uint32) error { return b.programLocked(off+pos, p) })
		}
		l.abort()
		l.w = ws
		return nil, b.costs.erase(off, uint32(end)-off), 0
	case rom.OpFlashData, rom.OpFlashDeflData, rom.OpMemData:
		return b.stubDataLocked(l, req)
	case rom.OpFlashEnd, rom.OpFlashDeflEnd:
		l.abort()
		return nil, 0, 0
	case rom.OpMemBegin:
		l.abort()
		l.w = &writeSession{kind: rom.OpMemBegin, offset: w(3), blockSize: w(2)}
		return nil, 0, 0
	case rom.OpSPIFlashMD5:
		addr, size := w(0), w(1)
		if uint64(addr)+uint64(size) > uint64(b.flash.size) {
			return nil, 0, rom.StubErrSPIOp
		}
		sum := b.flash.md5Sum(addr, size)
		return sum[:], b.costs.rate(int(size), 4*romMD5Rate), 0
	case rom.OpEraseFlash:
		return nil, b.costs.erase(0, b.flash.size), errCode(b.flash.erase(0, b.flash.size))
	case rom.OpEraseRegion:
		off, size := w(0), w(1)
		if off%SectorSize != 0 || size%SectorSize != 0 || !b.flash.inRange(off, size) {
			return nil, 0, rom.StubErrSPIOp
		}
		return nil, b.costs.erase(off, size), errCode(b.flash.erase(off, size))
	case rom.OpReadFlash:
		addr, length, packet, unacked := w(0), w(1), w(2), w(3)
		if packet == 0 || packet > stubMaxBlock || uint64(addr)+uint64(length) > uint64(b.flash.size) {
			return nil, 0, rom.StubErrSPIOp
		}
		l.read = &stubRead{addr: addr, length: length, packet: packet, maxUnacked: max(1, unacked), sum: md5.New()}
		return nil, 0, 0
	case rom.OpGetSecurityInfo:
		if l.p.secInfo {
			return l.p.securityInfo(), 0, 0
		}
	}
	return nil, 0, rom.StubErrNotImpl
}

func errCode(err error) rom.ErrorCode {
	if err != nil {
		return rom.StubErrSPIOp
	}
	return 0
}

// stubDataLocked takes a data block: the stub checks length and checksum
// and writes blocks one after another.
func (b *Board) stubDataLocked(l *loader, req rom.Request) ([]byte, time.Duration, rom.ErrorCode) {
	ws := l.w
	if ws == nil || len(req.Data) < rom.DataHeaderLen {
		return nil, 0, rom.StubErrNotFlashMode
	}
	blk, _ := rom.ParseDataBlock(req.Op, req.Data)
	if int(blk.Len) != len(blk.Data) {
		return nil, 0, rom.StubErrDataLength
	}
	if rom.Checksum(blk.Data) != byte(req.Checksum) {
		return nil, 0, rom.StubErrDataChecksum
	}
	if b.faults.StallBlock != 0 && !b.stallDone && req.Op != rom.OpMemData && b.faults.stallsAt(blk.Seq) {
		b.stallDone = true
		b.mode = modeStalled
		return nil, 0, 0
	}
	switch {
	case req.Op == rom.OpMemData && ws.kind == rom.OpMemBegin:
		return nil, 0, 0
	case req.Op == rom.OpFlashData && ws.kind == rom.OpFlashBegin:
		pos := ws.offset + ws.accepted*ws.blockSize
		ws.accepted++
		if b.programLocked(pos, blk.Data) != nil {
			return nil, 0, rom.StubErrSPIOp
		}
		return nil, b.costs.program(len(blk.Data)), 0
	case req.Op == rom.OpFlashDeflData && ws.kind == rom.OpFlashDeflBegin:
		produced, err := ws.inf.feed(blk.Data)
		cost := b.costs.rate(produced, 2*romInflateRate) + b.costs.program(produced)
		switch {
		case errors.Is(err, errStreamEnded):
			return nil, cost, 0 // the stub ignores data after the stream's end
		case errors.Is(err, errFlashWrite):
			return nil, cost, rom.StubErrSPIOp
		case err != nil:
			return nil, cost, rom.StubErrInflate
		}
		return nil, cost, 0
	}
	return nil, 0, rom.StubErrNotFlashMode
}

// stubAfterLocked does what follows a reply: a baud change, a reboot, or
// the start of a READ_FLASH stream.
func (b *Board) stubAfterLocked(l *loader, req rom.Request, code rom.ErrorCode, at time.Time) {
	if code != 0 || b.mode != modeROM {
		return
	}
	switch req.Op {
	case rom.OpChangeBaudrate:
		if nb := wordAt(req.Data, 0); nb > 0 {
			b.setChipBaudLocked(int(nb), true)
		}
	case rom.OpFlashEnd, rom.OpFlashDeflEnd:
		if wordAt(req.Data, 0) == 0 {
			b.resetLocked(resetSoftware, !gpio0Level(b.dtr, b.rts) && !b.faults.BootMode, at)
		}
	case rom.OpReadFlash:
		b.stubPumpReadLocked(l, at)
	}
}

// stubPumpReadLocked sends READ_FLASH packets up to the unacked window,
// and the digest once everything is acknowledged.
func (b *Board) stubPumpReadLocked(l *loader, at time.Time) {
	r := l.read
	for r.sent < r.length && r.sent-min(r.acked, r.sent) < r.maxUnacked*r.packet {
		n := min(r.packet, r.length-r.sent)
		p := make([]byte, n)
		b.flash.readAt(p, r.addr+r.sent)
		r.sum.Write(p)
		r.sent += n
		at = at.Add(b.costs.rate(int(n), 8*romMD5Rate))
		b.emitLocked(at, slip.Encode(p))
	}
	if r.sent == r.length && r.acked >= r.length {
		b.emitLocked(at, slip.Encode(r.sum.Sum(nil)))
		l.read = nil
	}
}
