package factoryapp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"fleetline/firmware/selftest"
	"fleetline/sim/board"
)

// App is the factory firmware; it implements board.App. One App serves one
// board across reboots.
type App struct {
	cfg   Config
	boots atomic.Int32
}

var _ board.App = (*App)(nil)

// New returns the factory firmware with cfg's defaults filled in.
func New(cfg Config) *App { return &App{cfg: cfg.withDefaults()} }

// Boots reports how many times the app has started.
func (a *App) Boots() int { return int(a.boots.Load()) }

// errRestarted ends a Run that rebooted the board on purpose.
var errRestarted = errors.New("factoryapp: board restarted")

// run is one boot of the app.
type run struct {
	cfg     Config
	ctx     context.Context
	dev     board.Device
	con     *console
	clock   *boardClock
	fw      FirmwareInfo
	store   *store
	st      state
	boot    int
	station <-chan selftest.Message
}

// Run implements board.App: boot log, factory data, the self-test
// conversation and provisioning, then idle until the board resets.
func (a *App) Run(ctx context.Context, dev board.Device) error {
	r := &run{
		cfg:   a.cfg,
		ctx:   ctx,
		dev:   dev,
		con:   newConsole(dev.Console(), a.cfg.Now),
		clock: newBoardClock(a.cfg.Now, a.cfg.UnsyncedTime),
		fw:    firmwareInfo(dev, a.cfg.Firmware),
		boot:  int(a.boots.Add(1)),
	}
	bootLog(r.con, dev, r.fw, r.cfg.StartupLog)
	r.station = readStation(ctx, dev.Console())
	err := r.firstBoot()
	if errors.Is(err, errRestarted) || ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	<-ctx.Done() // the app keeps running until the board is reset
	return nil
}

// firstBoot is the whole conversation with the station.
func (r *run) firstBoot() error {
	hello, loadErr := r.load()
	if loadErr != nil {
		r.con.log('E', "fct", "factory data: %v", loadErr)
	}
	start, err := r.greet(hello)
	if err != nil {
		return err
	}
	if loadErr != nil {
		r.con.send(selftest.Verdict{Pass: false, Reason: "factory data: " + loadErr.Error()})
		return r.con.err
	}
	retest := start == selftest.TypeRetest || hello.Mode == selftest.ModeRetest
	if retest && r.st.hasDev {
		r.con.send(selftest.Cert{CertificateID: certSHA256(r.st.device.CertPEM), PEM: string(r.st.device.CertPEM)})
	}
	tests := runTests(r.cfg.Tests, r.testRNG(), r.dev, r.cfg.Faults.FailTest)
	var failed string
	for _, t := range tests {
		verdict := "PASS"
		if !t.Pass {
			verdict = "FAIL"
			if failed == "" {
				failed = t.Name
			}
		}
		r.con.log('I', "fct", "test %s = %g %s [%g, %g] %s", t.Name, t.Value, t.Unit, t.Low, t.High, verdict)
		r.con.send(t)
	}
	if failed != "" {
		r.con.send(selftest.Verdict{Pass: false, Reason: fmt.Sprintf("test %s out of limits", failed)})
		return r.con.err
	}
	if retest {
		if !r.st.hasDev && hello.Mode == selftest.ModeRetest {
			r.con.send(selftest.Verdict{Pass: false, Reason: "no device certificate"})
			return r.con.err
		}
		r.con.send(selftest.Verdict{Pass: true})
		return r.con.err
	}
	res, err := r.provision()
	if err != nil {
		return err
	}
	r.con.send(res)
	if !res.OK {
		reason := "provisioning failed: " + res.Error
		if res.ErrorCode != "" {
			reason = fmt.Sprintf("provisioning rejected by %s: %d %s", res.Op, res.StatusCode, res.ErrorCode)
		}
		r.con.send(selftest.Verdict{Pass: false, Reason: reason})
		return r.con.err
	}
	r.con.send(selftest.Verdict{Pass: true})
	return r.con.err
}

// load reads the factory partition and builds the hello message. A board
// that stored its device credentials but was reset before erasing the
// claim finishes the erase now.
func (r *run) load() (selftest.Hello, error) {
	id := r.dev.Identity()
	h := selftest.Hello{Firmware: r.fw.Version, Project: r.fw.Project, IDF: r.fw.IDF, Chip: id.Chip, MAC: id.MACString(), Mode: selftest.ModeNormal}
	s, err := openStore(r.dev, r.cfg.Partition, r.cfg.Namespace, r.cfg.SPIFFS)
	if err != nil {
		return h, err
	}
	st, err := s.read()
	if err != nil {
		return h, err
	}
	r.store, r.st = s, st
	h.SN, h.Template = st.factory.SN, st.factory.Template
	// An expired claim is modelled on the board (ExpiredClaimer); the other
	// cloud faults are the cloud's to play.
	if r.cfg.Faults.Cloud != "" && r.cfg.Cloud != nil && !r.staleClaim() {
		if err := r.cfg.Cloud.SetClientFault(st.factory.SN, r.cfg.Faults.Cloud); err != nil {
			r.con.log('W', "fct", "cloud fault %s: %v", r.cfg.Faults.Cloud, err)
		}
	}
	if st.hasDev {
		if len(st.factory.ClaimCertPEM) > 0 || len(st.factory.ClaimKeyPEM) > 0 {
			r.con.log('W', "prov", "device credentials present but claim not erased: erasing claim now")
			if err := s.eraseClaim(); err != nil {
				return h, fmt.Errorf("erase claim after interrupted provisioning: %w", err)
			}
		}
		h.Mode, h.ThingName, h.CertSHA256 = selftest.ModeRetest, st.device.ThingName, certSHA256(st.device.CertPEM)
	}
	return h, nil
}

// greet repeats hello until the station speaks, applies its time and
// returns the type of its start or retest.
func (r *run) greet(hello selftest.Hello) (string, error) {
	r.con.send(hello)
	tick := time.NewTicker(r.cfg.HelloInterval)
	defer tick.Stop()
	timeout := time.NewTimer(r.cfg.StationTimeout)
	defer timeout.Stop()
	heard := false
	for {
		select {
		case <-r.ctx.Done():
			return "", r.ctx.Err()
		case <-tick.C:
			if !heard {
				r.con.send(hello)
			}
		case <-timeout.C:
			r.con.log('E', "fct", "no start from the station within %s", r.cfg.StationTimeout)
			r.con.send(selftest.Verdict{Pass: false, Reason: "station timeout"})
			return "", errors.Join(r.con.err, errStationTimeout)
		case m, ok := <-r.station:
			if !ok {
				return "", errRestarted // console closed: the board is going away
			}
			heard = true
			switch m := m.(type) {
			case selftest.Time:
				r.applyTime(m)
			case selftest.Start:
				return selftest.TypeStart, r.con.err
			case selftest.Retest:
				return selftest.TypeRetest, r.con.err
			default:
				r.con.log('W', "fct", "ignoring %s from the station", m.Type())
			}
		}
		if r.con.err != nil {
			return "", r.con.err
		}
	}
}

var errStationTimeout = errors.New("factoryapp: no start from the station")

func (r *run) applyTime(m selftest.Time) {
	if r.cfg.Faults.ClockUnsynced {
		r.con.log('W', "fct", "settimeofday failed, keeping the RTC time")
	} else {
		r.clock.Set(m.At())
	}
	now := r.clock.Now()
	r.con.log('I', "fct", "time is %s", now.Format(time.RFC3339))
	r.con.send(selftest.Clock{UnixMillis: now.UnixMilli(), UTC: now.UTC().Format(time.RFC3339)})
}

// testRNG seeds the measurement draws from the config seed and the MAC.
func (r *run) testRNG() *rand.Rand {
	mac := r.dev.Identity().MAC
	var m uint64
	for _, b := range mac {
		m = m<<8 | uint64(b)
	}
	return rand.New(rand.NewPCG(r.cfg.Seed, m^uint64(r.boot)<<48))
}
