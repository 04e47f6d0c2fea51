package factoryapp

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetline/firmware"
	"fleetline/firmware/nvs"
	"fleetline/firmware/selftest"
	"fleetline/sim/cloud"
)

var lineNow = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

const template = "FleetlineTest"

// line is a provisioning cloud on loopback with one batch's claim.
type line struct {
	t        testing.TB
	cloud    *cloud.Cloud
	endpoint string
	claim    []byte
	claimKey []byte
	claimID  string
	now      func() time.Time
}

type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func newLine(t testing.TB) *line {
	t.Helper()
	clk := &fixedClock{t: lineNow}
	c, err := cloud.New(cloud.Config{Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	err = c.CreateTemplate(cloud.Template{
		Name: template, Active: true,
		Parameters:       []string{"SerialNumber", "MAC"},
		ThingNamePattern: "{SerialNumber}",
		Attributes:       map[string]string{"mac": "{MAC}", "mfg_date": "{ManufacturingDate}", "claim_serial": "{ClaimCertificateSerial}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	claim, key, err := c.CreateClaim(template, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := cloud.CertificateID(claim)
	ctx, cancel := context.WithCancel(context.Background())
	endpoint, err := c.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = c.Close() })
	return &line{t: t, cloud: c, endpoint: endpoint, claim: claim, claimKey: key, claimID: id, now: clk.Now}
}

func (l *line) factory(sn string) nvs.FactoryData {
	return nvs.FactoryData{ClaimCertPEM: l.claim, ClaimKeyPEM: l.claimKey, SN: sn, Template: template, Endpoint: l.endpoint}
}

func (l *line) app(f Faults) *App {
	return New(Config{Seed: 1, RootCAPEM: l.cloud.RootCAPEM(), Faults: f, ManufacturingDate: "2026-12-03", Cloud: l.cloud})
}

// provisionOnce boots a board and runs one first boot.
func (l *line) provisionOnce(t *testing.T, mac byte, fd nvs.FactoryData, f Faults) (*fakeBoard, transcript) {
	b := newFakeBoard(t, mac, fd)
	tr := b.boot(l.app(f)).run(l.now(), selftest.Start{})
	return b, tr
}

func TestProvisioning(t *testing.T) {
	l := newLine(t)
	b, tr := l.provisionOnce(t, 1, l.factory("FL-0001"), Faults{})
	if tr.verdict == nil || !tr.verdict.Pass || tr.result == nil || !tr.result.OK {
		t.Fatalf("verdict %+v result %+v", tr.verdict, tr.result)
	}
	h := tr.hello
	if h.SN != "FL-0001" || h.Template != template || h.Mode != selftest.ModeNormal || h.MAC != "24:0a:c4:00:00:01" || h.Chip != "esp32s3" {
		t.Errorf("hello %+v", h)
	}
	for _, step := range rebootSteps {
		if _, ok := tr.steps[step]; !ok {
			t.Errorf("no %s step", step)
		}
	}
	if len(tr.tests) != len(DefaultTests()) {
		t.Errorf("%d tests", len(tr.tests))
	}
	// Cloud side: the thing and its attributes trace the board.
	th, ok := l.cloud.Thing("FL-0001")
	if !ok {
		t.Fatalf("no thing; things: %+v", l.cloud.Things())
	}
	claimCert := parseCert(t, l.claim)
	want := map[string]string{"mac": "24:0a:c4:00:00:01", "mfg_date": "2026-12-03", "claim_serial": claimCert.SerialNumber.Text(16)}
	for k, v := range want {
		if th.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, th.Attributes[k], v)
		}
	}
	certRec, ok := l.cloud.Certificate(tr.result.CertificateID)
	if !ok || certRec.Status != cloud.StatusActive || certRec.Thing != "FL-0001" {
		t.Fatalf("certificate %+v", certRec)
	}
	if certRec.PublicKeySHA256 != tr.steps[selftest.StepKeyGenerated].PublicKeySHA256 {
		t.Error("key_generated fingerprint does not match the issued certificate's key")
	}
	if tr.cert == nil || tr.cert.PEM != certRec.PEM {
		t.Error("cert message does not carry the issued certificate")
	}
	// Board side: device credentials stored, claim erased.
	st := readBack(t, b)
	if !st.hasDev || st.device.ThingName != "FL-0001" || string(st.device.CertPEM) != certRec.PEM {
		t.Errorf("NVS device credentials %+v", st.device.ThingName)
	}
	if len(st.factory.ClaimCertPEM) != 0 || len(st.factory.ClaimKeyPEM) != 0 {
		t.Error("claim credentials still in NVS")
	}
	if !strings.Contains(string(st.device.KeyPEM), "EC PRIVATE KEY") {
		t.Error("no device key in NVS")
	}
	for _, p := range tr.plain {
		if selftest.LooksLikePrivateKey(p) {
			t.Error("a healthy board printed key material")
		}
	}

	// A second boot is a retest: identity, tests, no provisioning.
	tr2 := b.boot(l.app(Faults{})).run(l.now(), selftest.Start{})
	if tr2.hello.Mode != selftest.ModeRetest || tr2.hello.ThingName != "FL-0001" || tr2.hello.CertSHA256 != tr.result.CertificateID {
		t.Errorf("retest hello %+v", tr2.hello)
	}
	if tr2.cert == nil || tr2.result != nil || len(tr2.steps) != 0 || !tr2.verdict.Pass {
		t.Errorf("retest: cert %v result %+v steps %v verdict %+v", tr2.cert != nil, tr2.result, tr2.steps, tr2.verdict)
	}
	if n := len(l.cloud.Certificates()); n != 2 { // the claim and one device certificate
		t.Errorf("%d certificates after retest, want 2", n)
	}
}

func TestProvisioningFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		setup  func(l *line, fd *nvs.FactoryData)
		op     string
		status int
		code   string
		errSub string // in ProvResult.Error for local failures
		event  string // in a cloud event's Err, when the cloud saw it
	}{
		{name: "board clock not synced", faults: Faults{ClockUnsynced: true}, op: opConnect, errSub: "not yet valid", event: "TLS handshake"},
		{name: "claim expired", setup: func(l *line, fd *nvs.FactoryData) {
			fd.ClaimCertPEM, fd.ClaimKeyPEM = must2(l.cloud.CreateClaimWindow(template, lineNow.Add(-72*time.Hour), lineNow.Add(-time.Hour)))
		}, op: opConnect, errSub: "expired certificate", event: "expired"},
		{name: "claim not registered", setup: func(l *line, fd *nvs.FactoryData) {
			if err := l.cloud.RevokeClaim(l.claim); err != nil {
				panic(err)
			}
		}, op: opConnect, errSub: "not Authorized", event: "not registered"},
		{name: "template missing", setup: func(_ *line, fd *nvs.FactoryData) { fd.Template = "NoSuchTemplate" }, op: opRegisterThing, status: 404, code: cloud.CodeNotFound},
		{name: "template inactive", setup: func(l *line, _ *nvs.FactoryData) { _ = l.cloud.SetTemplateActive(template, false) }, op: opRegisterThing, status: 400, code: cloud.CodeInvalidRequest},
		{name: "throttled", setup: func(l *line, _ *nvs.FactoryData) { l.cloud.Throttle(1) }, op: opCreateFromCSR, status: 429, code: cloud.CodeThrottling},
		{name: "SN not in allowlist", setup: func(l *line, _ *nvs.FactoryData) { l.cloud.Allowlist(l.claimID, []string{"FL-9999"}) }, op: opRegisterThing, status: 403, code: cloud.CodeAccessDenied},
		{name: "client fault claim_expired", faults: Faults{Cloud: cloud.ClientClaimExpired}, op: opConnect, errSub: "expired certificate", event: "expired"},
		{name: "client fault claim_not_registered", faults: Faults{Cloud: cloud.ClientClaimNotRegistered}, op: opConnect, errSub: "not Authorized"},
		{name: "client fault template_missing", faults: Faults{Cloud: cloud.ClientTemplateMissing}, op: opRegisterThing, status: 404, code: cloud.CodeNotFound},
		{name: "client fault template_inactive", faults: Faults{Cloud: cloud.ClientTemplateInactive}, op: opRegisterThing, status: 400, code: cloud.CodeInvalidRequest},
		{name: "client fault throttled", faults: Faults{Cloud: cloud.ClientThrottled}, op: opCreateFromCSR, status: 429, code: cloud.CodeThrottling},
		{name: "board network down", faults: Faults{Unreachable: true}, op: opConnect, errSub: "network is unreachable"},
		{name: "cloud unreachable", setup: func(l *line, _ *nvs.FactoryData) { _ = l.cloud.SetUnreachable(true) }, op: opConnect, errSub: "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLine(t)
			fd := l.factory("FL-0002")
			if tt.setup != nil {
				tt.setup(l, &fd)
			}
			b, tr := l.provisionOnce(t, 2, fd, tt.faults)
			r := tr.result
			if r == nil || r.OK || tr.verdict == nil || tr.verdict.Pass {
				t.Fatalf("result %+v verdict %+v", r, tr.verdict)
			}
			if r.Op != tt.op || r.StatusCode != tt.status || r.ErrorCode != tt.code || !strings.Contains(r.Error, tt.errSub) {
				t.Fatalf("result %+v, want op %s status %d code %s error ~%q", r, tt.op, tt.status, tt.code, tt.errSub)
			}
			if tt.code != "" && r.ErrorMessage == "" {
				t.Error("rejected without the cloud's errorMessage")
			}
			if got := l.cloud.Things(); len(got) != 0 {
				t.Fatalf("cloud registered %+v", got)
			}
			if tt.code != "" {
				assertCloudRejected(t, l.cloud, tt.op, tt.code)
			}
			if tt.event != "" {
				waitCloudEvent(t, l.cloud, tt.event)
			}
			st := readBack(t, b)
			if st.hasDev || len(st.factory.ClaimCertPEM) == 0 {
				t.Error("a failed provisioning changed the factory data")
			}
		})
	}
}

func TestTestOutOfLimits(t *testing.T) {
	l := newLine(t)
	_, tr := l.provisionOnce(t, 3, l.factory("FL-0003"), Faults{FailTest: "vdd_3v3"})
	if tr.verdict == nil || tr.verdict.Pass || !strings.Contains(tr.verdict.Reason, "vdd_3v3") {
		t.Fatalf("verdict %+v", tr.verdict)
	}
	if tr.result != nil || len(tr.steps) != 0 {
		t.Fatal("a board that failed its self test provisioned")
	}
	for _, m := range tr.tests {
		if m.Name == "vdd_3v3" && (m.Pass || m.Value <= m.High) {
			t.Fatalf("vdd_3v3 %+v", m)
		}
	}
	if len(l.cloud.Events()) != 0 {
		t.Fatal("the cloud heard from a board that should not have connected")
	}
}

func TestRebootDuringProvisioning(t *testing.T) {
	l := newLine(t)
	b := newFakeBoard(t, 4, l.factory("FL-0004"))
	app := l.app(Faults{RebootAfter: selftest.StepCertReceived})
	tr := b.boot(app).run(l.now(), selftest.Start{})
	if !tr.rebooted || tr.verdict != nil {
		t.Fatalf("first boot did not end in a reboot: %+v", tr.verdict)
	}
	b.waitRestart()
	first := tr.steps[selftest.StepCertReceived].CertificateID
	// The claim is still there, so the second boot provisions again.
	tr = b.boot(app).run(l.now(), selftest.Start{})
	if tr.result == nil || !tr.result.OK || tr.result.CertificateID == first {
		t.Fatalf("second boot result %+v", tr.result)
	}
	if rec, ok := l.cloud.Certificate(first); !ok || rec.Status != cloud.StatusPendingActivation {
		t.Errorf("the first certificate should be left pending: %+v", rec)
	}
	if len(l.cloud.Things()) != 1 || app.Boots() != 2 {
		t.Errorf("things %v, boots %d", l.cloud.Things(), app.Boots())
	}
}

func TestRebootBeforeClaimErasedRecovers(t *testing.T) {
	l := newLine(t)
	b := newFakeBoard(t, 5, l.factory("FL-0005"))
	// Store the device credentials but keep the claim, as a reset between
	// the two NVS writes leaves it.
	app := l.app(Faults{})
	tr := b.boot(app).run(l.now(), selftest.Start{})
	if !tr.result.OK {
		t.Fatal(tr.result)
	}
	s, _ := openStore(b, nvs.DefaultPartition, nvs.DefaultNamespace, New(Config{}).cfg.SPIFFS)
	if err := s.update([]nvs.Entry{nvs.BlobEntry("", nvs.KeyClaimCert, l.claim), nvs.BlobEntry("", nvs.KeyClaimKey, l.claimKey)}); err != nil {
		t.Fatal(err)
	}
	tr = b.boot(app).run(l.now(), selftest.Start{})
	if tr.hello.Mode != selftest.ModeRetest || !tr.verdict.Pass {
		t.Fatalf("hello %+v verdict %+v", tr.hello, tr.verdict)
	}
	if st := readBack(t, b); len(st.factory.ClaimCertPEM) != 0 || len(st.factory.ClaimKeyPEM) != 0 {
		t.Fatal("claim not erased on recovery")
	}
}

func TestBadRNGRepeatsKeys(t *testing.T) {
	l := newLine(t)
	_, a := l.provisionOnce(t, 6, l.factory("FL-0006"), Faults{BadRNG: true})
	_, b := l.provisionOnce(t, 7, l.factory("FL-0007"), Faults{BadRNG: true})
	_, c := l.provisionOnce(t, 8, l.factory("FL-0008"), Faults{})
	ka, kb, kc := a.steps[selftest.StepKeyGenerated].PublicKeySHA256, b.steps[selftest.StepKeyGenerated].PublicKeySHA256, c.steps[selftest.StepKeyGenerated].PublicKeySHA256
	if ka == "" || ka != kb || ka == kc {
		t.Fatalf("key fingerprints %s %s %s: want the two bad-RNG boards equal and the healthy one different", ka, kb, kc)
	}
}

func TestLeakedKeyIsVisibleOnConsole(t *testing.T) {
	l := newLine(t)
	_, tr := l.provisionOnce(t, 9, l.factory("FL-0009"), Faults{LeakKey: true})
	leaked := 0
	for _, p := range tr.plain {
		if selftest.LooksLikePrivateKey(p) {
			leaked++
		}
	}
	if leaked == 0 {
		t.Fatal("the leaking firmware's key went unnoticed") // never print the lines themselves
	}
}

func TestStationRetestOnFreshBoard(t *testing.T) {
	l := newLine(t)
	b := newFakeBoard(t, 10, l.factory("FL-0010"))
	tr := b.boot(l.app(Faults{})).run(l.now(), selftest.Retest{})
	if !tr.verdict.Pass || tr.result != nil || len(tr.tests) == 0 {
		t.Fatalf("retest: verdict %+v result %+v", tr.verdict, tr.result)
	}
	if len(l.cloud.Events()) != 0 {
		t.Fatal("a retest talked to the cloud")
	}
}

func TestNoFactoryData(t *testing.T) {
	b := newFakeBoard(t, 11, nvs.FactoryData{ClaimCertPEM: []byte("x"), ClaimKeyPEM: []byte("y"), SN: "S"})
	if err := b.flash.Erase(0x110000, 0x6000); err != nil {
		t.Fatal(err)
	}
	tr := b.boot(New(Config{})).run(lineNow, selftest.Start{})
	if tr.verdict == nil || tr.verdict.Pass || !strings.Contains(tr.verdict.Reason, "factory data") {
		t.Fatalf("verdict %+v", tr.verdict)
	}
}

func TestClockMessageReflectsSync(t *testing.T) {
	for _, unsynced := range []bool{false, true} {
		l := newLine(t)
		_, tr := l.provisionOnce(t, 12, l.factory("FL-0012"), Faults{ClockUnsynced: unsynced})
		var clock *selftest.Clock
		for _, m := range tr.msgs {
			if c, ok := m.(selftest.Clock); ok {
				clock = &c
			}
		}
		if clock == nil {
			t.Fatal("no clock message")
		}
		year := time.UnixMilli(clock.UnixMillis).UTC().Year()
		if (year == 2026) == unsynced {
			t.Errorf("unsynced=%v: board clock year %d", unsynced, year)
		}
	}
}

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults("clock, test_fail=vdd_3v3,reboot=cert_received,bad_rng,leak_key,unreachable,throttled")
	if err != nil {
		t.Fatal(err)
	}
	want := Faults{ClockUnsynced: true, FailTest: "vdd_3v3", RebootAfter: "cert_received", BadRNG: true, LeakKey: true, Unreachable: true, Cloud: cloud.ClientThrottled}
	if f != want {
		t.Fatalf("%+v", f)
	}
	if g, err := ParseFaults(f.String()); err != nil || g != f {
		t.Fatalf("round trip %q: %+v %v", f.String(), g, err)
	}
	for _, bad := range []string{"nope", "reboot=never", "clock=1", "test_fail=", "throttled,template_missing"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) accepted", bad)
		}
	}
	if f, err := ParseFaults(""); err != nil || f != (Faults{}) {
		t.Errorf("empty spec: %+v %v", f, err)
	}
}

// readBack parses the factory partition the way the station would.
func readBack(t *testing.T, b *fakeBoard) state {
	t.Helper()
	s, err := openStore(b, nvs.DefaultPartition, nvs.DefaultNamespace, New(Config{}).cfg.SPIFFS)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.read()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func assertCloudRejected(t *testing.T, c *cloud.Cloud, op, code string) {
	t.Helper()
	for _, e := range c.Events() {
		if e.Op == op && e.Rejection != nil && e.Rejection.ErrorCode == code {
			return
		}
	}
	t.Errorf("cloud events show no %s rejected with %s: %+v", op, code, c.Events())
}

// waitCloudEvent waits for the cloud to log a transport failure: the server
// goroutine logs it after the board has already seen the alert.
func waitCloudEvent(t *testing.T, c *cloud.Cloud, sub string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		for _, e := range c.Events() {
			if strings.Contains(e.Err, sub) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Errorf("no cloud event with %q: %+v", sub, c.Events())
}

func parseCert(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(p)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func must2(a, b []byte, err error) ([]byte, []byte) {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return a, b
}

func TestBootLogReadsAppDescriptor(t *testing.T) {
	chip, err := firmware.ChipByName("esp32s3")
	if err != nil {
		t.Fatal(err)
	}
	img, err := firmware.BuildApp(firmware.AppSpec{Chip: chip, Version: "2.3.4", ProjectName: "fct-test", IDFVersion: "v5.3.1"})
	if err != nil {
		t.Fatal(err)
	}
	l := newLine(t)
	b := newFakeBoard(t, 13, l.factory("FL-0013"))
	if err := b.flash.Program(0x10000, img); err != nil {
		t.Fatal(err)
	}
	app := New(Config{RootCAPEM: l.cloud.RootCAPEM(), StartupLog: true})
	tr := b.boot(app).run(l.now(), selftest.Start{})
	if tr.hello.Firmware != "2.3.4" || tr.hello.Project != "fct-test" || tr.hello.IDF != "v5.3.1" {
		t.Fatalf("hello %+v", tr.hello)
	}
	want := []string{"cpu_start: Pro cpu start user code", "app_init: App version:      2.3.4", "app_init: ESP-IDF:          v5.3.1", "spi_flash: detected chip: gd", "main_task: Calling app_main()"}
	log := strings.Join(tr.plain, "\n")
	for _, w := range want {
		if !strings.Contains(log, w) {
			t.Errorf("boot log lacks %q", w)
		}
	}
}
