package rom

import (
	"encoding/binary"
	"fmt"
)

// Sizes fixed by the protocol.
const (
	DataHeaderLen     = 16     // len, seq, 0, 0 before a data block's bytes
	FlashBlockROM     = 0x400  // FLASH_DATA / FLASH_DEFL_DATA block size the ROM accepts
	FlashBlockStub    = 0x4000 // block size the flasher stub uses
	MemBlockROM       = 0x1800 // MEM_DATA block size over UART
	ReadFlashSlowMax  = 64     // READ_FLASH_SLOW returns at most this many bytes
	MD5HexLen         = 32     // ROM MD5 reply: lower-case ASCII hex
	MD5RawLen         = 16     // stub MD5 reply: raw bytes
	SecurityInfoLen   = 20     // GET_SECURITY_INFO data on S3/C3/C6 (S2: 12)
	SecurityInfoLenS2 = 12
	WriteRegGroupLen  = 16
	SyncReplies       = 8 // the ROM answers one SYNC with eight replies
)

// SyncData is the fixed SYNC payload: 07 07 12 20 followed by 32 × 0x55.
var SyncData = func() []byte {
	b := []byte{0x07, 0x07, 0x12, 0x20}
	for i := 0; i < 32; i++ {
		b = append(b, 0x55)
	}
	return b
}()

// SyncValue is the value the ROM puts in its SYNC replies (the first four
// SYNC payload bytes read as a little-endian word). A stub answers 0.
const SyncValue = 0x20120707

func words(vs ...uint32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return b
}

func readWords(op Op, data []byte, n int) ([]uint32, error) {
	if len(data) < 4*n {
		return nil, fmt.Errorf("rom: %s needs %d bytes, has %d", op, 4*n, len(data))
	}
	w := make([]uint32, n)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(data[4*i:])
	}
	return w, nil
}

// Begin is the payload of FLASH_BEGIN, FLASH_DEFL_BEGIN and MEM_BEGIN.
// Size is the erase size (FLASH_BEGIN), the uncompressed size
// (FLASH_DEFL_BEGIN) or the total size (MEM_BEGIN).
type Begin struct {
	Size      uint32
	Blocks    uint32 // number of data blocks that follow
	BlockSize uint32 // bytes per data block (the last may be padded)
	Offset    uint32 // flash offset, or RAM address for MEM_BEGIN
	// HasEncrypted adds the fifth word that post-ESP32 ROMs and stubs
	// expect; Encrypted is its value (write through flash encryption).
	HasEncrypted bool
	Encrypted    bool
}

// Marshal encodes the payload: 16 bytes, or 20 with the encrypted word.
func (b Begin) Marshal() []byte {
	d := words(b.Size, b.Blocks, b.BlockSize, b.Offset)
	if b.HasEncrypted {
		var e uint32
		if b.Encrypted {
			e = 1
		}
		d = append(d, words(e)...)
	}
	return d
}

// ParseBegin decodes a *_BEGIN payload of 16 or 20 bytes.
func ParseBegin(op Op, data []byte) (Begin, error) {
	w, err := readWords(op, data, 4)
	if err != nil {
		return Begin{}, err
	}
	b := Begin{Size: w[0], Blocks: w[1], BlockSize: w[2], Offset: w[3]}
	if len(data) >= 20 {
		b.HasEncrypted = true
		b.Encrypted = binary.LittleEndian.Uint32(data[16:]) != 0
	}
	return b, nil
}

// DataBlock builds the payload of FLASH_DATA, FLASH_DEFL_DATA or MEM_DATA:
// the 16-byte header (length, sequence, two zero words) then the bytes.
func DataBlock(seq uint32, block []byte) []byte {
	d := make([]byte, DataHeaderLen, DataHeaderLen+len(block))
	binary.LittleEndian.PutUint32(d[0:], uint32(len(block)))
	binary.LittleEndian.PutUint32(d[4:], seq)
	return append(d, block...)
}

// Block is a decoded data block.
type Block struct {
	Len  uint32 // the length field, which may disagree with len(Data)
	Seq  uint32 // block number, from 0 after each BEGIN
	Data []byte
}

// ParseDataBlock decodes a *_DATA payload without judging it; the receiver
// checks Len against len(Data) and the checksum.
func ParseDataBlock(op Op, data []byte) (Block, error) {
	if len(data) < DataHeaderLen {
		return Block{}, fmt.Errorf("rom: %s needs a %d-byte block header, has %d bytes", op, DataHeaderLen, len(data))
	}
	return Block{
		Len:  binary.LittleEndian.Uint32(data[0:]),
		Seq:  binary.LittleEndian.Uint32(data[4:]),
		Data: data[DataHeaderLen:],
	}, nil
}

// EndData is the payload of FLASH_END / FLASH_DEFL_END: 0 reboots, 1 runs
// the user code.
func EndData(runUserCode bool) []byte {
	if runUserCode {
		return words(1)
	}
	return words(0)
}

// MemEnd is the payload of MEM_END.
type MemEnd struct {
	NoExec bool   // stay in the loader instead of jumping to Entry
	Entry  uint32 // address to jump to
}

// Marshal encodes MEM_END.
func (m MemEnd) Marshal() []byte {
	var f uint32
	if m.NoExec {
		f = 1
	}
	return words(f, m.Entry)
}

// ParseMemEnd decodes MEM_END.
func ParseMemEnd(data []byte) (MemEnd, error) {
	w, err := readWords(OpMemEnd, data, 2)
	if err != nil {
		return MemEnd{}, err
	}
	return MemEnd{NoExec: w[0] != 0, Entry: w[1]}, nil
}

// RegWrite is one group of WRITE_REG: the register at Addr gets Value
// under Mask, then the ROM waits DelayUS microseconds.
type RegWrite struct {
	Addr, Value, Mask, DelayUS uint32
}

// WriteRegData encodes one or more register writes.
func WriteRegData(ws ...RegWrite) []byte {
	var d []byte
	for _, w := range ws {
		d = append(d, words(w.Addr, w.Value, w.Mask, w.DelayUS)...)
	}
	return d
}

// ParseWriteReg decodes every complete 16-byte group in data.
func ParseWriteReg(data []byte) ([]RegWrite, error) {
	if len(data) < WriteRegGroupLen {
		return nil, fmt.Errorf("rom: WRITE_REG needs at least one %d-byte group, has %d bytes", WriteRegGroupLen, len(data))
	}
	var ws []RegWrite
	for len(data) >= WriteRegGroupLen {
		w, _ := readWords(OpWriteReg, data, 4)
		ws = append(ws, RegWrite{w[0], w[1], w[2], w[3]})
		data = data[WriteRegGroupLen:]
	}
	return ws, nil
}

// ReadRegData encodes READ_REG's address.
func ReadRegData(addr uint32) []byte { return words(addr) }

// SPIAttachData encodes SPI_ATTACH: the pin word and, for the ROM, four
// more zero bytes.
func SPIAttachData(pins uint32) []byte { return words(pins, 0) }

// SPIParams is the payload of SPI_SET_PARAMS: the flash chip's geometry in
// bytes (ID is the flash id, normally 0; StatusMask is 0xFFFF).
type SPIParams struct {
	ID, TotalSize, BlockSize, SectorSize, PageSize, StatusMask uint32
}

// DefaultSPIParams are the geometry values esptool sends for a flash of size bytes.
func DefaultSPIParams(size uint32) SPIParams {
	return SPIParams{ID: 0, TotalSize: size, BlockSize: 64 * 1024, SectorSize: 4 * 1024, PageSize: 256, StatusMask: 0xFFFF}
}

// Marshal encodes SPI_SET_PARAMS.
func (p SPIParams) Marshal() []byte {
	return words(p.ID, p.TotalSize, p.BlockSize, p.SectorSize, p.PageSize, p.StatusMask)
}

// ParseSPIParams decodes SPI_SET_PARAMS.
func ParseSPIParams(data []byte) (SPIParams, error) {
	w, err := readWords(OpSPISetParams, data, 6)
	if err != nil {
		return SPIParams{}, err
	}
	return SPIParams{w[0], w[1], w[2], w[3], w[4], w[5]}, nil
}

// ChangeBaudData encodes CHANGE_BAUDRATE: the new rate and, to a stub, the
// current one (0 to the ROM).
func ChangeBaudData(newBaud, oldBaud uint32) []byte { return words(newBaud, oldBaud) }

// ParseChangeBaud decodes CHANGE_BAUDRATE.
func ParseChangeBaud(data []byte) (newBaud, oldBaud uint32, err error) {
	w, err := readWords(OpChangeBaudrate, data, 2)
	if err != nil {
		return 0, 0, err
	}
	return w[0], w[1], nil
}

// MD5Data encodes the (address, size, 0, 0) payload of SPI_FLASH_MD5.
func MD5Data(addr, size uint32) []byte { return words(addr, size, 0, 0) }

// ParseRegion decodes the leading (address, size) words of SPI_FLASH_MD5,
// READ_FLASH_SLOW or ERASE_REGION.
func ParseRegion(op Op, data []byte) (addr, size uint32, err error) {
	w, err := readWords(op, data, 2)
	if err != nil {
		return 0, 0, err
	}
	return w[0], w[1], nil
}

// ReadFlashSlowData encodes READ_FLASH_SLOW (at most ReadFlashSlowMax bytes).
func ReadFlashSlowData(addr, size uint32) []byte { return words(addr, size) }

// RegionData encodes the (offset, size) payload of the stub's ERASE_REGION.
func RegionData(addr, size uint32) []byte { return words(addr, size) }

// SecurityInfo is the payload of GET_SECURITY_INFO.
type SecurityInfo struct {
	Flags         uint32   // secure boot, download-mode and JTAG bits
	FlashCryptCnt uint8    // odd: flash encryption is on
	KeyPurposes   [7]uint8 // eFuse key block purposes
	ChipID        uint32   // absent (HasChipID false) on the ESP32-S2's 12-byte form
	APIVersion    uint32   // the ROM's security API version (0 when absent)
	HasChipID     bool
}

// Security flag bits.
const (
	SecFlagSecureBoot       = 1 << 0
	SecFlagAggressiveRevoke = 1 << 1
	SecFlagSecureDownload   = 1 << 2
	SecFlagKeyRevoke0       = 1 << 3
	SecFlagKeyRevoke1       = 1 << 4
	SecFlagKeyRevoke2       = 1 << 5
	SecFlagSoftJTAGOff      = 1 << 6
	SecFlagHardJTAGOff      = 1 << 7
	SecFlagUSBOff           = 1 << 8
	SecFlagDownloadDCache   = 1 << 9
	SecFlagDownloadICache   = 1 << 10
)

// Marshal encodes the 20-byte form (12 bytes when HasChipID is false).
func (s SecurityInfo) Marshal() []byte {
	d := words(s.Flags)
	d = append(d, s.FlashCryptCnt)
	d = append(d, s.KeyPurposes[:]...)
	if s.HasChipID {
		d = append(d, words(s.ChipID, s.APIVersion)...)
	}
	return d
}

// ParseSecurityInfo decodes the 20- or 12-byte form.
func ParseSecurityInfo(data []byte) (SecurityInfo, error) {
	if len(data) < SecurityInfoLenS2 {
		return SecurityInfo{}, fmt.Errorf("rom: GET_SECURITY_INFO needs at least %d bytes, has %d", SecurityInfoLenS2, len(data))
	}
	s := SecurityInfo{Flags: binary.LittleEndian.Uint32(data), FlashCryptCnt: data[4]}
	copy(s.KeyPurposes[:], data[5:12])
	if len(data) >= SecurityInfoLen {
		s.HasChipID = true
		s.ChipID = binary.LittleEndian.Uint32(data[12:])
		s.APIVersion = binary.LittleEndian.Uint32(data[16:])
	}
	return s, nil
}
