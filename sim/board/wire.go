package board

import (
	"bytes"
	"time"
)

// hostBufMax bounds what waits for a host that does not read: beyond it new
// bytes are lost, as a full tty buffer loses them.
const hostBufMax = 1 << 20

// chunk is bytes in flight on one direction of the UART.
type chunk struct {
	start time.Time // first bit leaves the sender
	at    time.Time // last byte is available at the receiver
	baud  int       // the sender's rate
	data  []byte
}

// baudsAgree reports whether a UART at rx decodes a sender at tx: within
// about 4 %, the usual sampling tolerance of 8N1.
func baudsAgree(tx, rx int) bool {
	if tx == rx {
		return true
	}
	d := float64(tx-rx) / float64(rx)
	return d > -0.04 && d < 0.04
}

// garbleLocked is what a receiver at rx makes of data sent at tx when the
// rates disagree: a different number of bytes with framing errors, drawn
// from the board's noise stream so runs are reproducible.
func (b *Board) garbleLocked(data []byte, tx, rx int) []byte {
	if b.bridge.USB || baudsAgree(tx, rx) || len(data) == 0 {
		return data // USB CDC carries bytes, not bit timings
	}
	n := len(data) * rx / tx
	n = max(1, min(n, 4*len(data)))
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(b.noise.Uint32())
	}
	return out
}

// lineFaultsLocked applies the drop and flip faults to bytes on the wire.
func (b *Board) lineFaultsLocked(data []byte) []byte {
	if b.faults.Drop == 0 && b.faults.Flip == 0 {
		return data
	}
	out := make([]byte, 0, len(data))
	for _, c := range data {
		if b.faults.Drop > 0 && b.faultRn.Float64() < b.faults.Drop {
			continue
		}
		if b.faults.Flip > 0 && b.faultRn.Float64() < b.faults.Flip {
			c ^= 1 << b.faultRn.IntN(8)
		}
		out = append(out, c)
	}
	return out
}

// effectiveHostBaud is the rate the bridge actually runs at: a bridge asked
// for more than it can do stays at its maximum, and the chip then sees
// garbage, as with a real CP2102 asked for 1.5 Mbaud.
func (b *Board) effectiveHostBaud() int {
	if b.bridge.USB {
		return b.chipBaud // USB CDC: the rate the host sets means nothing
	}
	return min(b.hostBaud, b.bridge.MaxBaud)
}

// wireBaud is the rate bytes cross the link at, for timing.
func (b *Board) wireBaud(uart int) int {
	if b.bridge.USB {
		return usbWireBaud
	}
	return uart
}

// --- host to chip ---

// sendToChipLocked puts host bytes on the wire towards the chip.
func (b *Board) sendToChipLocked(data []byte) {
	data = b.lineFaultsLocked(data)
	if len(data) == 0 {
		return
	}
	baud := b.effectiveHostBaud()
	if !b.costs.realistic {
		b.receiveLocked(chunk{baud: baud, data: data})
		return
	}
	now := time.Now()
	start := now.Add(usbHostToBridge)
	if n := len(b.chipQ); n > 0 && b.chipQ[n-1].at.After(start) {
		start = b.chipQ[n-1].at
	}
	c := chunk{start: start, at: start.Add(b.costs.bytes(len(data), b.wireBaud(baud))), baud: baud, data: append([]byte(nil), data...)}
	b.chipQ = append(b.chipQ, c)
	b.armRxLocked()
}

// armRxLocked schedules delivery of the oldest chunk in flight to the chip.
func (b *Board) armRxLocked() {
	if len(b.chipQ) == 0 || b.rxTimer != nil {
		return
	}
	d := time.Until(b.chipQ[0].at)
	b.rxTimer = time.AfterFunc(max(d, 0), b.rxDue)
}

func (b *Board) rxDue() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rxTimer = nil
	if b.closed {
		return
	}
	now := time.Now()
	for len(b.chipQ) > 0 && !b.chipQ[0].at.After(now) {
		c := b.chipQ[0]
		b.chipQ = b.chipQ[1:]
		b.receiveLocked(c)
	}
	b.armRxLocked()
}

// receiveLocked is the chip's UART receiving a chunk.
func (b *Board) receiveLocked(c chunk) {
	if b.mode == modeROM && !b.autobaud && !baudsAgree(c.baud, b.chipBaud) && bytes.Contains(c.data, []byte{0x55, 0x55, 0x55, 0x55}) {
		// The ROM's autobaud measures the 0x55 run of a SYNC and locks to
		// the host's rate, whatever it is.
		b.setChipBaudLocked(c.baud, true)
	}
	data := b.garbleLocked(c.data, c.baud, b.chipBaud)
	switch b.mode {
	case modeROM:
		b.romReceiveLocked(data, c.at)
	case modeApp:
		b.app.receiveLocked(data)
	}
}

// --- chip to host ---

// emitLocked sends data from the chip's UART, starting no earlier than at
// (the moment the chip has the bytes ready). In instant mode it lands in
// the host buffer at once.
func (b *Board) emitLocked(at time.Time, data []byte) {
	if len(data) == 0 || b.closed || b.unplugged {
		return
	}
	if !b.costs.realistic {
		if b.open == nil {
			return // a closed tty drops what arrives
		}
		if len(b.hostBuf) >= hostBufMax {
			return
		}
		data = b.lineFaultsLocked(data)
		b.hostBuf = append(b.hostBuf, b.garbleLocked(data, b.chipBaud, b.effectiveHostBaud())...)
		b.signalLocked()
		return
	}
	now := time.Now()
	start := at
	if start.Before(now) {
		start = now
	}
	if b.txFree.After(start) {
		start = b.txFree
	}
	end := start.Add(b.costs.bytes(len(data), b.wireBaud(b.chipBaud)))
	b.txFree = end
	if b.open == nil || b.hostPendingLocked() >= hostBufMax {
		return
	}
	lat := b.bridge.Turnaround
	if b.bridge.Jitter > 0 {
		lat += time.Duration(b.jitter.Int64N(int64(b.bridge.Jitter)))
	}
	if b.bridge.LatencyTimer > 0 && len(data)%b.bridge.PacketSize != 0 {
		lat = b.bridge.LatencyTimer // the short tail waits for the latency timer
	}
	b.hostQ = append(b.hostQ, chunk{start: start, at: end.Add(lat), baud: b.chipBaud, data: append([]byte(nil), data...)})
	b.signalLocked()
}

// hostPendingLocked counts chip output the host has not read yet.
func (b *Board) hostPendingLocked() int {
	n := len(b.hostBuf)
	for _, c := range b.hostQ {
		n += len(c.data)
	}
	return n
}

// materializeLocked moves chip output that has arrived by now into the host
// buffer, decoding it at the host's current rate.
func (b *Board) materializeLocked(now time.Time) {
	i := 0
	for ; i < len(b.hostQ) && !b.hostQ[i].at.After(now); i++ {
		c := b.hostQ[i]
		d := b.lineFaultsLocked(c.data)
		b.hostBuf = append(b.hostBuf, b.garbleLocked(d, c.baud, b.effectiveHostBaud())...)
	}
	if i > 0 {
		b.hostQ = append(b.hostQ[:0], b.hostQ[i:]...)
	}
}

// dropUnsentLocked forgets chip output not yet on the wire at now (a reset
// stops the UART mid-queue).
func (b *Board) dropUnsentLocked(now time.Time) {
	keep := b.hostQ[:0]
	for _, c := range b.hostQ {
		if !c.start.After(now) {
			keep = append(keep, c)
		}
	}
	b.hostQ = keep
	if b.txFree.After(now) {
		b.txFree = now
	}
}
