package layering

import (
	"os/exec"
	"strings"
	"testing"
)

// rule forbids packages under from (a path prefix) to depend on anything
// under one of the to prefixes. except lists importers the rule does not
// apply to; allow lists dependencies it lets through.
type rule struct {
	from   string
	to     []string
	except []string
	allow  []string
	why    string
}

// depRules are checked against every package's whole dependency set.
var depRules = []rule{
	{from: "fleetline/", to: []string{"fleetline/cmd/"}, why: "nothing imports a command"},
	{from: "fleetline/", to: []string{"fleetline/ui"}, except: []string{"fleetline/cmd/", "fleetline/ui"}, why: "only commands show the UI"},
	{from: "fleetline/flasher", to: []string{"fleetline/sim/", "fleetline/station", "fleetline/firmware", "fleetline/batch"}, why: "the flasher knows nothing above it"},
	{from: "fleetline/firmware", to: []string{"fleetline/sim/", "fleetline/station", "fleetline/flasher", "fleetline/batch"}, why: "firmware is pure formats"},
	{from: "fleetline/serialno", to: []string{"fleetline/"}, why: "serial numbers are pure logic"},
	{from: "fleetline/station", to: []string{"fleetline/sim/"}, why: "the station never depends on the simulator"},
	{from: "fleetline/batch", to: []string{"fleetline/sim/", "fleetline/station"}, why: "the work order sits below the station"},
	{from: "fleetline/sim/", to: []string{"fleetline/flasher", "fleetline/station", "fleetline/batch"},
		// The wire format, the port seam and the RFC 2217 server, never the client.
		allow: []string{"fleetline/flasher/slip", "fleetline/flasher/rom", "fleetline/flasher/portio", "fleetline/flasher/rfc2217"},
		why:   "the simulator shares only the wire format with the client"},
	{from: "fleetline/ui", to: []string{"fleetline/sim/"}, why: "the UI runs on any line, never on the simulator itself"},
}

// importRules are checked on direct imports only. The UI consumes the
// station's events and controls, and package station itself reaches the
// flasher and the audit log, so the UI depends on them through station;
// what it must never do is open a port or the database itself.
var importRules = []rule{
	{from: "fleetline/ui", to: []string{"fleetline/flasher", "fleetline/station/audit", "database/sql", "go.bug.st/serial", "modernc.org/sqlite"}, why: "the UI consumes station events only"},
	{from: "fleetline/", to: []string{"go.bug.st/serial"}, except: []string{"fleetline/flasher/serialport"}, why: "only flasher/serialport talks to go.bug.st/serial"},
}

func hasPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if s == strings.TrimSuffix(p, "/") || strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// violations checks a listing of "package dep dep ..." lines against rules.
func violations(listing string, rules []rule) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(listing), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := fields[0]
		for _, r := range rules {
			if !hasPrefix(pkg, []string{r.from}) || hasPrefix(pkg, r.except) {
				continue
			}
			for _, d := range fields[1:] {
				if d != pkg && hasPrefix(d, r.to) && !hasPrefix(d, r.allow) {
					out = append(out, pkg+" depends on "+d+": "+r.why)
				}
			}
		}
	}
	return out
}

func goList(t *testing.T, field string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join ."+field+" \" \"}}", "fleetline/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return string(out)
}

func TestImportRules(t *testing.T) {
	for _, v := range violations(goList(t, "Deps"), depRules) {
		t.Error(v)
	}
	for _, v := range violations(goList(t, "Imports"), importRules) {
		t.Error(v)
	}
}

// TestRulesCatchViolations keeps the checker honest: each listing breaks
// one rule, and the allowances let through only what they name.
func TestRulesCatchViolations(t *testing.T) {
	bad := []struct {
		listing string
		rules   []rule
	}{
		{"fleetline/sim/board fleetline/flasher/rom fleetline/flasher", depRules},
		{"fleetline/station fleetline/sim/line", depRules},
		{"fleetline/serialno fleetline/firmware", depRules},
		{"fleetline/ui fleetline/station/audit", importRules},
		{"fleetline/flasher go.bug.st/serial", importRules},
	}
	for _, b := range bad {
		if got := violations(b.listing, b.rules); len(got) != 1 {
			t.Errorf("%q: %d violations %v, want 1", b.listing, len(got), got)
		}
	}
	good := "fleetline/sim/board fleetline/flasher/rom fleetline/flasher/portio\n" +
		"fleetline/flasher/serialport go.bug.st/serial\nfleetline/cmd/station fleetline/ui"
	if got := violations(good, append(append([]rule{}, depRules...), importRules...)); len(got) != 0 {
		t.Errorf("allowed dependencies flagged: %v", got)
	}
}
