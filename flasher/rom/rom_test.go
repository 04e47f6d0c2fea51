package rom

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The exact request bytes below are written from Espressif's serial
// protocol description (header, little-endian fields, checksum rule).
func TestRequestMarshal(t *testing.T) {
	sync := "00 08 2400 00000000 07071220" + strings.Repeat("55", 32)
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"sync", NewRequest(OpSync, SyncData), sync},
		{"read magic", NewRequest(OpReadReg, ReadRegData(0x40001000)), "00 0a 0400 00000000 00100040"},
		{"spi attach", NewRequest(OpSPIAttach, SPIAttachData(0)), "00 0d 0800 00000000 00000000 00000000"},
		{"md5", NewRequest(OpSPIFlashMD5, MD5Data(0x10000, 0x1000)), "00 13 1000 00000000 00000100 00100000 00000000 00000000"},
		{"change baud", NewRequest(OpChangeBaudrate, ChangeBaudData(921600, 0)), "00 0f 0800 00000000 00100e00 00000000"},
		{
			// checksum: 0xEF ^ 0x01 ^ 0x02 ^ 0x03 ^ 0x04 = 0xEB
			"flash data", NewRequest(OpFlashData, DataBlock(7, []byte{1, 2, 3, 4})),
			"00 03 1400 eb000000 04000000 07000000 00000000 00000000 01020304",
		},
		{
			"defl begin c3", NewRequest(OpFlashDeflBegin, Begin{Size: 0x400, Blocks: 1, BlockSize: 0x400, Offset: 0x10000, HasEncrypted: true}.Marshal()),
			"00 10 1400 00000000 00040000 01000000 00040000 00000100 00000000",
		},
		{"security info", NewRequest(OpGetSecurityInfo, nil), "00 14 0000 00000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.req.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.want); !bytes.Equal(got, want) {
				t.Fatalf("got  % x\nwant % x", got, want)
			}
			back, err := ParseRequest(got)
			if err != nil || back.Op != tt.req.Op || back.Checksum != tt.req.Checksum || !bytes.Equal(back.Data, tt.req.Data) {
				t.Fatalf("ParseRequest round trip: %+v, %v", back, err)
			}
		})
	}
}

func TestMarshalTooLong(t *testing.T) {
	if _, err := (Request{Op: OpMemData, Data: make([]byte, 0x10000)}).MarshalBinary(); err == nil {
		t.Fatal("no error for a 64 KiB payload")
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		op      Op
		value   uint32
		data    string
		wantErr error
	}{
		{"sync reply", "01 08 0400 07071220 00000000", OpSync, SyncValue, "00000000", nil},
		{"read reg", "01 0a 0400 831df000 00000000", OpReadReg, 0x00F01D83, "00000000", nil},
		{"stub sync", "01 08 0200 00000000 0000", OpSync, 0, "0000", nil},
		{"short", "01 08 04", 0, 0, "", ErrShortPacket},
		{"request direction", "00 08 0000 00000000", OpSync, 0, "", ErrDirection},
		{"length mismatch", "01 0a 0800 00000000 00000000", OpReadReg, 0, "00000000", ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseResponse(unhex(t, tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if r.Op != tt.op || r.Value != tt.value || !bytes.Equal(r.Data, unhex(t, tt.data)) {
				t.Fatalf("got %+v", r)
			}
		})
	}
}

func TestResponseRoundTrip(t *testing.T) {
	r := Response{Op: OpSPIFlashMD5, Value: 0x20120707, Data: AppendStatus([]byte(strings.Repeat("a", 32)), StatusLenROM, Status{}, []byte("e5"))}
	b, _ := r.MarshalBinary()
	got, err := ParseResponse(b)
	if err != nil || got.Op != r.Op || got.Value != r.Value || !bytes.Equal(got.Data, r.Data) {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestSplitStatus(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    int
		payload string
		st      Status
		err     bool
	}{
		{"rom ok", "00000000", 0, "", Status{}, false},
		{"rom ok stale error byte", "00076535", 0, "", Status{Code: ErrBadChecksum}, false},
		{"rom checksum", "01070000", 0, "", Status{Failed: true, Code: ErrBadChecksum}, false},
		{"rom md5", strings.Repeat("61", 32) + "00000000", 32, strings.Repeat("61", 32), Status{}, false},
		{"stub ok", "0000", 0, "", Status{}, false},
		{"stub failure", "c100", 0, "", Status{Failed: true, Code: StubErrDataChecksum, Stub: true}, false},
		{"stub md5", strings.Repeat("ab", 16) + "0000", 16, strings.Repeat("ab", 16), Status{}, false},
		{"too short", "00", 0, "", Status{}, true},
		{"too short for payload", "00000000", 32, "", Status{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, st, err := SplitStatus(unhex(t, tt.data), tt.want)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(p, unhex(t, tt.payload)) || st != tt.st {
				t.Fatalf("payload % x status %+v", p, st)
			}
		})
	}
}

func TestAppendStatus(t *testing.T) {
	if got := AppendStatus(nil, StatusLenROM, Status{Failed: true, Code: ErrBadChecksum}, nil); !bytes.Equal(got, []byte{1, 7, 0, 0}) {
		t.Errorf("rom failure % x", got)
	}
	if got := AppendStatus(nil, StatusLenStub, Status{Failed: true, Code: StubErrInflate}, nil); !bytes.Equal(got, []byte{0xC7, 0}) {
		t.Errorf("stub failure % x", got)
	}
	if got := AppendStatus(nil, StatusLenROM, Status{}, []byte("63")); !bytes.Equal(got, []byte{0, 0, '6', '3'}) {
		t.Errorf("stale % x", got)
	}
}

func TestStatusErrorText(t *testing.T) {
	tests := []struct {
		e    *StatusError
		want string
	}{
		{&StatusError{OpFlashDeflData, ErrBadChecksum}, "FLASH_DEFL_DATA failed: status 0x0107: invalid CRC in message"},
		{&StatusError{OpFlashData, StubErrDataChecksum}, "FLASH_DATA failed: status 0xC100: stub: bad data checksum"},
		{&StatusError{OpGetSecurityInfo, ErrBadMessage}, "GET_SECURITY_INFO failed: status 0x0105: received message is invalid (unknown command, bad length or out of sequence)"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q\nwant %q", got, tt.want)
		}
	}
	if !(&StatusError{Code: ErrBadMessage}).Unsupported() || (&StatusError{Code: ErrFlashWrite}).Unsupported() {
		t.Error("Unsupported misjudged")
	}
	if ErrorCode(0x42).String() != "unknown error 0x42" || Op(0x99).String() != "OP_0x99" {
		t.Error("unknown names")
	}
}

func TestChecksum(t *testing.T) {
	tests := []struct {
		in   []byte
		want byte
	}{
		{nil, 0xEF},
		{[]byte{0xEF}, 0},
		{[]byte{1, 2, 3, 4}, 0xEB},
		{bytes.Repeat([]byte{0xFF}, 0x400), 0xEF},
	}
	for _, tt := range tests {
		if got := Checksum(tt.in); got != tt.want {
			t.Errorf("Checksum(% x) = %#x, want %#x", tt.in, got, tt.want)
		}
	}
}

func TestPayloadRoundTrips(t *testing.T) {
	b := Begin{Size: 0x2000, Blocks: 8, BlockSize: 0x400, Offset: 0x1000}
	if got, err := ParseBegin(OpFlashBegin, b.Marshal()); err != nil || got != b {
		t.Errorf("begin %+v %v", got, err)
	}
	b.HasEncrypted, b.Encrypted = true, true
	if got, err := ParseBegin(OpFlashBegin, b.Marshal()); err != nil || got != b {
		t.Errorf("begin5 %+v %v", got, err)
	}
	blk, err := ParseDataBlock(OpFlashData, DataBlock(3, []byte{9, 9}))
	if err != nil || blk.Seq != 3 || blk.Len != 2 || !bytes.Equal(blk.Data, []byte{9, 9}) {
		t.Errorf("block %+v %v", blk, err)
	}
	if _, err := ParseDataBlock(OpFlashData, make([]byte, 15)); err == nil {
		t.Error("short block accepted")
	}
	m := MemEnd{NoExec: true, Entry: 0x40080000}
	if got, err := ParseMemEnd(m.Marshal()); err != nil || got != m {
		t.Errorf("memend %+v", got)
	}
	ws := []RegWrite{{1, 2, 3, 4}, {5, 6, 7, 8}}
	if got, err := ParseWriteReg(WriteRegData(ws...)); err != nil || len(got) != 2 || got[1] != ws[1] {
		t.Errorf("writereg %+v", got)
	}
	p := DefaultSPIParams(4 << 20)
	if got, err := ParseSPIParams(p.Marshal()); err != nil || got != p {
		t.Errorf("spiparams %+v", got)
	}
	if n, o, err := ParseChangeBaud(ChangeBaudData(460800, 115200)); err != nil || n != 460800 || o != 115200 {
		t.Error("changebaud")
	}
	if a, s, err := ParseRegion(OpReadFlashSlow, ReadFlashSlowData(0x1000, 64)); err != nil || a != 0x1000 || s != 64 {
		t.Error("region")
	}
	if !bytes.Equal(EndData(true), []byte{1, 0, 0, 0}) || !bytes.Equal(RegionData(1, 2), []byte{1, 0, 0, 0, 2, 0, 0, 0}) {
		t.Error("end/region data")
	}
}

func TestSecurityInfo(t *testing.T) {
	// C3 ROM reply data as observed: flags 0, crypt 0, purposes ..0c, chip 5, api 3.
	d := unhex(t, "00000000 00 000000000000 0c 05000000 03000000")
	s, err := ParseSecurityInfo(d)
	if err != nil || !s.HasChipID || s.ChipID != 5 || s.APIVersion != 3 || s.KeyPurposes[6] != 0x0c {
		t.Fatalf("%+v %v", s, err)
	}
	if !bytes.Equal(s.Marshal(), d) {
		t.Fatal("marshal differs")
	}
	s2, err := ParseSecurityInfo(d[:12])
	if err != nil || s2.HasChipID || len(s2.Marshal()) != 12 {
		t.Fatalf("S2 form %+v %v", s2, err)
	}
	if _, err := ParseSecurityInfo(d[:11]); err == nil {
		t.Fatal("11 bytes accepted")
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add(unhex(f, "01 08 0400 07071220 00000000"))
	f.Add(unhex(f, "01 13 2400 00000000"+strings.Repeat("61", 32)+"00000000"))
	f.Add(unhex(f, "01 0a 0400 00000000 0105"))
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := ParseResponse(p)
		if err != nil {
			return
		}
		b, _ := r.MarshalBinary()
		if !bytes.Equal(b, p) {
			t.Fatalf("re-encoding differs: % x vs % x", b, p)
		}
		for _, want := range []int{0, 16, 20, 32, 64} {
			if pl, _, err := SplitStatus(r.Data, want); err == nil && len(pl) != want {
				t.Fatalf("payload %d, want %d", len(pl), want)
			}
		}
		_, _ = ParseSecurityInfo(r.Data)
	})
}

func FuzzParseRequest(f *testing.F) {
	for _, r := range []Request{
		NewRequest(OpSync, SyncData),
		NewRequest(OpFlashDeflData, DataBlock(1, []byte{0x78, 0xDA, 1, 2})),
		NewRequest(OpFlashBegin, Begin{Size: 1, Blocks: 1, BlockSize: 0x400}.Marshal()),
		NewRequest(OpWriteReg, WriteRegData(RegWrite{1, 2, 3, 4})),
	} {
		b, _ := r.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := ParseRequest(p)
		if err != nil {
			return
		}
		b, err := r.MarshalBinary()
		if err != nil || !bytes.Equal(b, p) {
			t.Fatalf("re-encoding differs: % x vs % x (%v)", b, p, err)
		}
		// Every payload parser must cope with any bytes.
		_, _ = ParseBegin(r.Op, r.Data)
		_, _ = ParseDataBlock(r.Op, r.Data)
		_, _ = ParseMemEnd(r.Data)
		_, _ = ParseWriteReg(r.Data)
		_, _ = ParseSPIParams(r.Data)
		_, _, _ = ParseChangeBaud(r.Data)
		_, _, _ = ParseRegion(r.Op, r.Data)
	})
}
