package board

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/portio"
	"fleetline/flasher/rom"
)

func TestParseFault(t *testing.T) {
	cases := []struct {
		spec string
		want FaultRule
	}{
		{"nosync", FaultRule{All: true, Faults: Faults{NoSync: true}}},
		{"3:unplug=after:100KiB", FaultRule{First: 3, Last: 3, Faults: Faults{UnplugAfterBytes: 100 << 10}}},
		{"1-4:drop=0.001,flip=0.0005", FaultRule{First: 1, Last: 4, Faults: Faults{Drop: 0.001, Flip: 0.0005}}},
		{"*:brownout=after:2s", FaultRule{All: true, Faults: Faults{BrownoutAfter: 2 * time.Second}}},
		{"stall=block:12", FaultRule{All: true, Faults: Faults{StallBlock: 12}}},
		{"stall=block:0", FaultRule{All: true, Faults: Faults{StallBlock: -1}}},
		{"flashfail=0x10000", FaultRule{All: true, Faults: Faults{FlashFail: []uint32{0x10000}}}},
		{"slowflash=4x,bootmode", FaultRule{All: true, Faults: Faults{SlowFlash: 4, BootMode: true}}},
		{"0:unplug=after:50KB", FaultRule{Faults: Faults{UnplugAfterBytes: 50000}}},
	}
	for _, tc := range cases {
		got, err := ParseFault(tc.spec)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if got.All != tc.want.All || got.First != tc.want.First || got.Last != tc.want.Last ||
			got.Faults.NoSync != tc.want.Faults.NoSync || got.Faults.BootMode != tc.want.Faults.BootMode ||
			got.Faults.Drop != tc.want.Faults.Drop || got.Faults.Flip != tc.want.Faults.Flip ||
			got.Faults.StallBlock != tc.want.Faults.StallBlock || got.Faults.UnplugAfterBytes != tc.want.Faults.UnplugAfterBytes ||
			got.Faults.BrownoutAfter != tc.want.Faults.BrownoutAfter || got.Faults.SlowFlash != tc.want.Faults.SlowFlash ||
			len(got.Faults.FlashFail) != len(tc.want.Faults.FlashFail) {
			t.Errorf("%q: got %+v, want %+v", tc.spec, got, tc.want)
		}
	}
	for _, bad := range []string{"", "3:", "frob", "drop=2", "stall=12", "unplug=100", "unplug=after:lots", "5-2:nosync", "x:nosync", "slowflash=0.5x", "flashfail=zz"} {
		if _, err := ParseFault(bad); !errors.Is(err, ErrFaultSpec) {
			t.Errorf("%q: %v, want ErrFaultSpec", bad, err)
		}
	}
	rules := []FaultRule{mustRule(t, "nosync"), mustRule(t, "2:drop=0.5"), mustRule(t, "2-3:flashfail=0x1000")}
	if f := FaultsFor(rules, 2); !f.NoSync || f.Drop != 0.5 || len(f.FlashFail) != 1 {
		t.Fatalf("%+v", f)
	}
	if f := FaultsFor(rules, 0); f.Drop != 0 || len(f.FlashFail) != 0 {
		t.Fatalf("%+v", f)
	}
}

func mustRule(t *testing.T, s string) FaultRule {
	r, err := ParseFault(s)
	must(t, err)
	return r
}

func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"nosync", "3:unplug=after:100KiB", "1-4:drop=0.001,flip=0.0005", "*:brownout=after:2s", "stall=block:12", "flashfail=0x10000", "slowflash=4x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseFault(s)
		if err == nil && !r.All && r.Last < r.First {
			t.Fatalf("%q: inverted range", s)
		}
	})
}

func TestNoSyncFault(t *testing.T) {
	c := connect(t, Config{Faults: Faults{NoSync: true}})
	c.send(rom.OpSync, rom.SyncData)
	if got := c.text("waiting for download"); !strings.Contains(got, "DOWNLOAD_BOOT") {
		t.Fatal(got)
	}
	c.noReply(50 * time.Millisecond)
}

func TestLineFaultsReproducible(t *testing.T) {
	run := func() []byte {
		c := connect(t, Config{Seed: 11, Faults: Faults{Flip: 0.05}})
		c.p.Flush()
		c.send(rom.OpSync, rom.SyncData)
		c.send(rom.OpReadReg, rom.ReadRegData(chipDetectMagicAddr))
		buf := make([]byte, 4096)
		c.p.SetReadTimeout(20 * time.Millisecond)
		var all []byte
		for {
			n, err := c.p.Read(buf)
			if err != nil {
				break
			}
			all = append(all, buf[:n]...)
		}
		return all
	}
	a, b := run(), run()
	if !bytes.Equal(a, b) {
		t.Fatal("flip fault not reproducible from the seed")
	}
	c := connect(t, Config{Faults: Faults{Drop: 1}})
	c.send(rom.OpSync, rom.SyncData)
	c.noReply(50 * time.Millisecond)
}

func TestStallFault(t *testing.T) {
	c := connect(t, Config{Faults: Faults{StallBlock: 2}})
	c.sync()
	data := bytes.Repeat([]byte{0x5A}, 4*0x400)
	c.ok(rom.OpFlashBegin, c.beginData(rom.Begin{Size: uint32(len(data)), Blocks: 4, BlockSize: 0x400, Offset: 0}), 0)
	c.ok(rom.OpFlashData, rom.DataBlock(0, data[:0x400]), 0)
	c.ok(rom.OpFlashData, rom.DataBlock(1, data[0x400:0x800]), 0)
	c.send(rom.OpFlashData, rom.DataBlock(2, data[0x800:0xC00]))
	c.noReply(50 * time.Millisecond)
	c.send(rom.OpSync, rom.SyncData)
	c.noReply(50 * time.Millisecond)
	// A reset brings it back; the stall happened once.
	c.resetDownload()
	c.sync()
	c.writeFlash(0, data)
}

func TestUnplugFault(t *testing.T) {
	c := connect(t, Config{Faults: Faults{UnplugAfterBytes: 2048}})
	c.sync()
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		_, err = c.p.Write(framed(rom.OpReadReg, rom.ReadRegData(0)))
	}
	if !errors.Is(err, portio.ErrClosed) {
		t.Fatalf("write: %v", err)
	}
	if _, err := c.p.Read(make([]byte, 1)); !errors.Is(err, portio.ErrClosed) {
		t.Fatalf("read: %v", err)
	}
	if _, err := c.b.Open(); !errors.Is(err, portio.ErrClosed) {
		t.Fatalf("reopen: %v", err)
	}
}

func framed(op rom.Op, data []byte) []byte {
	pkt, _ := rom.NewRequest(op, data).MarshalBinary()
	return append(append([]byte{0xC0}, pkt...), 0xC0) // no bytes to escape in these
}

func TestFlashFailFault(t *testing.T) {
	c := connect(t, Config{Faults: Faults{FlashFail: []uint32{0x10500}}})
	c.sync()
	c.ok(rom.OpFlashBegin, c.beginData(rom.Begin{Size: 0x800, Blocks: 2, BlockSize: 0x400, Offset: 0x10000}), 0)
	c.ok(rom.OpFlashData, rom.DataBlock(0, bytes.Repeat([]byte{1}, 0x400)), 0)
	c.fails(rom.OpFlashData, rom.DataBlock(1, bytes.Repeat([]byte{1}, 0x400)), 0, rom.ErrFlashWrite)
	// Compressed writes over the bad address fail the same way.
	z := deflate(t, bytes.Repeat([]byte{7}, 0x1000))
	c.ok(rom.OpFlashDeflBegin, c.beginData(rom.Begin{Size: 0x1000, Blocks: 1, BlockSize: 0x400, Offset: 0x10000}), 0)
	c.fails(rom.OpFlashDeflData, rom.DataBlock(0, z), 0, rom.ErrFlashWrite)
}

func TestBrownoutFault(t *testing.T) {
	c := connect(t, Config{Faults: Faults{BrownoutAfterBytes: 3000}})
	c.sync()
	data := bytes.Repeat([]byte{0x33}, 8*0x400)
	c.ok(rom.OpFlashBegin, c.beginData(rom.Begin{Size: uint32(len(data)), Blocks: 8, BlockSize: 0x400, Offset: 0}), 0)
	for i := 0; i < 3; i++ {
		c.send(rom.OpFlashData, rom.DataBlock(uint32(i), data[i*0x400:(i+1)*0x400]))
	}
	// Lines are released, so it comes back up booting from flash.
	c.text("rst:0xf (BROWNOUT_RST),boot:0x13 (SPI_FAST_FLASH_BOOT)")
}
