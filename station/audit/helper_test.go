package audit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The helper process: the test binary re-executed with -test.run=TestHelperProcess
// and FLEETLINE_AUDIT_HELPER set. It writes one line per completed step to
// stdout with a single write, so the parent knows exactly what was done
// before it was killed.
const helperEnv = "FLEETLINE_AUDIT_HELPER"

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("only runs as a helper process")
	}
	path := os.Getenv("FLEETLINE_AUDIT_DB")
	n, _ := strconv.Atoi(os.Getenv("FLEETLINE_AUDIT_N"))
	base, _ := strconv.Atoi(os.Getenv("FLEETLINE_AUDIT_BASE"))
	var err error
	switch mode {
	case "loop":
		workers, _ := strconv.Atoi(os.Getenv("FLEETLINE_AUDIT_WORKERS"))
		err = helperLoop(path, base, n, workers)
	case "reserve":
		err = helperReserve(path, base, n)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// say writes one line in one write(2).
func say(format string, a ...any) { os.Stdout.WriteString(fmt.Sprintf(format, a...) + "\n") }

// helperLoop runs boards through reserve/record/confirm until killed,
// from workers goroutines (their units of work then share commits). MACs
// base+i are new; every third board is one seen in an earlier round. A
// worker's boards are those whose MAC number is its own modulo workers,
// so two workers never run one board at once.
func helperLoop(path string, base, n, workers int) error {
	ctx := context.Background()
	s, err := Open(path, Options{Station: "crash"})
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.InterruptOpenAttempts(ctx, "crash"); err != nil {
		return err
	}
	say("ready")
	workers = max(1, workers)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				m := mac(base + i)
				if i%3 == 2 && base > 0 {
					r := (base*7 + i*13) % base // a board coming back for a retest
					m = mac(r - r%workers + w)
				}
				if err := helperBoard(ctx, s, i, m); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// helperBoard runs board number i, with MAC m, through one attempt.
func helperBoard(ctx context.Context, s *Store, i int, m string) error {
	id, err := s.StartAttempt(ctx, AttemptStart{Batch: "B1", MAC: m, Slot: strconv.Itoa(i % 4), Operator: "op"})
	if err != nil {
		return err
	}
	say("attempt %d", id)
	r, err := s.Reserve(ctx, "B1", m)
	if errors.Is(err, ErrVoided) {
		if err := s.FinishAttempt(ctx, id, Outcome{Result: OutcomeFail, ReasonCode: "scrapped"}); err != nil {
			return err
		}
		say("finished %d", id)
		return nil
	}
	if err != nil {
		return err
	}
	say("reserved %s %s", m, r.SN)
	if err := s.RecordStep(ctx, id, Step{Name: "flash", Start: time.Now(), End: time.Now(), Result: "pass"}); err != nil {
		return err
	}
	result := OutcomePass
	if i%7 == 3 {
		if err := s.Void(ctx, r.SN, "cracked"); err != nil {
			return err
		}
		say("voided %s", r.SN)
		result = OutcomeFail
	} else {
		if err := s.Confirm(ctx, r.SN); err != nil {
			return err
		}
		say("confirmed %s", r.SN)
	}
	if err := s.FinishAttempt(ctx, id, Outcome{Result: result}); err != nil {
		return err
	}
	say("finished %d", id)
	return nil
}

// helperReserve reserves n SNs for MACs base..base+n-1 from 4 goroutines.
func helperReserve(path string, base, n int) error {
	s, err := Open(path, Options{Station: fmt.Sprintf("proc%d", base)})
	if err != nil {
		return err
	}
	defer s.Close()
	return reserveMany(s, base, n, 4, func(m, sn string) { say("reserved %s %s", m, sn) })
}

// reserveMany reserves SNs for n MACs from base on, from g goroutines.
func reserveMany(s *Store, base, n, g int, done func(mac, sn string)) error {
	var wg sync.WaitGroup
	errs := make(chan error, g)
	for w := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += g {
				r, err := s.Reserve(context.Background(), "B1", mac(base+i))
				if err != nil {
					errs <- err
					return
				}
				done(mac(base+i), r.SN)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// helper starts the test binary as a helper process in mode, with env
// (NAME=value) added to its environment.
func helper(t *testing.T, mode, path string, base, n int, env ...string) (*exec.Cmd, io.ReadCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "FLEETLINE_AUDIT_DB="+path,
		"FLEETLINE_AUDIT_BASE="+strconv.Itoa(base), "FLEETLINE_AUDIT_N="+strconv.Itoa(n))
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("helper %s stderr: %s", mode, stderr.String())
		}
	})
	return cmd, out
}

// helperLines reads a helper's lines until it exits.
func helperLines(r io.Reader) []string {
	var lines []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
