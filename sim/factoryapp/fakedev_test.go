package factoryapp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetline/firmware"
	"fleetline/firmware/nvs"
	"fleetline/firmware/selftest"
	"fleetline/sim/board"
)

// partitionsCSV is the batch's layout: the app's own nvs, and the factory
// partition fleetline writes.
const partitionsCSV = `
nvs,      data, nvs,     0x9000,   0x6000,
phy_init, data, phy,     0xf000,   0x1000,
factory,  app,  factory, 0x10000,  1M,
fctry,    data, nvs,     0x110000, 0x6000,
`

// memFlash is NOR flash in memory.
type memFlash struct {
	mu  sync.Mutex
	mem []byte
}

func newMemFlash(size int) *memFlash {
	return &memFlash{mem: bytes.Repeat([]byte{0xff}, size)}
}

func (f *memFlash) Size() uint32 { return uint32(len(f.mem)) }

func (f *memFlash) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off < 0 || off+int64(len(p)) > int64(len(f.mem)) {
		return 0, fmt.Errorf("read 0x%x+%d beyond flash", off, len(p))
	}
	return copy(p, f.mem[off:]), nil
}

func (f *memFlash) Erase(off, size uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off%4096 != 0 || size%4096 != 0 || uint64(off)+uint64(size) > uint64(len(f.mem)) {
		return fmt.Errorf("erase 0x%x+0x%x: not sector aligned or beyond flash", off, size)
	}
	for i := off; i < off+size; i++ {
		f.mem[i] = 0xff
	}
	return nil
}

func (f *memFlash) Program(off uint32, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if uint64(off)+uint64(len(data)) > uint64(len(f.mem)) {
		return fmt.Errorf("program 0x%x+%d beyond flash", off, len(data))
	}
	for i, b := range data {
		f.mem[int(off)+i] &= b
	}
	return nil
}

// fakeBoard is a board.Device whose console is a pair of pipes the test
// plays the station on.
type fakeBoard struct {
	t     testing.TB
	flash *memFlash
	id    board.Identity

	mu       sync.Mutex
	cancel   context.CancelFunc
	toBoard  *io.PipeWriter
	fromApp  *io.PipeReader
	con      io.ReadWriter
	restarts chan struct{}
	done     chan error
}

func newFakeBoard(t testing.TB, mac byte, fd nvs.FactoryData) *fakeBoard {
	t.Helper()
	img, err := nvs.BuildFactoryNVS(fd, 0x6000)
	if err != nil {
		t.Fatal(err)
	}
	return newFakeBoardWith(t, mac, partitionsCSV, map[string][]byte{nvs.DefaultPartition: img})
}

// newFakeBoardWith lays out flash from a partition CSV and partition
// images by label; other partitions stay erased.
func newFakeBoardWith(t testing.TB, mac byte, csv string, images map[string][]byte) *fakeBoard {
	t.Helper()
	table, err := firmware.ParsePartitionCSV(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := table.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	fl := newMemFlash(4 << 20)
	if err := fl.Program(firmware.PartitionTableOffset, tbl); err != nil {
		t.Fatal(err)
	}
	for label, img := range images {
		part, ok := table.Find(label)
		if !ok {
			t.Fatalf("no partition %s", label)
		}
		if err := fl.Program(part.Offset, img); err != nil {
			t.Fatal(err)
		}
	}
	return &fakeBoard{
		t: t, flash: fl,
		id:       board.Identity{Chip: "esp32s3", Revision: 2, MAC: [6]byte{0x24, 0x0a, 0xc4, 0, 0, mac}, FlashID: 0x1640c8},
		restarts: make(chan struct{}, 4),
	}
}

func (b *fakeBoard) Console() io.ReadWriter { b.mu.Lock(); defer b.mu.Unlock(); return b.con }
func (b *fakeBoard) Flash() board.Flash     { return b.flash }
func (b *fakeBoard) Identity() board.Identity {
	return b.id
}

// Restart ends the current boot; the test boots again with boot().
func (b *fakeBoard) Restart() {
	b.stop()
	b.restarts <- struct{}{}
}

// stop cancels the running app and closes its console, as a reset does.
func (b *fakeBoard) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cancel != nil {
		b.cancel()
		b.toBoard.CloseWithError(io.EOF)
		b.fromApp.CloseWithError(io.EOF)
	}
}

type pipeConsole struct {
	io.Reader
	io.Writer
}

// boot starts the app and returns the station's view of the console.
func (b *fakeBoard) boot(app board.App) *station {
	b.stop()
	if b.done != nil {
		if err := <-b.done; err != nil {
			b.t.Errorf("previous boot: Run returned %v", err)
		}
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	b.mu.Lock()
	b.cancel, b.toBoard, b.fromApp = cancel, inW, outR
	b.con = pipeConsole{Reader: inR, Writer: outW}
	b.mu.Unlock()
	done := make(chan error, 1)
	b.done = done
	go func() {
		err := app.Run(ctx, b)
		outW.CloseWithError(io.EOF)
		inR.CloseWithError(io.EOF)
		done <- err
	}()
	b.t.Cleanup(b.stop)
	return newStation(b.t, outR, inW)
}

// station is the test's side of the console.
type station struct {
	t     testing.TB
	lines chan selftest.Line
	w     io.Writer
}

func newStation(t testing.TB, r io.Reader, w io.Writer) *station {
	s := &station{t: t, lines: make(chan selftest.Line, 256), w: w}
	go func() {
		defer close(s.lines)
		sc := selftest.NewScanner(r)
		for sc.Scan() {
			s.lines <- sc.Line()
		}
	}()
	return s
}

func (s *station) send(m selftest.Message) {
	line, err := selftest.Encode(m)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.w.Write(line); err != nil {
		s.t.Fatalf("write %s: %v", m.Type(), err)
	}
}

// transcript is what the station saw of one boot.
type transcript struct {
	hello    *selftest.Hello
	msgs     []selftest.Message
	plain    []string
	verdict  *selftest.Verdict
	result   *selftest.ProvResult
	cert     *selftest.Cert
	steps    map[string]selftest.Prov
	tests    []selftest.Test
	rebooted bool // the console closed before a verdict: the board rebooted
}

// waitLimit only guards against a hung test.
const waitLimit = 30 * time.Second

// run waits for hello, answers with time and start (or retest), and
// collects everything until the verdict or the console closing.
func (s *station) run(now time.Time, start selftest.Message) transcript {
	s.t.Helper()
	tr := transcript{steps: map[string]selftest.Prov{}}
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				tr.rebooted = true
				return tr
			}
			if l.Msg == nil {
				tr.plain = append(tr.plain, l.Text)
				if l.Err != nil {
					s.t.Errorf("board sent a rejected line %q: %v", l.Text, l.Err)
				}
				continue
			}
			tr.msgs = append(tr.msgs, l.Msg)
			switch m := l.Msg.(type) {
			case selftest.Hello:
				if tr.hello == nil {
					tr.hello = &m
					s.send(selftest.NewTime(now))
					s.send(start)
				}
			case selftest.Test:
				tr.tests = append(tr.tests, m)
			case selftest.Prov:
				tr.steps[m.Step] = m
			case selftest.ProvResult:
				tr.result = &m
			case selftest.Cert:
				tr.cert = &m
			case selftest.Verdict:
				tr.verdict = &m
				return tr
			}
		case <-timer.C:
			s.t.Fatalf("no verdict; saw %d messages", len(tr.msgs))
		}
	}
}

// waitRestart waits for the app to call Restart.
func (b *fakeBoard) waitRestart() {
	b.t.Helper()
	select {
	case <-b.restarts:
	case <-time.After(waitLimit):
		b.t.Fatal("board did not restart")
	}
}
