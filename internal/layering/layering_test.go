package layering

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// rule forbids packages matching from (a path prefix) to depend, directly or
// not, on anything matching one of the to prefixes; except lists importers
// that are allowed anyway.
type rule struct {
	from   string
	to     []string
	except []string
	why    string
}

var rules = []rule{
	{from: "fleetline/", to: []string{"fleetline/cmd/"}, why: "nothing imports a command"},
	{from: "fleetline/", to: []string{"fleetline/ui"}, except: []string{"fleetline/cmd/", "fleetline/ui"}, why: "only commands show the UI"},
	{from: "fleetline/flasher", to: []string{"fleetline/sim/", "fleetline/station", "fleetline/firmware", "fleetline/batch"}, why: "the flasher knows nothing above it"},
	{from: "fleetline/firmware", to: []string{"fleetline/sim/", "fleetline/station", "fleetline/flasher", "fleetline/batch"}, why: "firmware is pure formats"},
	{from: "fleetline/serialno", to: []string{"fleetline/"}, why: "serial numbers are pure logic"},
	{from: "fleetline/station", to: []string{"fleetline/sim/"}, why: "the station never depends on the simulator"},
	{from: "fleetline/batch", to: []string{"fleetline/sim/", "fleetline/station"}, why: "the work order sits below the station"},
	{from: "fleetline/sim/", to: []string{"fleetline/flasher", "fleetline/station", "fleetline/batch"},
		except: []string{}, why: "the simulator shares only the wire format with the client"},
	{from: "fleetline/ui", to: []string{"fleetline/sim/"}, why: "the UI runs on any line, never on the simulator itself"},
}

// directRules are checked on direct imports only. The UI consumes the
// station's events and controls, and package station itself reaches the
// flasher and the audit log, so the UI depends on them through station;
// what it must never do is open a port or the database itself.
var directRules = []rule{
	{from: "fleetline/ui", to: []string{"fleetline/flasher", "fleetline/station/audit", "database/sql", "go.bug.st/serial", "modernc.org/sqlite"}, why: "the UI consumes station events only"},
}

func TestDirectImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "fleetline/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			continue
		}
		for _, r := range directRules {
			if !hasPrefix(fields[0], []string{r.from}) {
				continue
			}
			for _, d := range fields[1:] {
				if hasPrefix(d, r.to) {
					t.Errorf("%s imports %s: %s", fields[0], d, r.why)
				}
			}
		}
	}
}

// allowedSimFlasher are the flasher subpackages the simulator may use: the
// wire format, the port seam and the RFC 2217 server, never the client.
var allowedSimFlasher = []string{"fleetline/flasher/slip", "fleetline/flasher/rom", "fleetline/flasher/portio", "fleetline/flasher/rfc2217"}

func hasPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if s == strings.TrimSuffix(p, "/") || strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// TestOnlySerialportImportsSerial checks direct imports: go.bug.st/serial
// and its enumerator are reached through flasher/serialport alone.
func TestOnlySerialportImportsSerial(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "fleetline/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		fields := strings.Fields(string(line))
		for _, d := range fields[1:] {
			if strings.HasPrefix(d, "go.bug.st/serial") && fields[0] != "fleetline/flasher/serialport" {
				t.Errorf("%s imports %s: only flasher/serialport may", fields[0], d)
			}
		}
	}
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "fleetline/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			continue
		}
		pkg, deps := fields[0], fields[1:]
		for _, r := range rules {
			if !hasPrefix(pkg, []string{r.from}) || hasPrefix(pkg, r.except) {
				continue
			}
			for _, d := range deps {
				if !hasPrefix(d, r.to) {
					continue
				}
				if strings.HasPrefix(r.from, "fleetline/sim/") && hasPrefix(d, allowedSimFlasher) {
					continue
				}
				if d == pkg {
					continue
				}
				t.Errorf("%s depends on %s: %s", pkg, d, r.why)
			}
		}
	}
}
