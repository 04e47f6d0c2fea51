package factoryapp

import (
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fleetline/firmware"
	"fleetline/firmware/nvs"
	"fleetline/firmware/selftest"
	"fleetline/flasher/portio"
	"fleetline/sim/board"
)

// patientReader turns the port's read timeouts into retries, until closed.
type patientReader struct {
	p      *board.Port
	closed atomic.Bool
}

func (r *patientReader) Read(b []byte) (int, error) {
	for {
		n, err := r.p.Read(b)
		if errors.Is(err, portio.ErrTimeout) && n == 0 {
			if r.closed.Load() {
				return 0, io.EOF
			}
			continue
		}
		return n, err
	}
}

// TestOnVirtualBoard runs the factory firmware on sim/board as the line
// does: flashed bootloader, partition table, app and factory NVS, a hard
// reset through DTR/RTS, the station on the board's USB-UART port.
func TestOnVirtualBoard(t *testing.T) {
	l := newLine(t)
	app := l.app(Faults{})
	b, err := board.New(board.Config{Chip: "esp32s3", Seed: 7, App: app})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	chip := firmware.ChipESP32S3
	bl, err := firmware.BuildBootloader(firmware.BootloaderSpec{Chip: chip})
	if err != nil {
		t.Fatal(err)
	}
	blOff, _ := chip.BootloaderOffset()
	table := firmware.DefaultPartitionTable()
	pt, err := table.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	appPart, _ := table.FirstApp()
	img, err := firmware.BuildApp(firmware.AppSpec{Chip: chip, Size: 64 << 10, Version: "3.1.0", ProjectName: "fleetline-fct"})
	if err != nil {
		t.Fatal(err)
	}
	fctry, _ := table.Find(nvs.DefaultPartition)
	nvsImg, err := nvs.BuildFactoryNVS(l.factory("FL-0100"), int(fctry.Size))
	if err != nil {
		t.Fatal(err)
	}
	fl := b.Flash()
	if err := fl.Erase(0, appPart.Offset+uint32(len(img)+0xfff)&^0xfff); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		off  uint32
		data []byte
	}{{blOff, bl}, {firmware.PartitionTableOffset, pt}, {fctry.Offset, nvsImg}, {appPart.Offset, img}} {
		if err := fl.Program(w.off, w.data); err != nil {
			t.Fatal(err)
		}
	}

	p, err := b.Open()
	if err != nil {
		t.Fatal(err)
	}
	_ = p.SetReadTimeout(50 * time.Millisecond)
	r := &patientReader{p: p}
	t.Cleanup(func() { r.closed.Store(true); p.Close() })
	// Hard reset into the app: EN low, then both lines released.
	if err := p.SetLines(false, true); err != nil {
		t.Fatal(err)
	}
	if err := p.SetLines(false, false); err != nil {
		t.Fatal(err)
	}
	st := newStation(t, r, p)
	tr := st.run(l.now(), selftest.Start{})
	if tr.verdict == nil || !tr.verdict.Pass || tr.result == nil || !tr.result.OK {
		t.Fatalf("verdict %+v result %+v", tr.verdict, tr.result)
	}
	if tr.hello.Firmware != "3.1.0" || tr.hello.SN != "FL-0100" || tr.hello.Chip != "esp32s3" {
		t.Errorf("hello %+v", tr.hello)
	}
	log := strings.Join(tr.plain, "\n")
	for _, want := range []string{"2nd stage bootloader", "Calling app_main()", "fct: factory test firmware 3.1.0"} {
		if !strings.Contains(log, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	if _, ok := l.cloud.Thing("FL-0100"); !ok {
		t.Error("thing not registered")
	}
	// The board's own flash now holds the device credentials, claim gone.
	raw := make([]byte, fctry.Size)
	if _, err := fl.ReadAt(raw, int64(fctry.Offset)); err != nil {
		t.Fatal(err)
	}
	part, err := nvs.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if dc, err := nvs.ReadDevice(part, ""); err != nil || dc.ThingName != "FL-0100" {
		t.Errorf("device credentials %v %v", dc.ThingName, err)
	}
	if _, err := part.Blob(nvs.DefaultNamespace, nvs.KeyClaimKey); !errors.Is(err, nvs.ErrNotFound) {
		t.Errorf("claim key still present: %v", err)
	}
	// Reset again: the board comes back as provisioned and only retests.
	if err := p.SetLines(false, true); err != nil {
		t.Fatal(err)
	}
	if err := p.SetLines(false, false); err != nil {
		t.Fatal(err)
	}
	tr = st.run(l.now(), selftest.Retest{})
	if tr.hello.Mode != selftest.ModeRetest || tr.hello.ThingName != "FL-0100" || !tr.verdict.Pass || tr.cert == nil {
		t.Fatalf("after reset: hello %+v verdict %+v", tr.hello, tr.verdict)
	}
	if app.Boots() != 2 {
		t.Errorf("app booted %d times, want 2", app.Boots())
	}
}
