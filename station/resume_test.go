package station

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"fleetline/firmware/nvs"
	"fleetline/sim/factoryapp"
	"fleetline/station/audit"
)

// crashStore loses power right after the SN is reserved and the attempt
// record opened, as a station that lost power mid-board would: the steps
// kept in memory are gone and the attempt stays open in the log.
type crashStore struct {
	AuditStore
	crashed atomic.Bool
}

var errPowerCut = errors.New("power cut")

func (c *crashStore) StartAttempt(context.Context, AttemptInfo) (int64, error) {
	return 0, errPowerCut
}

func (c *crashStore) ReserveAndStart(ctx context.Context, a AttemptInfo) (string, int64, error) {
	if c.crashed.Load() {
		return "", 0, errPowerCut
	}
	sn, id, err := c.AuditStore.ReserveAndStart(ctx, a)
	c.crashed.Store(true)
	return sn, id, err
}

func (c *crashStore) FinishAndConfirm(context.Context, int64, []StepEntry, *Provisioning, Outcome, string, string) error {
	return errPowerCut
}

func (c *crashStore) FinishAttempt(context.Context, int64, []StepEntry, *Provisioning, Outcome) error {
	return errPowerCut
}

func TestLineCrashAndResume(t *testing.T) {
	v := newVLine(t, vlineOpts{boards: 1})
	eng, st, setup := v.engine(t, ModeBuild, nil)
	cfg := eng.Config()
	cfg.Count = 1
	cs := &crashStore{AuditStore: AuditStore{S: st}}
	eng, err := New(cfg, Deps{Connector: &FlasherConnector{Attempts: 2}, Store: cs})
	must(t, err)
	_, evs := v.run(t, eng)
	first := unitResults(evs)
	if len(first) != 1 || first[0].Passed {
		t.Fatalf("first run %+v", first)
	}
	mac, sn := first[0].MAC, first[0].SN

	// The station starts again: open attempts are closed as interrupted and
	// the batch continues with the same board.
	ctx := context.Background()
	ids, err := st.InterruptOpenAttempts(ctx, setup.Manifest.Station)
	must(t, err)
	if len(ids) != 1 {
		t.Fatalf("interrupted %v, want the one open attempt", ids)
	}
	eng2, _ := New(cfg, Deps{Connector: &FlasherConnector{Attempts: 2}, Store: AuditStore{S: st}})
	sum, evs := v.run(t, eng2)
	second := unitResults(evs)
	if len(second) != 1 || !second[0].Passed || second[0].SN != sn || second[0].MAC != mac {
		t.Fatalf("resumed run %+v, want %s passing with SN %s", second, mac, sn)
	}
	u, err := st.UnitByMAC(ctx, mac)
	must(t, err)
	h, err := st.History(ctx, u.ID)
	must(t, err)
	if len(h) != 2 || h[0].Outcome != audit.OutcomeInterrupted || h[1].Outcome != audit.OutcomePass {
		t.Errorf("history %+v", h)
	}
	if sum.Stats.Passed != 1 || u.State != audit.StateConfirmed {
		t.Errorf("stats %+v, unit %+v", sum.Stats, u)
	}
}

func TestLineRetest(t *testing.T) {
	v := newVLine(t, vlineOpts{boards: 2})
	eng, st, setup := v.engine(t, ModeBuild, func(c *Config) { c.Count = 2 })
	if sum, _ := v.run(t, eng); sum.RunPassed != 2 {
		t.Fatalf("build %+v", sum)
	}
	retest := func(t *testing.T) []UnitResult {
		cfg := setup.Config
		cfg.Mode, cfg.Count, cfg.ReadFactory, cfg.PollInterval = ModeRetest, 2, true, eng.Config().PollInterval
		e, err := New(cfg, Deps{Connector: &FlasherConnector{Attempts: 2}, Store: AuditStore{S: st}})
		must(t, err)
		_, evs := v.run(t, e)
		return unitResults(evs)
	}
	t.Run("good", func(t *testing.T) {
		for _, r := range retest(t) {
			if !r.Passed || !r.Retest {
				t.Errorf("retest %+v", r)
			}
		}
	})
	t.Run("tampered", func(t *testing.T) {
		// Someone rewrote board 0's factory data with another SN (and the
		// claim credentials back).
		b := v.line.Boards()[0]
		claim := mustRead(t, v.dir+"/claim.crt")
		key := mustRead(t, v.dir+"/claim.key")
		img, err := nvs.BuildFactoryNVS(nvs.FactoryData{ClaimCertPEM: claim, ClaimKeyPEM: key, SN: "FL999999", Template: e2eTemplate, Endpoint: v.endpoint}, int(setup.Config.Image.FactorySize))
		must(t, err)
		must(t, b.Flash().Erase(setup.Config.Image.FactoryOffset, setup.Config.Image.FactorySize))
		must(t, b.Flash().Program(setup.Config.Image.FactoryOffset, img))
		var bad, good int
		for _, r := range retest(t) {
			switch {
			case r.Passed:
				good++
			case r.Reason == ReasonClaimNotErased || r.Reason == ReasonSNMismatch:
				bad++
			default:
				t.Errorf("tampered board: %+v", r)
			}
		}
		if bad != 1 || good != 1 {
			t.Errorf("%d tampered, %d good", bad, good)
		}
	})
	t.Run("unknown board", func(t *testing.T) {
		other := newVLine(t, vlineOpts{boards: 1})
		other.db = t.TempDir() + "/other.db"
		e, _, _ := other.engine(t, ModeRetest, func(c *Config) { c.Count = 1 })
		_, evs := other.runUntil(t, e, 1)
		res := unitResults(evs)
		if len(res) != 1 || res[0].Reason != ReasonUnknownBoard {
			t.Errorf("results %+v", res)
		}
	})
}

func TestLineRework(t *testing.T) {
	v := newVLine(t, vlineOpts{boards: 1})
	eng, st, _ := v.engine(t, ModeBuild, func(c *Config) { c.Count = 1 })
	_, evs := v.run(t, eng)
	built := unitResults(evs)
	if len(built) != 1 || !built[0].Passed {
		t.Fatalf("build %+v", built)
	}
	cfg := eng.Config()
	cfg.Mode = ModeRework
	e, err := New(cfg, Deps{Connector: &FlasherConnector{Attempts: 2}, Store: AuditStore{S: st}})
	must(t, err)
	_, evs = v.run(t, e)
	re := unitResults(evs)
	if len(re) != 1 || !re[0].Passed || re[0].SN != built[0].SN {
		t.Fatalf("rework %+v, want SN %s kept", re, built[0].SN)
	}
}

func TestLineHeadlessExitCodes(t *testing.T) {
	tests := []struct {
		name string
		opts vlineOpts
		stop bool
		want int
	}{
		{"all pass", vlineOpts{boards: 2}, false, ExitAllPassed},
		{"some fail", vlineOpts{boards: 2, appF: map[int]factoryapp.Faults{1: {FailTest: "chip_temp"}}}, false, ExitSomeFailed},
		{"interrupted", vlineOpts{boards: 2}, true, ExitInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVLine(t, tt.opts)
			eng, _, _ := v.engine(t, ModeBuild, func(c *Config) { c.Count = 2 })
			ch, _ := eng.Subscribe(8)
			if tt.stop {
				eng.Stop()
			}
			must(t, eng.Start(context.Background(), v.slots))
			var out bytes.Buffer
			code := WriteHeadless(&out, ch, eng.Wait, HeadlessOptions{JSON: true})
			if code != tt.want {
				t.Errorf("exit %d, want %d\n%s", code, tt.want, out.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			results := 0
			for i, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("line %d is not JSON: %q", i+1, l)
				}
				if m["type"] == string(EvUnitResult) {
					results++
				}
				if i == len(lines)-1 && (m["type"] != "summary" || m["exit_code"] != float64(tt.want)) {
					t.Errorf("last line %q", l)
				}
			}
			if !tt.stop && results != 2 {
				t.Errorf("%d unit results", results)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return b
}

// refusingStore refuses the write that would record the pass and confirm
// the SN, as a full disk would.
type refusingStore struct{ AuditStore }

func (refusingStore) FinishAndConfirm(context.Context, int64, []StepEntry, *Provisioning, Outcome, string, string) error {
	return errPowerCut
}

// TestLineConfirmRefused: when the pass and the SN's confirmation cannot be
// recorded, the board fails at the record step, its SN stays reserved (not
// confirmed) and its attempt is closed as failed, not left open.
func TestLineConfirmRefused(t *testing.T) {
	v := newVLine(t, vlineOpts{boards: 1})
	eng, st, _ := v.engine(t, ModeBuild, nil)
	cfg := eng.Config()
	cfg.Count = 1
	eng, err := New(cfg, Deps{Connector: &FlasherConnector{Attempts: 2}, Store: refusingStore{AuditStore{S: st}}})
	must(t, err)
	_, evs := v.run(t, eng)
	res := unitResults(evs)
	if len(res) != 1 || res[0].Passed || res[0].Step != StepRecord || res[0].Reason != ReasonStoreFailed {
		t.Fatalf("results %+v", res)
	}
	ctx := context.Background()
	u, err := st.UnitByMAC(ctx, res[0].MAC)
	must(t, err)
	h, err := st.History(ctx, u.ID)
	must(t, err)
	if u.State != audit.StateReserved || u.SN != res[0].SN || len(h) != 1 || h[0].Outcome != audit.OutcomeFail {
		t.Errorf("unit %+v, history %+v", u, h)
	}
	rep, err := st.Verify(ctx)
	if err != nil || !rep.OK {
		t.Errorf("verify %+v, %v", rep, err)
	}
}
