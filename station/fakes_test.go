package station

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fleetline/batch"
	"fleetline/firmware/selftest"
	"fleetline/flasher/portio"
)

// ---- clock ----

// fakeClock advances virtual time on every Sleep; Sleep itself yields for a
// real instant so polling loops do not spin.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(200 * time.Microsecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// ---- cloud CA ----

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t testing.TB, cn string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: t0.Add(-24 * time.Hour),
		NotAfter: t0.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return &testCA{cert: c, key: key, pool: pool}
}

var serialCounter atomic.Int64

// issue signs a device certificate for pub; returns PEM and the SPKI hash.
func (ca *testCA) issue(pub *ecdsa.PublicKey, cn string, nb, na time.Time, serial int64) (string, string) {
	if serial == 0 {
		serial = 1000 + serialCounter.Add(1)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: nb, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	c, _ := x509.ParseCertificate(der)
	h := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), hex.EncodeToString(h[:])
}

// ---- boards ----

// firmware says how a fake board's factory app behaves.
type fwSpec struct {
	helloMAC, helloSN string // override what hello reports
	tests             []selftest.Test
	result            *selftest.ProvResult // a rejected provisioning
	leakKey           bool
	skipErase         bool
	noHello           bool
	removeAfterHello  bool
	ca                *testCA // signer of the device cert (default the line's)
	serial            int64   // fixed device-cert serial (duplicate tests)
	thing             string  // override the thing name
	verdictFail       string
	version           string
	unknownMsg        string // a well-formed protocol line of a type the station does not know
}

type fakeBoard struct {
	info ChipInfo
	fw   fwSpec
	line *fakeLine

	mu         sync.Mutex
	writeFails int // transient write failures left
	writeBlock chan struct{}
	nvsSN      string
	used       bool
	writes     int
	certPEM    string // device cert held after provisioning
	certSHA    string
	thing      string
}

func (b *fakeBoard) Info() ChipInfo { return b.info }

func (b *fakeBoard) Write(ctx context.Context, regions []Region, progress Progress) (WriteReport, error) {
	b.mu.Lock()
	b.used = true
	b.writes++
	block := b.writeBlock
	fails := b.writeFails
	if fails > 0 {
		b.writeFails--
	}
	b.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return WriteReport{}, ctx.Err()
		}
	}
	var rep WriteReport
	for _, r := range regions {
		for done := int64(0); done <= int64(len(r.Data)); done += 4096 {
			progress(r.Name, done, int64(len(r.Data)))
		}
		rep.Written = append(rep.Written, r.Name)
		rep.Bytes += int64(len(r.Data))
		if r.Name == "fctry" {
			b.mu.Lock()
			b.nvsSN = strings.TrimPrefix(string(r.Data), "SN=")
			b.mu.Unlock()
		}
	}
	if fails > 0 {
		return rep, fail(StepVerify, ReasonMD5Mismatch, nil, "MD5 of app differs")
	}
	return rep, nil
}

func (b *fakeBoard) ReadFlash(ctx context.Context, off, size uint32) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used = true
	return []byte("SN=" + b.nvsSN), nil
}

func (b *fakeBoard) BootApp(ctx context.Context, baud int) (Console, error) {
	b.mu.Lock()
	b.used = true
	b.mu.Unlock()
	c := &fakeConsole{b: b, out: make(chan string, 64), closed: make(chan struct{})}
	if !b.fw.noHello {
		c.out <- c.enc(c.hello())
	}
	return c, nil
}

func (b *fakeBoard) Close() error {
	b.mu.Lock()
	unused := !b.used
	b.used = false
	b.mu.Unlock()
	if unused {
		b.line.declined(b)
	}
	return nil
}

// fakeConsole plays the factory firmware's side of the first boot.
type fakeConsole struct {
	b      *fakeBoard
	out    chan string
	closed chan struct{}
	once   sync.Once
}

func (c *fakeConsole) enc(m selftest.Message) string {
	l, err := selftest.Encode(m)
	if err != nil {
		panic(err)
	}
	return strings.TrimSuffix(string(l), "\n")
}

func (c *fakeConsole) hello() selftest.Hello {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	h := selftest.Hello{Firmware: first(b.fw.version, "1.0.0"), Chip: b.info.Chip, MAC: first(b.fw.helloMAC, b.info.MAC),
		SN: first(b.fw.helloSN, b.nvsSN), Template: "T", Mode: selftest.ModeNormal}
	if b.certPEM != "" {
		h.Mode, h.ThingName, h.CertSHA256 = selftest.ModeRetest, b.thing, b.certSHA
	}
	return h
}

func (c *fakeConsole) ReadLine(ctx context.Context) (string, error) {
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-c.closed:
		return "", portio.ErrClosed
	case l, ok := <-c.out:
		if !ok {
			return "", fmt.Errorf("console: %w", portio.ErrClosed)
		}
		return l, nil
	}
}

func (c *fakeConsole) WriteLine(ctx context.Context, line []byte) error {
	m, err := selftest.DecodeLine(line)
	if err != nil {
		return err
	}
	switch m.(type) {
	case selftest.Start:
		go c.script(false)
	case selftest.Retest:
		go c.script(true)
	}
	return nil
}

func (c *fakeConsole) send(m selftest.Message) bool {
	select {
	case c.out <- c.enc(m):
		return true
	case <-c.closed:
		return false
	}
}

func (c *fakeConsole) script(retest bool) {
	b := c.b
	fw := b.fw
	if fw.removeAfterHello {
		close(c.out)
		return
	}
	c.send(selftest.Clock{UnixMillis: t0.UnixMilli()})
	tests := fw.tests
	if tests == nil {
		tests = []selftest.Test{{Name: "vdd", Value: 3.3, Unit: "V", Low: 3.1, High: 3.5, Pass: true}}
	}
	for _, t := range tests {
		c.send(t)
	}
	if fw.unknownMsg != "" {
		c.out <- fmt.Sprintf("@FCT1 %s *%08x", fw.unknownMsg, selftest.Checksum([]byte(fw.unknownMsg)))
	}
	if fw.leakKey {
		c.out <- "-----BEGIN " + "EC PRIVATE KEY-----"
	}
	if retest {
		b.mu.Lock()
		cert := b.certPEM
		b.mu.Unlock()
		c.send(selftest.Cert{PEM: cert})
		c.send(selftest.Verdict{Pass: fw.verdictFail == "", Reason: fw.verdictFail})
		return
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := fw.ca
	if ca == nil {
		ca = b.line.ca
	}
	b.mu.Lock()
	sn := b.nvsSN
	b.mu.Unlock()
	thing := first(fw.thing, "thing-"+sn)
	certPEM, pub := ca.issue(&key.PublicKey, thing, t0.Add(-time.Minute), t0.Add(365*24*time.Hour), fw.serial)
	c.send(selftest.Prov{Step: selftest.StepKeyGenerated, PublicKeySHA256: pub})
	c.send(selftest.Prov{Step: selftest.StepCSRCreated})
	if fw.result != nil {
		c.send(*fw.result)
		c.send(selftest.Verdict{Pass: false, Reason: "provisioning"})
		return
	}
	c.send(selftest.Prov{Step: selftest.StepCertReceived, CertificateID: "cert-" + sn})
	c.send(selftest.Prov{Step: selftest.StepThingRegistered, ThingName: thing})
	if !fw.skipErase {
		c.send(selftest.Prov{Step: selftest.StepClaimErased})
	}
	c.send(selftest.Cert{CertificateID: "cert-" + sn, PEM: certPEM})
	c.send(selftest.ProvResult{OK: true, ThingName: thing, CertificateID: "cert-" + sn})
	blk, _ := pem.Decode([]byte(certPEM))
	sum := sha256.Sum256(blk.Bytes)
	b.mu.Lock()
	b.certPEM, b.certSHA, b.thing = certPEM, hex.EncodeToString(sum[:]), thing
	b.mu.Unlock()
	c.send(selftest.Verdict{Pass: fw.verdictFail == "", Reason: fw.verdictFail})
}

func (c *fakeConsole) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// ---- line ----

// fakeLine is a set of slots, each with a queue of boards the "operator"
// loads one after the other: when the engine connects to a board and
// closes it without using it (it is done with it), the next board goes in.
type fakeLine struct {
	ca      *testCA
	mu      sync.Mutex
	slots   map[string][]*fakeBoard
	fails   map[string]int // connect failures (no sync) left per slot
	connect atomic.Int64
	sticky  bool // boards stay in their slot: the operator swaps nothing
}

func newFakeLine(t testing.TB) *fakeLine {
	return &fakeLine{ca: newTestCA(t, "line CA"), slots: map[string][]*fakeBoard{}, fails: map[string]int{}}
}

var macCounter atomic.Int64

// add loads boards with the given firmware into slot and returns them.
func (l *fakeLine) add(slot string, fws ...fwSpec) []*fakeBoard {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*fakeBoard
	for _, fw := range fws {
		n := macCounter.Add(1)
		b := &fakeBoard{info: ChipInfo{Chip: "esp32", Revision: 300, MAC: fmt.Sprintf("24:0a:c4:00:%02x:%02x", n>>8&0xff, n&0xff), FlashSize: 4 << 20}, fw: fw, line: l}
		l.slots[slot] = append(l.slots[slot], b)
		out = append(out, b)
	}
	return out
}

func (l *fakeLine) Connect(ctx context.Context, slot Slot, baud int) (Board, error) {
	l.connect.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails[slot.Name] > 0 {
		l.fails[slot.Name]--
		return nil, fail(StepConnect, ReasonNoSync, nil, "no answer to SYNC")
	}
	q := l.slots[slot.Name]
	if len(q) == 0 {
		return nil, fmt.Errorf("open %s: %w", slot.Address, ErrNoBoard)
	}
	return q[0], nil
}

func (l *fakeLine) declined(b *fakeBoard) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sticky {
		return
	}
	for name, q := range l.slots {
		if len(q) > 0 && q[0] == b {
			l.slots[name] = q[1:]
		}
	}
}

// ---- store ----

type fakeAttempt struct {
	info     AttemptInfo
	steps    []StepEntry
	prov     *Provisioning
	outcome  *Outcome
	finished bool
}

type fakeStore struct {
	mu       sync.Mutex
	next     uint64
	resv     map[string]string // mac -> SN
	batchOf  map[string]string // SN -> batch
	conf     map[string]bool
	attempts []*fakeAttempt
	failOn   string // method name to fail
	failN    int    // fail failOn this many times, then work (0: always)
	writes   int    // FinishAttempt and FinishAndConfirm calls
}

func newFakeStore() *fakeStore {
	return &fakeStore{next: 1, resv: map[string]string{}, batchOf: map[string]string{}, conf: map[string]bool{}}
}

var errFakeDisk = errors.New("disk I/O error")

func (s *fakeStore) fails(m string) error {
	if s.failOn == m {
		if s.failN > 0 {
			if s.failN--; s.failN == 0 {
				s.failOn = ""
			}
		}
		return errFakeDisk
	}
	return nil
}

// ReserveAndStart fails, keeping nothing, where Reserve or StartAttempt
// is set to fail.
func (s *fakeStore) ReserveAndStart(_ context.Context, a AttemptInfo) (string, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fails("Reserve"); err != nil {
		return "", 0, err
	}
	if err := s.fails("StartAttempt"); err != nil {
		return "", 0, err
	}
	sn, ok := s.resv[a.MAC]
	if !ok {
		sn = fmt.Sprintf("SN%04d", s.next)
		s.next++
		s.resv[a.MAC], s.batchOf[sn] = sn, a.Batch
	}
	a.SN = sn
	s.attempts = append(s.attempts, &fakeAttempt{info: a})
	return sn, int64(len(s.attempts)), nil
}

func (s *fakeStore) StartAttempt(_ context.Context, a AttemptInfo) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fails("StartAttempt"); err != nil {
		return 0, err
	}
	s.attempts = append(s.attempts, &fakeAttempt{info: a})
	return int64(len(s.attempts)), nil
}

func (s *fakeStore) att(id int64) *fakeAttempt { return s.attempts[id-1] }

// refuseKeys refuses what the audit log refuses: a private key anywhere.
func refuseKeys(steps []StepEntry, msg string) error {
	if strings.Contains(strings.ToUpper(msg), "PRIVATE KEY") {
		return errors.New("refusing to record a private key")
	}
	for _, st := range steps {
		if strings.Contains(strings.ToUpper(st.Detail), "PRIVATE KEY") {
			return errors.New("refusing to record a private key")
		}
	}
	return nil
}

func (s *fakeStore) FinishAttempt(_ context.Context, id int64, steps []StepEntry, p *Provisioning, o Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finish(id, steps, p, o, "")
}

// FinishAndConfirm fails, keeping nothing, where FinishAttempt or Confirm
// is set to fail.
func (s *fakeStore) FinishAndConfirm(_ context.Context, id int64, steps []StepEntry, p *Provisioning, o Outcome, _, sn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !o.Passed {
		return errors.New("confirming the SN of a failed attempt")
	}
	if p != nil {
		mac := s.att(id).info.MAC
		for _, a := range s.attempts {
			if a.prov != nil && a.info.MAC != mac && (a.prov.PublicKeySHA256 == p.PublicKeySHA256 || p.CertSerial != "" && a.prov.CertSerial == p.CertSerial) {
				s.writes++
				return &DuplicateKeyError{Owner: a.info.SN + " (" + a.info.MAC + ")", Err: errors.New("fake: shared key")}
			}
		}
	}
	return s.finish(id, steps, p, o, sn)
}

// finish closes an attempt and, when sn is not "", confirms it.
func (s *fakeStore) finish(id int64, steps []StepEntry, p *Provisioning, o Outcome, sn string) error {
	s.writes++
	if err := s.fails("FinishAttempt"); err != nil {
		return err
	}
	if sn != "" {
		if err := s.fails("Confirm"); err != nil {
			return err
		}
	}
	a := s.att(id)
	if a.finished {
		return errors.New("attempt finished twice")
	}
	if err := refuseKeys(steps, o.Message); err != nil {
		return err
	}
	a.steps = append(a.steps, steps...)
	if p != nil {
		cp := *p
		a.prov = &cp
	}
	a.finished, a.outcome = true, &o
	if sn != "" {
		s.conf[sn] = true
	}
	return nil
}

func (s *fakeStore) UnitByMAC(_ context.Context, mac string) (*Unit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sn, ok := s.resv[mac]
	if !ok {
		return nil, ErrUnknownUnit
	}
	u := &Unit{SN: sn, MAC: mac, Batch: s.batchOf[sn], Confirmed: s.conf[sn]}
	for _, a := range s.attempts {
		if a.info.SN == sn && a.prov != nil && a.outcome != nil && a.outcome.Passed && !a.info.Retest {
			u.ThingName, u.CertSHA256, u.Firmware = a.prov.ThingName, a.prov.CertSHA256, a.prov.Firmware
		}
	}
	return u, nil
}

func (s *fakeStore) Counts(_ context.Context, b string) (batch.Counts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c batch.Counts
	last := map[string]*fakeAttempt{}
	firstOf := map[string]*fakeAttempt{}
	var order []string
	for _, a := range s.attempts {
		if a.info.Batch != b || a.info.Retest || !a.finished {
			continue
		}
		c.Attempts++
		if _, ok := firstOf[a.info.SN]; !ok {
			firstOf[a.info.SN] = a
			order = append(order, a.info.SN)
		}
		last[a.info.SN] = a
		if c.First.IsZero() {
			c.First = a.info.Started
		}
		c.Last = a.outcome.Finished
	}
	for _, sn := range order {
		c.Tried++
		if last[sn].outcome.Passed {
			c.Passed++
		} else {
			c.Failed++
		}
		if firstOf[sn].outcome.Passed {
			c.FirstPassed++
		}
	}
	return c, nil
}

// checkRecorded asserts the store's invariant: every reserved SN has an
// attempt, every attempt is finished, confirmed SNs passed.
func (s *fakeStore) checkRecorded(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	has := map[string]bool{}
	for i, a := range s.attempts {
		has[a.info.SN] = true
		if !a.finished {
			t.Errorf("attempt %d (SN %s) never finished", i+1, a.info.SN)
		}
	}
	for mac, sn := range s.resv {
		if !has[sn] {
			t.Errorf("SN %s reserved for %s without an attempt record", sn, mac)
		}
	}
}

// outcomes lists attempts as "SN:reason" ("SN:pass").
func (s *fakeStore) outcomes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.attempts {
		r := "open"
		if a.outcome != nil {
			r = first(a.outcome.Reason, "pass")
		}
		out = append(out, a.info.SN+":"+r)
	}
	return out
}
