package board

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fleetline/flasher/portio"
	"fleetline/flasher/slip"
)

// The differential test runs the real mask ROM under Espressif's QEMU fork
// and a virtual board side by side, sends both the same raw requests (the
// steps in qemu_steps_test.go) and compares the reply bytes. It needs a
// built QEMU and runs only when FLEETLINE_QEMU_DIR names its build
// directory (the one holding qemu-system-xtensa and qemu-system-riscv32,
// with the ROM images in ../pc-bios):
//
//	FLEETLINE_QEMU_DIR=/path/to/qemu/build go test -run TestQEMUDiff -v ./sim/board/
//
// CI never depends on it.

const qemuDirEnv = "FLEETLINE_QEMU_DIR"

// The identity both sides are given: the eFuse words the reference
// observations were made with.
var (
	diffMAC = [6]byte{0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56}
	// ESP32 BLK0 words 0..5: RDATA1/2 hold the MAC and its CRC, RDATA3
	// CHIP_VER_REV1, RDATA4 CK8M_FREQ, RDATA5 CHIP_VER_REV2.
	diffESP32Efuse = []uint32{0, 0xC4123456, 0x00F5240A, 0x00008000, 0x50, 0x00100000}
)

const diffFlashID = 0x1640C8 // c8 40 16: GigaDevice, 4 MiB

// errWireTimeout is a read that saw nothing within its deadline.
var errWireTimeout = errors.New("read timeout")

// wire is one side of the comparison: bytes to the ROM, bytes back.
type wire interface {
	write(p []byte) error
	read(p []byte, d time.Duration) (int, error) // errWireTimeout when quiet for d
	setBaud(baud int)                            // the host's rate (a TCP socket has none)
	holdGPIO0()                                  // assert DTR: GPIO0 low through the auto-reset circuit
}

type tcpWire struct{ c net.Conn }

func (w tcpWire) write(p []byte) error { _, err := w.c.Write(p); return err }
func (w tcpWire) setBaud(int)          {}
func (w tcpWire) holdGPIO0()           {}
func (w tcpWire) read(p []byte, d time.Duration) (int, error) {
	w.c.SetReadDeadline(time.Now().Add(d))
	n, err := w.c.Read(p)
	var ne net.Error
	if n == 0 && errors.As(err, &ne) && ne.Timeout() {
		return 0, errWireTimeout
	}
	return n, err
}

type boardWire struct{ p *Port }

func (w boardWire) write(p []byte) error { _, err := w.p.Write(p); return err }
func (w boardWire) setBaud(b int)        { w.p.SetBaud(b) }
func (w boardWire) holdGPIO0()           { w.p.SetLines(true, false) }
func (w boardWire) read(p []byte, d time.Duration) (int, error) {
	w.p.SetReadTimeout(d)
	n, err := w.p.Read(p)
	if n == 0 && errors.Is(err, portio.ErrTimeout) {
		return 0, errWireTimeout
	}
	return n, err
}

// collect reads until want frames have arrived and the line then stays
// quiet for quiet, or until nothing comes for long. It returns the raw bytes.
func collect(w wire, want int, quiet, long time.Duration) ([]byte, error) {
	var raw []byte
	buf := make([]byte, 4096)
	for {
		d := long
		if countFrames(raw) >= want {
			d = quiet
		}
		n, err := w.read(buf, d)
		raw = append(raw, buf[:n]...)
		if errors.Is(err, errWireTimeout) {
			return raw, nil
		}
		if err != nil {
			return raw, err
		}
	}
}

// splitFrames cuts a raw capture into non-empty SLIP frames (still escaped
// bytes decoded leniently, as a client would see them) and the bytes
// outside frames.
func splitFrames(raw []byte) (frames [][]byte, noise []byte) {
	var d slip.Decoder
	d.Lenient = true
	d.Feed(raw)
	for {
		f, err, ok := d.Next()
		if !ok {
			break
		}
		if err == nil {
			frames = append(frames, f)
		}
	}
	return frames, d.Noise()
}

func countFrames(raw []byte) int { f, _ := splitFrames(raw); return len(f) }

// qemuChip is how to run one chip under QEMU.
type qemuChip struct {
	binary, machine string
	efuseDriver     string
	gpioDriver      string
	strap           string
	efuse           func() []byte
}

var qemuChips = map[string]qemuChip{
	"esp32": {
		binary: "qemu-system-xtensa", machine: "esp32",
		efuseDriver: "nvram.esp32.efuse", gpioDriver: "esp32.gpio", strap: "0x0f",
		efuse: func() []byte {
			b := make([]byte, 124)
			for i, w := range diffESP32Efuse {
				binary.LittleEndian.PutUint32(b[4*i:], w)
			}
			return b
		},
	},
	"esp32c3": {
		binary: "qemu-system-riscv32", machine: "esp32c3",
		efuseDriver: "nvram.esp32c3.efuse", gpioDriver: "esp32c3.gpio", strap: "0x02",
		efuse: func() []byte {
			// QEMU's C3 eFuse file starts at EFUSE_RD_WR_DIS (0x2C); the
			// BLOCK1 words RD_MAC_SPI_SYS_0.. start at register 0x44.
			b := make([]byte, 1024)
			const sys0 = 0x44 - 0x2C
			binary.LittleEndian.PutUint32(b[sys0:], 0xC4123456)
			binary.LittleEndian.PutUint32(b[sys0+4:], 0x0000240A)
			binary.LittleEndian.PutUint32(b[sys0+12:], 3<<18) // WAFER_VERSION_MINOR 3
			return b
		},
	},
}

// startQEMU runs the chip's real ROM in download mode with a blank 4 MiB
// flash and returns a connection to its UART. The process is killed (by
// its PID) when the test ends.
func startQEMU(t *testing.T, dir, chip string) wire {
	t.Helper()
	q := qemuChips[chip]
	tmp := t.TempDir()
	flash := filepath.Join(tmp, "flash.bin")
	must(t, os.WriteFile(flash, bytes.Repeat([]byte{0xFF}, 4<<20), 0o644))
	efuse := filepath.Join(tmp, "efuse.bin")
	must(t, os.WriteFile(efuse, q.efuse(), 0o644))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := l.Addr().String()
	l.Close()
	args := []string{"-n", "10", filepath.Join(dir, q.binary), "-nographic", "-machine", q.machine,
		"-L", filepath.Join(dir, "..", "pc-bios"),
		"-drive", "file=" + flash + ",if=mtd,format=raw",
		"-drive", "file=" + efuse + ",if=none,format=raw,id=efuse",
		"-global", "driver=" + q.efuseDriver + ",property=drive,value=efuse",
		"-global", "driver=" + q.gpioDriver + ",property=strap_mode,value=" + q.strap,
		"-serial", "tcp:" + addr + ",server,nowait", "-monitor", "none"}
	cmd := exec.Command("nice", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("qemu stderr: %s", stderr.String())
		}
	})
	var c net.Conn
	for i := 0; i < 100; i++ {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	must(t, err)
	t.Cleanup(func() { c.Close() })
	return tcpWire{c}
}

// newDiffBoard is a virtual board with the same identity as the QEMU one,
// reset into download mode, its banner drained.
func newDiffBoard(t *testing.T, chip string) wire {
	t.Helper()
	dir := t.TempDir()
	rev := 300
	if chip == "esp32c3" {
		rev = 3
	}
	sf := fmt.Sprintf(`{"chip":%q,"mac":%q,"revision":%d,"flash_id":%d,"ck8m":%d}`,
		chip, Identity{MAC: diffMAC}.MACString(), rev, diffFlashID, 0x50)
	path, _ := statePaths(dir, 0)
	must(t, os.WriteFile(path, []byte(sf), 0o644))
	b := newBoard(t, Config{Chip: chip, StateDir: dir})
	p, err := b.Open()
	must(t, err)
	c := &romClient{t: t, b: b, p: p}
	c.resetDownload()
	w := boardWire{p}
	collect(w, 0, 10*time.Millisecond, 10*time.Millisecond)
	return w
}

// syncUp sends SYNC until the ROM answers (QEMU's ROM may still be booting
// when the socket opens) and drains the replies.
func syncUp(t *testing.T, w wire) {
	t.Helper()
	collect(w, 0, 300*time.Millisecond, 300*time.Millisecond) // banner leftovers
	for i := 0; i < 20; i++ {
		must(t, w.write(req(0x08, syncPayload())))
		raw, err := collect(w, 8, 300*time.Millisecond, time.Second)
		must(t, err)
		if countFrames(raw) > 0 {
			return
		}
	}
	t.Fatal("the ROM never answered SYNC")
}

// transcript is one side's replies, step by step.
type transcript [][]byte

// runSteps sends every step to w and records the raw reply bytes.
func runSteps(t *testing.T, w wire, steps []diffStep, quiet, long time.Duration) transcript {
	t.Helper()
	out := make(transcript, len(steps))
	for i, s := range steps {
		if s.holdGPIO0 {
			w.holdGPIO0()
		}
		must(t, w.write(s.send))
		raw, err := collect(w, s.replies, quiet, long)
		if err != nil {
			t.Fatalf("step %s: %v", s.name, err)
		}
		out[i] = raw
		if s.hostBaud != 0 {
			w.setBaud(s.hostBaud)
		}
	}
	return out
}

func describe(raw []byte) string {
	frames, noise := splitFrames(raw)
	var b strings.Builder
	for _, f := range frames {
		fmt.Fprintf(&b, "\n    < %s", hex.EncodeToString(f))
	}
	if len(noise) > 0 {
		fmt.Fprintf(&b, "\n    noise %q", noise)
	}
	if len(frames) == 0 && len(noise) == 0 {
		b.WriteString("\n    (silence)")
	}
	return b.String()
}

func TestQEMUDiff(t *testing.T) {
	dir := os.Getenv(qemuDirEnv)
	if dir == "" {
		t.Skipf("set %s to a built espressif/qemu build directory to run the differential test", qemuDirEnv)
	}
	for _, chip := range []string{"esp32", "esp32c3"} {
		t.Run(chip, func(t *testing.T) {
			steps := diffSteps(chip)
			q := startQEMU(t, dir, chip)
			syncUp(t, q)
			want := runSteps(t, q, steps, 300*time.Millisecond, 5*time.Second)
			if d := os.Getenv("FLEETLINE_QEMU_DUMP"); d != "" {
				var out strings.Builder
				for i, s := range steps {
					fmt.Fprintf(&out, "> %s%s\n", s.name, describe(want[i]))
				}
				must(t, os.WriteFile(filepath.Join(d, chip+".rom.txt"), []byte(out.String()), 0o644))
			}
			b := newDiffBoard(t, chip)
			syncUp(t, b)
			got := runSteps(t, b, steps, 20*time.Millisecond, 2*time.Second)
			for i, s := range steps {
				qf, qn := splitFrames(want[i])
				bf, bn := splitFrames(got[i])
				same := len(qf) == len(bf)
				for j := 0; same && j < len(qf); j++ {
					same = bytes.Equal(qf[j], bf[j])
				}
				if same && bytes.Equal(qn, bn) {
					continue
				}
				if s.known != "" && s.allowed(qf, qn, bf, bn) {
					t.Logf("known difference in %s (%s):\n  rom:%s\n  board:%s", s.name, s.known, describe(want[i]), describe(got[i]))
					continue
				}
				t.Errorf("%s > %s\n  rom:%s\n  board:%s", s.name, hex.EncodeToString(s.send), describe(want[i]), describe(got[i]))
			}
		})
	}
}
