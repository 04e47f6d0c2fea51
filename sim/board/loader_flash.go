package board

import (
	"encoding/hex"
	"errors"
	"time"

	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

// errFlashWrite marks a program operation whose readback failed.
var errFlashWrite = errors.New("flash readback mismatch")

// beginLocked opens a FLASH_BEGIN, FLASH_DEFL_BEGIN or MEM_BEGIN session.
// Flash sessions erase their whole range before the reply.
func (b *Board) beginLocked(l *loader, op rom.Op, dlen int) result {
	want := 16
	if op != rom.OpMemBegin && l.p.beginWords == 5 {
		want = 20
	}
	if dlen != want {
		return fail(rom.ErrBadMessage)
	}
	size, blockSize, offset := l.word(0), l.word(2), l.word(3)
	if l.w != nil && l.w.inf != nil {
		l.w.inf.close()
	}
	l.w = nil
	if op == rom.OpMemBegin {
		if blockSize == 0 || blockSize > rom.MemBlockROM {
			return fail(rom.ErrBadMessage)
		}
		l.w = &writeSession{kind: op, offset: offset, size: size, blockSize: blockSize}
		return result{}
	}
	if blockSize == 0 || blockSize > flashMaxBlock {
		return fail(rom.ErrBadMessage)
	}
	if offset%SectorSize != 0 {
		return fail(rom.ErrOperationFailed)
	}
	end := uint64(offset) + uint64(size)
	end = (end + SectorSize - 1) / SectorSize * SectorSize
	if end > l.flashLimit(b.flash.size) {
		return fail(rom.ErrOperationFailed)
	}
	n := uint32(end) - offset
	if err := b.flash.erase(offset, n); err != nil {
		return fail(rom.ErrOperationFailed)
	}
	w := &writeSession{kind: op, offset: offset, size: size, blockSize: blockSize, blocks: l.word(1)}
	if op == rom.OpFlashDeflBegin {
		w.inf = newInflater(func(p []byte, _ uint32) error { return b.inflatedLocked(w, p) })
	}
	l.w = w
	return result{cost: b.costs.erase(offset, n)}
}

// inflateWindow is the ROM inflater's output buffer (its 32 KiB
// dictionary): inflated bytes reach the flash when it fills, and when the
// last block the session announced has been inflated. A stream that ends
// in an earlier block stays in the buffer (the real ROM under QEMU leaves
// the flash blank then).
const inflateWindow = 32 << 10

// inflatedLocked takes inflated bytes from a FLASH_DEFL session's
// inflater and writes out every full window.
func (b *Board) inflatedLocked(w *writeSession, p []byte) error {
	w.pending = append(w.pending, p...)
	for len(w.pending) >= inflateWindow {
		if err := b.flushInflatedLocked(w, inflateWindow); err != nil {
			return err
		}
	}
	return nil
}

// flushInflatedLocked writes the first n pending inflated bytes.
func (b *Board) flushInflatedLocked(w *writeSession, n int) error {
	err := b.programLocked(w.offset+w.written, w.pending[:n])
	w.written += uint32(n)
	w.pending = append(w.pending[:0], w.pending[n:]...)
	return err
}

// programLocked writes data at addr, honouring the flash-failure fault.
// Called with b.mu held (directly, or by the inflater while the loader
// waits for it).
func (b *Board) programLocked(addr uint32, data []byte) error {
	if b.faults.flashFailIn(addr, uint32(len(data))) {
		return errFlashWrite
	}
	if err := b.flash.program(addr, data); err != nil {
		return errFlashWrite
	}
	return nil
}

// dataLocked takes one FLASH_DATA, FLASH_DEFL_DATA or MEM_DATA block.
// A block with a bad checksum is refused but still uses up its sequence
// number; accepted blocks are written one after another from the session's
// offset, each right after the previous one's last byte (a short block
// moves the next one down, as the real ROM does). MEM_DATA lands in RAM,
// where READ_REG can read it back.
func (b *Board) dataLocked(l *loader, op rom.Op, dlen int) result {
	w := l.w
	kind := map[rom.Op]rom.Op{rom.OpFlashData: rom.OpFlashBegin, rom.OpFlashDeflData: rom.OpFlashDeflBegin, rom.OpMemData: rom.OpMemBegin}[op]
	if w == nil || w.kind != kind || dlen < rom.DataHeaderLen {
		return fail(rom.ErrBadMessage)
	}
	length, seq := l.word(0), l.word(1)
	data := l.req[rom.HeaderLen+rom.DataHeaderLen : rom.HeaderLen+dlen]
	if b.faults.StallBlock != 0 && !b.stallDone && op != rom.OpMemData && b.faults.stallsAt(seq) {
		b.stallDone = true
		b.mode = modeStalled
		return result{silent: true}
	}
	if int(length) != len(data) || seq != w.next {
		return fail(rom.ErrBadMessage)
	}
	w.next++
	chk := byte(le32(l.req[4:8]))
	if rom.Checksum(data) != chk {
		return fail(rom.ErrBadChecksum)
	}
	switch op {
	case rom.OpMemData:
		b.regs.writeRAM(w.offset+w.written, data)
		w.accepted++
		w.written += uint32(len(data))
		return result{}
	case rom.OpFlashData:
		pos := w.offset + w.written
		w.accepted++
		w.written += uint32(len(data))
		if err := b.programLocked(pos, data); err != nil {
			return fail(rom.ErrFlashWrite)
		}
		return result{cost: b.costs.program(len(data))}
	}
	w.accepted++
	produced, err := w.inf.feed(data)
	if err == nil && seq+1 >= w.blocks && len(w.pending) > 0 {
		err = b.flushInflatedLocked(w, len(w.pending))
	}
	cost := b.costs.rate(produced, romInflateRate) + b.costs.program(produced)
	switch {
	case errors.Is(err, errStreamEnded):
		b.mode = modeStalled
		return result{silent: true}
	case errors.Is(err, errFlashWrite):
		return result{failed: true, code: rom.ErrFlashWrite, cost: cost}
	case err != nil:
		return result{failed: true, code: rom.ErrDeflate, cost: cost}
	}
	return result{cost: cost}
}

// flashEndLocked closes the session; 0 reboots the chip (after the reply
// and a c0 c0), 1 runs the user code in flash.
func (b *Board) flashEndLocked(l *loader, op rom.Op) result {
	if l.w != nil && l.w.inf != nil {
		l.w.inf.close()
	}
	l.w = nil
	runUser := l.word(0) != 0
	return result{after: func(at time.Time) {
		if runUser {
			b.runUserCodeLocked(at)
			return
		}
		b.emitLocked(at, []byte{slip.End, slip.End})
		b.resetLocked(resetSoftware, !gpio0Level(b.dtr, b.rts) && !b.faults.BootMode, at)
	}}
}

// memEndLocked: with no_exec clear the ROM jumps to the entry point and is
// gone; a simulator cannot run the code, so the board falls silent, unless
// it is configured to take the code for esptool's stub (Config.EsptoolStub).
func (b *Board) memEndLocked(l *loader) result {
	noExec := l.word(0) != 0
	if !noExec {
		l.w = nil
	}
	// With no_exec the session stays open: the real ROM accepts the next
	// MEM_DATA in sequence after a MEM_END(1).
	return result{after: func(at time.Time) {
		switch {
		case noExec:
		case b.cfg.EsptoolStub:
			b.startStubLocked(l, at)
		default:
			b.stopChipLocked()
			b.mode = modeRAM
		}
	}}
}

// md5Locked hashes a flash range; the ROM answers with 32 lower-case hex
// characters. Past the end of flash it fails with 01 09 and leaves the
// previous hex text in the reply.
func (b *Board) md5Locked(l *loader) result {
	addr, size := l.word(0), l.word(1)
	if uint64(addr)+uint64(size) > l.flashLimit(b.flash.size) {
		return result{dataLen: rom.MD5HexLen, failed: true, code: rom.ErrFlashRead}
	}
	sum := b.flash.md5Sum(addr, size)
	hex.Encode(l.reply[:rom.MD5HexLen], sum[:])
	return result{dataLen: rom.MD5HexLen, clearErr: true, cost: b.costs.rate(int(size), romMD5Rate)}
}

// readSlowLocked answers READ_FLASH_SLOW: always 64 data bytes, of which
// only the requested ones are fresh; more than 64 fails with 01 0A.
func (b *Board) readSlowLocked(l *loader) result {
	addr, size := l.word(0), l.word(1)
	if size > rom.ReadFlashSlowMax {
		return result{dataLen: rom.ReadFlashSlowMax, failed: true, code: rom.ErrReadLength}
	}
	if uint64(addr)+uint64(size) > l.flashLimit(b.flash.size) {
		return result{dataLen: rom.ReadFlashSlowMax, failed: true, code: rom.ErrFlashRead}
	}
	b.flash.readAt(l.reply[:size], addr)
	return result{dataLen: rom.ReadFlashSlowMax, clearErr: true}
}
