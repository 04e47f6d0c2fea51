package audit

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"fleetline/serialno"
)

// The scale benchmarks share one database of FLEETLINE_BENCH_UNITS units
// (default 1,000,000) with 3 attempts each, built once per run of the test
// binary in a temporary directory (removed by TestMain).
const benchBatchSize = 10_000

var bench struct {
	once  sync.Once
	dir   string
	path  string
	units int
	err   error
}

func benchUnits() int {
	if v, err := strconv.Atoi(os.Getenv("FLEETLINE_BENCH_UNITS")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchStore opens the shared database, building it on first use.
func benchStore(b *testing.B) *Store {
	b.Helper()
	bench.once.Do(func() {
		bench.units = benchUnits()
		if bench.dir, bench.err = os.MkdirTemp("", "fleetline-audit-bench-"); bench.err != nil {
			return
		}
		bench.path = filepath.Join(bench.dir, "audit.db")
		start := time.Now()
		bench.err = buildBenchDB(bench.path, bench.units)
		fi, _ := os.Stat(bench.path)
		fmt.Fprintf(os.Stderr, "built %d units x 3 attempts in %v (%d MB)\n", bench.units, time.Since(start).Round(time.Second), fi.Size()>>20)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	s, err := Open(bench.path, Options{Station: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// buildBenchDB writes units through the same appendRow path as the API
// (rows, records and hashes), but many units per transaction.
func buildBenchDB(path string, units int) error {
	clock := time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC)
	s, err := Open(path, Options{Station: "bench", Clock: func() time.Time { return clock }})
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := context.Background()
	const perTx = 5_000
	var batchID int64
	for first := 0; first < units; first += perTx {
		err := s.write(ctx, "bench build", func(t *tx) error {
			station, err := t.stationID()
			if err != nil {
				return err
			}
			for i := first; i < min(first+perTx, units); i++ {
				if i%benchBatchSize == 0 {
					n := i / benchBatchSize
					r := serialno.Range{First: uint64(n * benchBatchSize), Last: uint64((n+1)*benchBatchSize - 1)}
					batchID, err = t.appendRow("batches", benchBatchName(n), "sensor-v2", "", "ab", "cd", "{}", "ef", "7a01", "tmpl",
						"SL{seq:09}", int64(r.First), int64(r.Last), int64(r.Len()), station, stamp(clock))
					if err != nil {
						return err
					}
				}
				now := stamp(clock.Add(time.Duration(i) * time.Second))
				unit, err := t.appendRow("units", mac(i), "ESP32-D0WD-V3", "v3.1", "c84016", now)
				if err != nil {
					return err
				}
				sn := fmt.Sprintf("SL%09d", i)
				res, err := t.appendRow("sn_reservations", batchID, unit, int64(i), sn, station, now)
				if err != nil {
					return err
				}
				for a := range 3 {
					att, err := t.appendRow("attempts", unit, batchID, station, strconv.Itoa(i%32), "op", []string{KindNormal, KindRetest, KindRetest}[a],
						"ESP32-D0WD-V3", "v3.1", "c84016", now)
					if err != nil {
						return err
					}
					outcome, code := OutcomeFail, "flash.verify"
					if a == 2 {
						outcome, code = OutcomePass, ""
						if _, err := t.appendRow("provisioning", att, sn, "cert", fmt.Sprintf("%064x", i), fmt.Sprintf("%064x", i+1), "7a01", now, fmt.Sprintf("%x", i)); err != nil {
							return err
						}
					}
					if _, err := t.appendRow("attempt_ends", att, outcome, code, "verify", "", now); err != nil {
						return err
					}
				}
				if _, err := t.appendRow("sn_events", res, StateConfirmed, "", station, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func benchBatchName(n int) string { return fmt.Sprintf("BENCH-%04d", n) }

// Lookups run 1,000 random boards per iteration, so `-benchtime 1x` (as
// `make bench` runs) still gives a steady figure: see the ns/lookup metric.
const lookupsPerOp = 1000

func BenchmarkLookupByMAC(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for range lookupsPerOp {
			if _, err := s.UnitByMAC(ctx, mac(rng.IntN(bench.units))); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*lookupsPerOp), "ns/lookup")
}

// BenchmarkLookupBySN looks a board up by SN and reads its whole history
// (3 attempts with ends and provisioning), as `station audit show` does.
func BenchmarkLookupBySN(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for range lookupsPerOp {
			u, err := s.UnitBySN(ctx, fmt.Sprintf("SL%09d", rng.IntN(bench.units)))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.History(ctx, u.ID); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*lookupsPerOp), "ns/lookup")
}

// BenchmarkReserveConfirm reserves and confirms SNs for new boards in a
// new batch of the big database from one goroutine: one durable
// transaction each, so it measures the disk's fsync rate (nobody waits to
// share a commit with).
func BenchmarkReserveConfirm(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	batch := benchRCBatch(b, s)
	// Boards of another vendor prefix: never seen in the built database.
	first := int(time.Now().UnixNano()>>10) & 0xffffff
	const pairsPerOp = 200
	b.ResetTimer()
	start := time.Now()
	for i := range b.N * pairsPerOp {
		m := fmt.Sprintf("30:ae:a4:%02x:%02x:%02x", byte((first+i)>>16), byte((first+i)>>8), byte(first+i))
		res, err := s.Reserve(ctx, batch, m)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Confirm(ctx, res.SN); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*pairsPerOp)/time.Since(start).Seconds(), "pairs/s")
	b.ReportMetric(0, "ns/op")
}

// benchRCBatch creates a batch with a range and template of its own.
func benchRCBatch(b *testing.B, s *Store) string {
	b.Helper()
	batch := fmt.Sprintf("RC-%d", time.Now().UnixNano())
	bt := testBatch(batch, serialno.Range{First: 1, Last: 1 << 40})
	bt.SNTemplate, bt.Quantity = "RC{seq:13}-"+strconv.FormatInt(time.Now().UnixNano(), 36), 1
	if err := s.CreateBatch(context.Background(), bt); err != nil {
		b.Fatal(err)
	}
	return batch
}

// BenchmarkReserveConfirmParallel is BenchmarkReserveConfirm from 32
// goroutines, a station's slots recording at once: units of work that
// queue while a commit is in flight share the next one (group commit).
func BenchmarkReserveConfirmParallel(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	batch := benchRCBatch(b, s)
	first := int(time.Now().UnixNano()>>10) & 0xffffff
	const slots, pairsPerSlot = 32, 100
	commits := s.c.commits.Load()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		var wg sync.WaitGroup
		errs := make(chan error, slots)
		for slot := range slots {
			wg.Go(func() {
				for i := range pairsPerSlot {
					n := first + slot*pairsPerSlot + i
					m := fmt.Sprintf("30:ae:a5:%02x:%02x:%02x", byte(n>>16), byte(n>>8), byte(n))
					res, err := s.Reserve(ctx, batch, m)
					if err == nil {
						err = s.Confirm(ctx, res.SN)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		first += slots * pairsPerSlot
	}
	pairs := float64(b.N * slots * pairsPerSlot)
	b.ReportMetric(pairs/time.Since(start).Seconds(), "pairs/s")
	b.ReportMetric(2*pairs/float64(s.c.commits.Load()-commits), "writes/commit")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkVerify(b *testing.B) {
	s := benchStore(b)
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		rep, err := s.Verify(context.Background())
		if err != nil || !rep.OK {
			b.Fatalf("%+v %v", rep, err)
		}
		b.ReportMetric(float64(rep.Records), "records")
	}
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkExport streams one batch (10,000 units, 30,000 attempts) and
// reports bytes allocated per row and the peak heap seen while streaming.
func BenchmarkExport(b *testing.B) {
	for _, format := range []string{FormatCSV, FormatJSON} {
		b.Run(format, func(b *testing.B) {
			s := benchStore(b)
			var peak uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				var m runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
						runtime.ReadMemStats(&m)
						peak = max(peak, m.HeapInuse)
					}
				}
			}()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			cw := &countingWriter{}
			for range b.N {
				if err := s.Export(context.Background(), cw, benchBatchName(0), format); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			close(stop)
			wg.Wait()
			rows := float64(b.N) * float64(min(bench.units, benchBatchSize)*3)
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/rows, "B/row")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(cw.n)/rows, "out-B/row")
		})
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)

// BenchmarkReports runs a supervisor's report on one batch (progress, yield,
// failures by reason, slot and hour) plus the duplicate-key scan over all
// units.
func BenchmarkReports(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		batch := benchBatchName(0)
		if _, err := s.BatchProgress(ctx, batch); err != nil {
			b.Fatal(err)
		}
		if _, err := s.BatchYield(ctx, batch); err != nil {
			b.Fatal(err)
		}
		for _, f := range []func(context.Context, string) ([]Count, error){s.FailuresByReason, s.FailuresBySlot, s.FailuresByHour} {
			if _, err := f(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		d, err := s.DuplicatePublicKeys(ctx)
		if err != nil || len(d) != 0 {
			b.Fatalf("%v %v", d, err)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "dupkeys-ms")
	}
}

// BenchmarkPublicKeyOwners is the per-board duplicate-key check.
func BenchmarkPublicKeyOwners(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for range lookupsPerOp {
			i := rng.IntN(bench.units)
			owners, err := s.PublicKeyOwners(ctx, fmt.Sprintf("%064x", i+1))
			if err != nil || len(owners) != 1 {
				b.Fatalf("%v %v", owners, err)
			}
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*lookupsPerOp), "ns/lookup")
}
