package station

import "testing"

// TestLineSPIFFSLayout builds a board with its factory data as SPIFFS files
// (firmware that reads its claim credentials from a filesystem), then
// re-tests it reading the partition back: the provisioning files are there
// with the SN, and the claim certificate and key files are gone.
func TestLineSPIFFSLayout(t *testing.T) {
	v := newVLine(t, vlineOpts{boards: 1, extra: `[factory]
format = "spiffs"
partition = "storage"
obj_name_len = 40
`})
	eng, st, setup := v.engine(t, ModeBuild, func(c *Config) { c.Count = 1 })
	sum, evs := v.run(t, eng)
	if sum.RunPassed != 1 {
		for _, r := range unitResults(evs) {
			t.Logf("%+v", r)
		}
		t.Fatalf("build %+v", sum)
	}
	cfg := setup.Config
	cfg.Mode, cfg.Count, cfg.ReadFactory, cfg.PollInterval = ModeRetest, 1, true, eng.Config().PollInterval
	e, err := New(cfg, Deps{Connector: &FlasherConnector{Attempts: 2}, Store: AuditStore{S: st}})
	must(t, err)
	_, evs = v.run(t, e)
	res := unitResults(evs)
	if len(res) != 1 || !res[0].Passed || !res[0].Retest {
		t.Fatalf("retest %+v", res)
	}
}
