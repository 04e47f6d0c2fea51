package station

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fleetline/batch"
	"fleetline/sim/board"
	"fleetline/station/audit"
)

// benchLineEnv makes the test binary serve a virtual line instead of
// running tests, so a benchmark can measure the station's own CPU apart
// from the simulator's.
const benchLineEnv = "FLEETLINE_BENCH_LINE"

func TestMain(m *testing.M) {
	if n := os.Getenv(benchLineEnv); n != "" {
		os.Exit(serveBenchLine(n))
	}
	os.Exit(m.Run())
}

// childT is the fixture's test handle in the line process.
type childT struct{ cleanups []func() }

func (c *childT) Helper() {}
func (c *childT) TempDir() string {
	d, err := os.MkdirTemp("", "fleetline-bench-")
	if err != nil {
		c.Fatal(err)
	}
	c.Cleanup(func() { os.RemoveAll(d) })
	return d
}
func (c *childT) Cleanup(f func()) { c.cleanups = append(c.cleanups, f) }
func (c *childT) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, args...)
	os.Exit(1)
}

// serveBenchLine runs realistic boards and the cloud until stdin closes;
// spec is "BOARDS:APPBYTES".
func serveBenchLine(spec string) int {
	bs, as, _ := strings.Cut(spec, ":")
	boards, err := strconv.Atoi(bs)
	if err != nil {
		return 2
	}
	appSize, err := strconv.Atoi(as)
	if err != nil {
		return 2
	}
	c := &childT{}
	v := newVLine(c, vlineOpts{boards: boards, timing: board.Realistic, appSize: appSize})
	fmt.Println("READY", v.dir)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
	return 0
}

// BenchmarkLine runs one board per slot on a realistic virtual line at the
// manifest's 921600 baud, with the line in a child process, and reports
// the mean per-board time, boards per hour per slot and the station's CPU
// as a share of one core. Compare slots=1 with slots=32: per-board time
// should stay within 5%, CPU under 10%. app=1MiB is a product-sized app (a
// Wi-Fi, TLS and MQTT firmware is 1 to 1.5 MB; the demo's is 1 MiB);
// app=64KiB makes a cycle a fifth as long, dominated by the per-board
// work that does not depend on the image (connect, identify, first boot,
// checks, the audit log), so it shows that work's share at its highest.
func BenchmarkLine(b *testing.B) {
	for _, app := range []struct {
		name string
		size int
	}{{"1MiB", 1 << 20}, {"64KiB", 64 << 10}} {
		for _, n := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("app=%s/slots=%d", app.name, n), func(b *testing.B) { benchLine(b, n, app.size) })
		}
	}
}

func benchLine(b *testing.B, n, appSize int) {
	if _, ok := processCPU(); !ok {
		b.Skip("process CPU time is measured on Linux")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d:%d", benchLineEnv, n, appSize))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	must(b, err)
	stdout, err := cmd.StdoutPipe()
	must(b, err)
	must(b, cmd.Start())
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	must(b, err)
	dir, ok := strings.CutPrefix(strings.TrimSpace(line), "READY ")
	if !ok {
		b.Fatalf("line process said %q", line)
	}
	slots, err := ParseSlots("endpoints:" + filepath.Join(dir, "endpoints.json"))
	must(b, err)
	m, err := batch.Load(filepath.Join(dir, "batch.toml"))
	must(b, err)
	setup, err := FromManifest(m, ModeBuild)
	must(b, err)

	var boards int
	var boardTime, wall, cpu, sys time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := audit.Open(filepath.Join(b.TempDir(), "audit.db"), audit.Options{Station: m.Station})
		must(b, err)
		must(b, st.CreateBatch(context.Background(), testAuditBatch(m)))
		cfg := setup.Config
		cfg.Count = n
		var store Store = AuditStore{S: st}
		if os.Getenv("FLEETLINE_BENCH_MEMSTORE") != "" {
			store = newFakeStore() // to tell the audit log's share of the CPU
		}
		eng, err := New(cfg, Deps{Connector: &FlasherConnector{}, Store: store})
		must(b, err)
		ch, _ := eng.Subscribe(256)
		u0, s0, _ := processCPUSplit()
		t0 := time.Now()
		must(b, eng.Start(context.Background(), slots))
		for ev := range ch {
			if ev.Type == EvUnitResult && ev.Result.MAC != "" {
				if !ev.Result.Passed {
					b.Fatalf("board failed: %+v", ev.Result)
				}
				boards++
				boardTime += ev.Result.Duration
			}
		}
		eng.Wait()
		wall += time.Since(t0)
		u1, s1, _ := processCPUSplit()
		cpu += u1 - u0 + s1 - s0
		sys += s1 - s0
		st.Close()
	}
	b.StopTimer()
	if boards == 0 {
		b.Fatal("no board finished")
	}
	per := boardTime / time.Duration(boards)
	b.ReportMetric(per.Seconds(), "s/board")
	b.ReportMetric(3600/per.Seconds(), "boards/h/slot")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu%")
	b.ReportMetric(100*sys.Seconds()/wall.Seconds(), "sys%")
}
