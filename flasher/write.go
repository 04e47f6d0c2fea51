package flasher

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"fleetline/flasher/rom"
)

// WriteReport is the outcome of writing one region.
type WriteReport struct {
	Name     string
	Offset   uint32
	Skipped  bool          // flash already held the data (SkipUnchanged)
	Verified bool          // the flash MD5 matched after the write
	Raw      int           // bytes written to flash (after sector alignment)
	Wire     int           // data bytes sent in blocks: compressed, or padded to 1 KiB
	Blocks   int           // data blocks sent
	Retries  int           // blocks sent again after a failure
	Duration time.Duration // from BEGIN to the end of the check
}

// BlockError is a block that could not be written within its tries.
type BlockError struct {
	Region string
	Offset uint32
	Block  int   // 1-based, over the whole region
	Blocks int   // blocks in the region
	Tries  int   // sends of this block, the last one failed
	Err    error // the last try's error
}

// Error reads like "flash app 0x10000 block 12/310: timeout after 3 tries".
func (e *BlockError) Error() string {
	what := e.Err.Error()
	if errors.Is(e.Err, ErrTimeout) {
		what = "timeout"
	}
	if e.Tries <= 1 {
		return fmt.Sprintf("flash %s 0x%x block %d/%d: %v", e.Region, e.Offset, e.Block, e.Blocks, e.Err)
	}
	return fmt.Sprintf("flash %s 0x%x block %d/%d: %s after %d tries", e.Region, e.Offset, e.Block, e.Blocks, what, e.Tries)
}

// Unwrap returns the last try's error.
func (e *BlockError) Unwrap() error { return e.Err }

// maxTries bounds the attempts at one block, as esptool's 3 tries.
const maxTries = 3

// WriteRegions prepares regions and writes them; see WritePlan.
func (c *Client) WriteRegions(ctx context.Context, regions []Region, o WriteOptions) ([]WriteReport, error) {
	p, err := PrepareWrite(regions, o)
	if err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	return c.WritePlan(ctx, p)
}

// WritePlan writes every region of p in order and returns a report per
// region written so far.
//
// Each segment of a region is one FLASH_DEFL_BEGIN (or FLASH_BEGIN, which
// also erases it) followed by its 1 KiB blocks. As esptool does with the
// ROM, no FLASH_DEFL_END/FLASH_END follows: it would leave the loader.
//
// Recovery. A block answered with a checksum error (the line corrupted it)
// was not written, but the ROM consumed its sequence number and did not
// advance its write address; the same bytes are sent again under the next
// sequence number. Any other failure — a timeout, where nobody knows
// whether the board took the block, an out-of-sequence or flash error —
// leaves the ROM's write position unknown (and, compressed, its inflater
// state), so the whole segment is begun again with a fresh BEGIN, which
// re-erases it and resets sequence and inflater. A block that fails three
// times ends the write with a *BlockError naming the region and block. A
// closed port or cancelled context ends it at once.
func (c *Client) WritePlan(ctx context.Context, p *WritePlan) ([]WriteReport, error) {
	chip, err := c.requireChip()
	if err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	if err := c.prepareFlash(ctx); err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	if c.info != nil && c.info.FlashSize != 0 {
		for _, r := range p.regions {
			if uint64(r.start)+uint64(len(r.image)) > uint64(c.info.FlashSize) {
				return nil, fmt.Errorf("flash %s 0x%x: %d bytes run past the end of the %d-byte flash", r.name, r.offset, r.size, c.info.FlashSize)
			}
		}
	}
	var reports []WriteReport
	for i := 0; i < len(p.regions); i++ {
		r := &p.regions[i]
		rep, err := c.writeRegion(ctx, chip, p.opt, r)
		if errors.Is(err, errBlockSizeRefused) && p.auto {
			fb, ferr := p.fallback()
			if ferr != nil {
				return reports, fmt.Errorf("flash: %w", ferr)
			}
			c.logf("flash %s 0x%x: the ROM refused %#x-byte blocks; using %#x from here on", r.name, r.offset, p.opt.BlockSize, fb.opt.BlockSize)
			p = fb
			i--
			continue
		}
		reports = append(reports, rep)
		if err != nil {
			return reports, err
		}
	}
	return reports, nil
}

// errBlockSizeRefused marks a first BEGIN the ROM answered with "invalid
// message": on a ROM that accepts the command at all, that is the block size.
var errBlockSizeRefused = errors.New("block size refused")

func (c *Client) writeRegion(ctx context.Context, chip *Chip, o WriteOptions, r *planRegion) (WriteReport, error) {
	t0 := time.Now()
	rep := WriteReport{Name: r.name, Offset: r.offset, Raw: len(r.image), Wire: r.wire, Blocks: r.blocks}
	if o.SkipUnchanged {
		got, err := c.MD5(ctx, r.offset, r.size)
		if err != nil {
			return rep, fmt.Errorf("flash %s 0x%x: check for changes: %w", r.name, r.offset, err)
		}
		if got == r.md5 {
			rep.Skipped, rep.Verified, rep.Wire, rep.Blocks = true, true, 0, 0
			rep.Duration = time.Since(t0)
			c.logf("flash %s 0x%x: unchanged (MD5 %x), skipped", r.name, r.offset, got)
			c.progress(Progress{Step: "skip", Region: r.name, Offset: r.offset, Done: int(r.size), Total: int(r.size)})
			return rep, nil
		}
	}
	for si := range r.segments {
		retries, err := c.writeSegment(ctx, chip, o, r, &r.segments[si])
		rep.Retries += retries
		if err != nil {
			rep.Duration = time.Since(t0)
			return rep, err
		}
	}
	if c.stub {
		// The stub acknowledges blocks on receipt; a command it answers only
		// once the last block is written out marks the real end.
		if _, err := c.ReadReg(ctx, MagicAddr); err != nil {
			return rep, fmt.Errorf("flash %s 0x%x: wait for the last block: %w", r.name, r.offset, err)
		}
	}
	if o.Verify {
		got, err := c.MD5(ctx, r.start, uint32(len(r.image)))
		if err != nil {
			return rep, fmt.Errorf("verify %s 0x%x: %w", r.name, r.offset, err)
		}
		c.progress(Progress{Step: "verify", Region: r.name, Offset: r.offset, Done: len(r.image), Total: len(r.image)})
		if got != r.imageMD5 {
			return rep, &VerifyError{Region: r.name, Offset: r.start, Size: uint32(len(r.image)), Want: r.imageMD5, Got: got, AfterWrite: true}
		}
		rep.Verified = true
	}
	rep.Duration = time.Since(t0)
	return rep, nil
}

// writeSegment writes one segment with the recovery rules of WritePlan and
// returns how many blocks were sent again.
func (c *Client) writeSegment(ctx context.Context, chip *Chip, o WriteOptions, r *planRegion, s *planSegment) (int, error) {
	beginOp, dataOp := rom.OpFlashBegin, rom.OpFlashData
	if o.Compress {
		beginOp, dataOp = rom.OpFlashDeflBegin, rom.OpFlashDeflData
	}
	fails := make([]int, len(s.blocks))
	retries := 0
	cause := 0 // the block whose failure is being recovered from; 0 at first
	var hdr [rom.DataHeaderLen]byte
restart:
	for {
		if err := c.beginSegment(ctx, chip, beginOp, o.Compress, o.BlockSize, s); err != nil {
			var se *rom.StatusError
			if s.first == 0 && cause == 0 && fails[0] == 0 && o.BlockSize != FallbackBlockSize &&
				errors.As(err, &se) && se.Code == rom.ErrBadMessage {
				return retries, fmt.Errorf("%w: %w", errBlockSizeRefused, err)
			}
			// A BEGIN that fails while recovering counts against the block
			// that caused the recovery: a chip gone deaf is reported there.
			fails[cause]++
			if fatal(err) || fails[cause] >= maxTries {
				return retries, &BlockError{Region: r.name, Offset: r.offset, Block: s.first + cause + 1, Blocks: r.blocks, Tries: fails[cause], Err: err}
			}
			c.logf("flash %s: %v; beginning the segment again", r.name, err)
			_ = c.flushInput()
			continue
		}
		seq := uint32(0)
		for k := 0; k < len(s.blocks); k++ {
			block := s.blocks[k]
			timeout := c.to.Default
			if o.Compress && !c.stub {
				timeout = c.to.scaled(c.to.EraseWritePerMB, uint32(s.inflated[k]))
			}
			for {
				binary.LittleEndian.PutUint32(hdr[0:], uint32(len(block)))
				binary.LittleEndian.PutUint32(hdr[4:], seq)
				_, _, err := c.command(ctx, dataOp, timeout, 0, uint32(rom.Checksum(block)), hdr[:], block)
				if err == nil {
					seq++
					break
				}
				gk := s.first + k
				fails[k]++
				if fatal(err) || fails[k] >= maxTries {
					return retries, &BlockError{Region: r.name, Offset: r.offset, Block: gk + 1, Blocks: r.blocks, Tries: fails[k], Err: err}
				}
				retries++
				if badChecksum(err) {
					// Not written, sequence number consumed: same bytes, next seq.
					c.logf("flash %s block %d/%d: %v; resending as seq %d", r.name, gk+1, r.blocks, err, seq+1)
					seq++
					continue
				}
				c.logf("flash %s block %d/%d: %v; beginning segment 0x%x again", r.name, gk+1, r.blocks, err, s.addr)
				cause = k
				_ = c.flushInput()
				continue restart
			}
			done := int(s.addr-r.start) + (k+1)*len(s.raw)/len(s.blocks)
			c.progress(Progress{Step: "write", Region: r.name, Offset: r.offset, Done: done, Total: len(r.image), Block: s.first + k + 1, Blocks: r.blocks})
		}
		return retries, nil
	}
}

func badChecksum(err error) bool {
	var se *rom.StatusError
	return errors.As(err, &se) && (se.Code == rom.ErrBadChecksum || se.Code == rom.StubErrDataChecksum)
}

// beginSegment sends FLASH_BEGIN (which erases the segment before it
// answers) or FLASH_DEFL_BEGIN (the ROM also erases up front; its size is
// the uncompressed length rounded up to a block).
func (c *Client) beginSegment(ctx context.Context, chip *Chip, op rom.Op, compressed bool, bs uint32, s *planSegment) error {
	size := uint32(len(s.raw))
	if compressed && !c.stub {
		size = (size + bs - 1) / bs * bs
	}
	b := rom.Begin{Size: size, Blocks: uint32(len(s.blocks)), BlockSize: bs, Offset: s.addr,
		HasEncrypted: chip.BeginWords == 5 || c.stub}
	timeout := c.to.Default
	if !c.stub {
		timeout = c.to.scaled(c.to.EraseRegionPerMB, size)
	}
	if _, _, err := c.command(ctx, op, timeout, 0, 0, b.Marshal()); err != nil {
		return fmt.Errorf("%s at 0x%x (%d bytes): %w", op, s.addr, size, err)
	}
	return nil
}
