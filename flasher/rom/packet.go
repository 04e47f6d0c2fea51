package rom

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Direction bytes.
const (
	DirRequest  = 0x00
	DirResponse = 0x01
)

// HeaderLen is the size of a request or response header.
const HeaderLen = 8

// ChecksumSeed is the initial value of the data-block checksum.
const ChecksumSeed = 0xEF

// ErrShortPacket reports a frame smaller than a header.
var ErrShortPacket = errors.New("rom: packet shorter than its 8-byte header")

// ErrDirection reports a packet whose direction byte is wrong for its kind.
var ErrDirection = errors.New("rom: wrong direction byte")

// ErrLength reports a header length field that disagrees with the frame.
var ErrLength = errors.New("rom: length field disagrees with packet size")

// Request is a host-to-chip packet.
type Request struct {
	Op Op
	// Checksum is the value word: Checksum of the data for the
	// FLASH_DATA/MEM_DATA family, ignored (sent as 0) by other commands.
	Checksum uint32
	Data     []byte // the payload; its length goes in the size field
}

// NewRequest builds a request, computing the checksum for the opcodes that
// carry one (over data after the 16-byte block header).
func NewRequest(op Op, data []byte) Request {
	r := Request{Op: op, Data: data}
	if op.Checksummed() && len(data) >= DataHeaderLen {
		r.Checksum = uint32(Checksum(data[DataHeaderLen:]))
	}
	return r
}

// AppendBinary appends the encoded packet (not SLIP-framed) to dst.
func (r Request) AppendBinary(dst []byte) []byte {
	dst = append(dst, DirRequest, byte(r.Op), 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(dst[len(dst)-6:], uint16(len(r.Data)))
	binary.LittleEndian.PutUint32(dst[len(dst)-4:], r.Checksum)
	return append(dst, r.Data...)
}

// MarshalBinary encodes the packet (not SLIP-framed).
func (r Request) MarshalBinary() ([]byte, error) {
	if len(r.Data) > 0xFFFF {
		return nil, fmt.Errorf("rom: %s data of %d bytes exceeds the 16-bit length field", r.Op, len(r.Data))
	}
	return r.AppendBinary(make([]byte, 0, HeaderLen+len(r.Data))), nil
}

// ParseRequest decodes a request packet. The real ROM does not check the
// length field against the frame; this parser reports ErrLength so each side
// can decide (the simulator reproduces the ROM's leniency itself).
func ParseRequest(p []byte) (Request, error) {
	if len(p) < HeaderLen {
		return Request{}, fmt.Errorf("%w (%d bytes)", ErrShortPacket, len(p))
	}
	r := Request{Op: Op(p[1]), Checksum: binary.LittleEndian.Uint32(p[4:8]), Data: p[HeaderLen:]}
	if p[0] != DirRequest {
		return r, fmt.Errorf("%w: 0x%02X in a request", ErrDirection, p[0])
	}
	if n := int(binary.LittleEndian.Uint16(p[2:4])); n != len(r.Data) {
		return r, fmt.Errorf("%w: %s says %d, carries %d", ErrLength, r.Op, n, len(r.Data))
	}
	return r, nil
}

// Response is a chip-to-host packet. Data includes the status trailer.
type Response struct {
	Op    Op     // the command answered
	Value uint32 // READ_REG's register value; 0 for most commands
	Data  []byte // payload, then the 2- or 4-byte status trailer
}

// AppendBinary appends the encoded packet (not SLIP-framed) to dst.
func (r Response) AppendBinary(dst []byte) []byte {
	dst = append(dst, DirResponse, byte(r.Op), 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(dst[len(dst)-6:], uint16(len(r.Data)))
	binary.LittleEndian.PutUint32(dst[len(dst)-4:], r.Value)
	return append(dst, r.Data...)
}

// MarshalBinary encodes the packet (not SLIP-framed).
func (r Response) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, HeaderLen+len(r.Data))), nil
}

// ParseResponse decodes a response packet, checking direction and length.
func ParseResponse(p []byte) (Response, error) {
	if len(p) < HeaderLen {
		return Response{}, fmt.Errorf("%w (%d bytes)", ErrShortPacket, len(p))
	}
	r := Response{Op: Op(p[1]), Value: binary.LittleEndian.Uint32(p[4:8]), Data: p[HeaderLen:]}
	if p[0] != DirResponse {
		return r, fmt.Errorf("%w: 0x%02X in a response", ErrDirection, p[0])
	}
	if n := int(binary.LittleEndian.Uint16(p[2:4])); n != len(r.Data) {
		return r, fmt.Errorf("%w: %s says %d, carries %d", ErrLength, r.Op, n, len(r.Data))
	}
	return r, nil
}

// Checksum is the loader's data-block checksum: ChecksumSeed XOR every byte.
func Checksum(data []byte) byte {
	c := byte(ChecksumSeed)
	for _, b := range data {
		c ^= b
	}
	return c
}
