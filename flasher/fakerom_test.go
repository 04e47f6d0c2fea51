package flasher

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"io"
	"sync"
	"testing"

	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
	"fleetline/flasher/slip"
)

// fakeROM is a scripted stand-in for an ESP32 or ESP32-C3 ROM loader on
// the device end of a portio.Pipe, written from Espressif's protocol
// description and the behaviour observed on the real ROM (stale values,
// refusals echoing the last handled op, sequence numbers consumed by bad
// checksums). Tests inject faults through fault.
type fakeROM struct {
	t      testing.TB
	dev    *portio.PipeEnd
	chip   string // "esp32" or "esp32c3"
	mu     sync.Mutex
	regs   map[uint32]uint32
	flash  []byte
	silent bool // not in download mode: answer nothing
	stub   bool // behave as a running flasher stub: 2-byte status, SYNC value 0, raw MD5
	// maxBlock, when set, is the largest block size BEGIN accepts (an
	// older ROM); otherwise 0x1000, as the ESP32 and C3 ROMs observed.
	maxBlock uint32
	// fault, when set, sees every request before it is handled and picks
	// what happens to it.
	fault func(req rom.Request, n int) faultAction
	count map[rom.Op]int
	reqs  []rom.Request

	// loader state
	lastOp    rom.Op
	lastValue uint32
	begin     *fakeBegin
	done      chan struct{}
}

type faultAction int

const (
	actNormal      faultAction = iota
	actDropReply               // handle the request, lose the reply
	actIgnore                  // the request never arrived
	actBadChecksum             // answer 01 07 as if the line corrupted the block
	actClose                   // the cable is pulled
	actCorrupt                 // flip a flash bit, then handle it
)

type fakeBegin struct {
	op              rom.Op
	offset, size    uint32
	blocks, nextSeq uint32
	blockSize       uint32
	accepted        uint32
	pos             uint32 // next write position (plain)
	comp            []byte // compressed bytes so far (DEFL)
}

func newFakeROM(t testing.TB, chip string) (*fakeROM, *portio.PipeEnd) {
	host, dev := portio.Pipe()
	f := &fakeROM{t: t, dev: dev, chip: chip, flash: bytes.Repeat([]byte{0xFF}, 4<<20),
		count: map[rom.Op]int{}, lastOp: rom.OpSync, lastValue: rom.SyncValue, done: make(chan struct{})}
	switch chip {
	case "esp32":
		f.regs = map[uint32]uint32{
			MagicAddr: 0x00F01D83, 0x3FF5A004: 0xc4123456, 0x3FF5A008: 0x00f5240a, 0x3FF5A00C: 0x00008000,
			0x3FF5A010: 0x00000050, 0x3FF5A014: 0x00100000, esp32APBCtlDate: 0x96042000,
			0x3FF40014: 0x0000015a, esp32RTCCaliCfg1: 0x00028000,
		}
	case "esp32c3":
		f.regs = map[uint32]uint32{
			MagicAddr: 0x1B31506F, 0x60008844: 0xc4123456, 0x60008848: 0x0000240a, 0x60008850: 0x000c0000,
			0x60000014: 0x00000152,
		}
	}
	go f.serve()
	t.Cleanup(func() { dev.Close(); <-f.done })
	return f, host
}

func (f *fakeROM) chipDef() *Chip { return ChipByName(f.chip) }

func (f *fakeROM) serve() {
	defer close(f.done)
	dec := slip.Decoder{Lenient: true}
	buf := make([]byte, 4096)
	f.dev.SetReadTimeout(1 << 40)
	for {
		n, err := f.dev.Read(buf)
		if err != nil && err != portio.ErrTimeout {
			return
		}
		dec.Feed(buf[:n])
		for {
			fr, ferr, ok := dec.Next()
			if !ok {
				break
			}
			if ferr != nil {
				continue
			}
			req, perr := rom.ParseRequest(fr)
			if perr != nil && req.Op == 0 {
				continue
			}
			if !f.handle(req) {
				return
			}
		}
	}
}

// reply sends one response with a 4-byte ROM status (2 bytes as a stub).
func (f *fakeROM) reply(op rom.Op, value uint32, data []byte, failed bool, code rom.ErrorCode) {
	n := rom.StatusLenROM
	if f.stub {
		n = rom.StatusLenStub
		if failed && code < rom.StubErrDataLength {
			code = rom.StubErrInvalidCmd
		}
	}
	d := rom.AppendStatus(append([]byte(nil), data...), n, rom.Status{Failed: failed, Code: code}, nil)
	b, _ := rom.Response{Op: op, Value: value, Data: d}.MarshalBinary()
	f.dev.Write(slip.Encode(b))
}

func (f *fakeROM) handle(req rom.Request) bool {
	f.mu.Lock()
	f.count[req.Op]++
	f.reqs = append(f.reqs, req)
	n := f.count[req.Op]
	silent := f.silent
	fault := f.fault
	f.mu.Unlock()
	if silent {
		return true
	}
	act := actNormal
	if fault != nil {
		act = fault(req, n)
	}
	switch act {
	case actIgnore:
		return true
	case actClose:
		f.dev.Close()
		return false
	case actBadChecksum:
		f.mu.Lock()
		if f.begin != nil {
			f.begin.nextSeq++ // the ROM consumes the sequence number
		}
		f.mu.Unlock()
		f.reply(req.Op, f.lastValue, nil, true, rom.ErrBadChecksum)
		return true
	}
	if act == actCorrupt {
		f.mu.Lock()
		f.flash[0x10000+5] ^= 0x01
		f.mu.Unlock()
	}
	op, value, data, failed, code := f.exec(req)
	if act == actDropReply {
		return true
	}
	f.reply(op, value, data, failed, code)
	return true
}

// exec runs one command and returns the reply fields.
func (f *fakeROM) exec(req rom.Request) (rom.Op, uint32, []byte, bool, rom.ErrorCode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := func(data []byte) (rom.Op, uint32, []byte, bool, rom.ErrorCode) {
		f.lastOp = req.Op
		return req.Op, f.lastValue, data, false, 0
	}
	fail := func(code rom.ErrorCode) (rom.Op, uint32, []byte, bool, rom.ErrorCode) {
		return req.Op, f.lastValue, nil, true, code
	}
	switch req.Op {
	case rom.OpSync:
		v := uint32(rom.SyncValue)
		if f.stub {
			v = 0
		}
		for i := 1; i < rom.SyncReplies; i++ {
			f.reply(rom.OpSync, v, nil, false, 0)
		}
		f.lastOp, f.lastValue = rom.OpSync, v
		return rom.OpSync, v, nil, false, 0
	case rom.OpReadReg:
		addr := binary.LittleEndian.Uint32(req.Data)
		v := f.readReg(addr)
		f.lastOp, f.lastValue = rom.OpReadReg, v
		return rom.OpReadReg, v, nil, false, 0
	case rom.OpWriteReg:
		ws, _ := rom.ParseWriteReg(req.Data)
		for _, w := range ws {
			f.writeReg(w.Addr, w.Value, w.Mask)
		}
		return ok(nil)
	case rom.OpGetSecurityInfo:
		if f.chip == "esp32" {
			// Refused: the reply carries the last handled op and its value.
			return f.lastOp, f.lastValue, nil, true, rom.ErrBadMessage
		}
		s := rom.SecurityInfo{KeyPurposes: [7]uint8{6: 0x0c}, ChipID: 5, APIVersion: 3, HasChipID: true}
		return ok(s.Marshal())
	case rom.OpSPIAttach, rom.OpSPISetParams, rom.OpChangeBaudrate:
		return ok(nil)
	case rom.OpFlashBegin, rom.OpFlashDeflBegin:
		b, err := rom.ParseBegin(req.Op, req.Data)
		limit := uint32(0x1000)
		if f.maxBlock != 0 {
			limit = f.maxBlock
		}
		if err != nil || (b.BlockSize > limit && !f.stub) || (f.chip != "esp32" || f.stub) != b.HasEncrypted {
			return fail(rom.ErrBadMessage)
		}
		if b.Offset%0x1000 != 0 {
			return fail(rom.ErrOperationFailed)
		}
		end := min((b.Offset+b.Size+0xFFF)&^0xFFF, uint32(len(f.flash)))
		for i := b.Offset; i < end; i++ {
			f.flash[i] = 0xFF
		}
		f.begin = &fakeBegin{op: req.Op, offset: b.Offset, size: b.Size, blocks: b.Blocks, blockSize: b.BlockSize, pos: b.Offset}
		return ok(nil)
	case rom.OpFlashData, rom.OpFlashDeflData:
		bg := f.begin
		blk, err := rom.ParseDataBlock(req.Op, req.Data)
		if err != nil || bg == nil || bg.op+1 != req.Op || int(blk.Len) != len(blk.Data) || blk.Seq != bg.nextSeq {
			return fail(rom.ErrBadMessage)
		}
		if uint32(rom.Checksum(blk.Data)) != req.Checksum {
			bg.nextSeq++
			return fail(rom.ErrBadChecksum)
		}
		bg.nextSeq++
		bg.accepted++
		if req.Op == rom.OpFlashData {
			for i, b := range blk.Data {
				f.flash[bg.pos+uint32(i)] &= b
			}
			bg.pos += bg.blockSize
			return ok(nil)
		}
		bg.comp = append(bg.comp, blk.Data...)
		if bg.accepted == bg.blocks {
			zr, err := zlib.NewReader(bytes.NewReader(bg.comp))
			if err != nil {
				return fail(rom.ErrDeflate)
			}
			raw, err := io.ReadAll(zr)
			if err != nil {
				return fail(rom.ErrDeflate)
			}
			for i, b := range raw {
				f.flash[bg.offset+uint32(i)] &= b
			}
		}
		return ok(nil)
	case rom.OpSPIFlashMD5:
		addr, size, _ := rom.ParseRegion(req.Op, req.Data)
		if uint64(addr)+uint64(size) > uint64(len(f.flash)) {
			return fail(rom.ErrFlashRead)
		}
		sum := md5.Sum(f.flash[addr : addr+size])
		if f.stub {
			return ok(sum[:])
		}
		return ok([]byte(hex.EncodeToString(sum[:])))
	case rom.OpEraseRegion:
		addr, size, _ := rom.ParseRegion(req.Op, req.Data)
		if !f.stub || addr%0x1000 != 0 || size%0x1000 != 0 {
			return fail(rom.ErrBadMessage)
		}
		for i := addr; i < addr+size; i++ {
			f.flash[i] = 0xFF
		}
		return ok(nil)
	case rom.OpReadFlashSlow:
		addr, size, _ := rom.ParseRegion(req.Op, req.Data)
		if size > 64 {
			return fail(rom.ErrReadLength)
		}
		out := make([]byte, 64)
		copy(out, f.flash[addr:addr+size])
		return ok(out)
	}
	return f.lastOp, f.lastValue, nil, true, rom.ErrBadMessage
}

func (f *fakeROM) readReg(addr uint32) uint32 { return f.regs[addr] }

func (f *fakeROM) writeReg(addr, value, mask uint32) {
	f.regs[addr] = f.regs[addr]&^mask | value&mask
	c := f.chipDef()
	if addr == c.SPIBase && value&spiCmdUsr != 0 {
		if f.regs[c.SPIBase+c.SPI.USR2]&0xFF == jedecReadID {
			f.regs[c.SPIBase+c.SPI.W0] = 0x001640c8
		}
		f.regs[c.SPIBase] &^= spiCmdUsr
	}
}

// requests returns copies of the requests received so far.
func (f *fakeROM) requests() []rom.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]rom.Request, len(f.reqs))
	for i, r := range f.reqs {
		out[i] = rom.Request{Op: r.Op, Checksum: r.Checksum, Data: append([]byte(nil), r.Data...)}
	}
	return out
}

// ops returns the ops received so far.
func (f *fakeROM) ops() []rom.Op {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ops []rom.Op
	for _, r := range f.reqs {
		ops = append(ops, r.Op)
	}
	return ops
}

func (f *fakeROM) setFault(fn func(rom.Request, int) faultAction) {
	f.mu.Lock()
	f.fault = fn
	f.mu.Unlock()
}
