package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"fleetline/station/audit"
)

func init() {
	register(&command{
		name:    "audit",
		summary: "audit log: verify the hash chain, show a unit's history, report or export a batch",
		run:     runAudit,
	})
}

const auditUsage = `usage: station audit verify [--db PATH]
       station audit show   [--db PATH] (--mac MAC | --sn SN) [--json]
       station audit report [--db PATH] --batch ID
       station audit export [--db PATH] --batch ID [--format csv|json] [--out FILE]`

// runAudit dispatches the audit subcommands. All of them open the log
// read-only: nothing here can change the record.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, auditUsage)
		if len(args) == 0 {
			return usagef("audit: want a subcommand")
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	fs := newFlags("audit "+sub, stderr)
	db := fs.String("db", "fleetline.db", "audit log `path`")
	mac := fs.String("mac", "", "show: the board's `MAC`")
	sn := fs.String("sn", "", "show: the board's `SN`")
	asJSON := fs.Bool("json", false, "show: print JSON")
	batch := fs.String("batch", "", "report, export: batch `ID`")
	format := fs.String("format", audit.FormatCSV, "export: csv (RFC 4180) or json (JSON lines)")
	out := fs.String("out", "", "export: write to `FILE` (atomically) instead of stdout")
	fs.Usage = func() { fmt.Fprintln(stderr, auditUsage); fs.PrintDefaults() }
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("audit %s: unexpected arguments %q", sub, fs.Args())
	}
	open := func() (*audit.Store, error) { return audit.Open(*db, audit.Options{ReadOnly: true}) }
	switch sub {
	case "verify":
		s, err := open()
		if err != nil {
			return err
		}
		defer s.Close()
		return auditVerify(ctx, s, stdout)
	case "show":
		if (*mac == "") == (*sn == "") {
			return usagef("audit show: give exactly one of --mac or --sn")
		}
		s, err := open()
		if err != nil {
			return err
		}
		defer s.Close()
		return auditShow(ctx, s, *mac, *sn, *asJSON, stdout)
	case "report":
		if *batch == "" {
			return usagef("audit report: --batch is required")
		}
		s, err := open()
		if err != nil {
			return err
		}
		defer s.Close()
		return auditReport(ctx, s, *batch, stdout)
	case "export":
		if *batch == "" {
			return usagef("audit export: --batch is required")
		}
		if *format != audit.FormatCSV && *format != audit.FormatJSON {
			return usagef("audit export: --format %q: want csv or json", *format)
		}
		s, err := open()
		if err != nil {
			return err
		}
		defer s.Close()
		return auditExport(ctx, s, *batch, *format, *out, stdout)
	}
	return usagef("audit: unknown subcommand %q (verify, show, report, export)", sub)
}

func auditVerify(ctx context.Context, s *audit.Store, stdout io.Writer) error {
	start := time.Now()
	rep, err := s.Verify(ctx)
	if err != nil {
		return err
	}
	if !rep.OK {
		fmt.Fprintf(stdout, "FAILED %s: first bad: %s\n", s.Path(), rep.Bad)
		fmt.Fprintf(stdout, "%d records good before it, head %s\n", rep.Records, rep.Head)
		return &exitError{code: 1}
	}
	fmt.Fprintf(stdout, "ok %s: %d records, head %s (%v)\n", s.Path(), rep.Records, rep.Head, time.Since(start).Round(time.Millisecond))
	return nil
}

func auditShow(ctx context.Context, s *audit.Store, mac, sn string, asJSON bool, stdout io.Writer) error {
	var u audit.Unit
	var err error
	if mac != "" {
		u, err = s.UnitByMAC(ctx, mac)
	} else {
		u, err = s.UnitBySN(ctx, sn)
	}
	if err != nil {
		return err
	}
	hist, err := s.History(ctx, u.ID)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Unit     audit.Unit
			Attempts []audit.AttemptRecord
		}{u, hist})
	}
	fmt.Fprintf(stdout, "unit  %s  SN %s (%s)  batch %s  chip %s %s  flash %s  first seen %s\n",
		u.MAC, orDash(u.SN), orDash(u.State), orDash(u.Batch), orDash(u.Chip), u.Revision, orDash(u.FlashID), isoTime(u.FirstSeen))
	if u.VoidReason != "" {
		fmt.Fprintf(stdout, "voided: %s\n", u.VoidReason)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ATTEMPT\tKIND\tBATCH\tSTATION\tSLOT\tOPERATOR\tSTART\tEND\tOUTCOME\tREASON")
	for _, a := range hist {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Kind, a.Batch, a.Station, orDash(a.Slot), orDash(a.Operator),
			isoTime(a.Start), isoTime(a.End), orDash(a.Outcome), reason(a))
		for _, st := range a.Steps {
			fmt.Fprintf(tw, "\t  step %s\t%s\t%s\t\t\t%s\t%s\t\t%s\n", st.Name, st.Result, measurements(st), isoTime(st.Start), isoTime(st.End), st.Message)
		}
		for _, p := range a.Provisioning {
			fmt.Fprintf(tw, "\t  provisioned\t%s\tcert %s\tkey %s\t\t\t\t\t\n", p.ThingName, short(p.CertSHA256), short(p.PublicKeySHA256))
		}
	}
	return tw.Flush()
}

func reason(a audit.AttemptRecord) string {
	parts := []string{}
	for _, p := range []string{a.ReasonCode, a.ReasonKind, a.Message} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " / ")
}

func measurements(st audit.Step) string {
	var b strings.Builder
	for i, m := range st.Measurements {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%g%s", m.Name, m.Value, m.Unit)
		if !m.Passed {
			b.WriteString("(FAIL)")
		}
	}
	return b.String()
}

func auditReport(ctx context.Context, s *audit.Store, batch string, stdout io.Writer) error {
	p, err := s.BatchProgress(ctx, batch)
	if err != nil {
		return err
	}
	y, err := s.BatchYield(ctx, batch)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "batch %s: %d of %d confirmed, %d remaining; %d reserved, %d voided; %d attempts open\n",
		batch, p.Confirmed, p.Quantity, p.Remaining, p.Reserved, p.Voided, p.InProgress)
	fmt.Fprintf(stdout, "yield: %d units, first pass %d (%.1f%%), final %d (%.1f%%)\n",
		y.Units, y.FirstPass, 100*y.FirstPassRate(), y.Final, 100*y.FinalRate())
	for _, g := range []struct {
		title string
		f     func(context.Context, string) ([]audit.Count, error)
	}{{"failures by reason", s.FailuresByReason}, {"failures by slot", s.FailuresBySlot}, {"failures by hour (UTC)", s.FailuresByHour}} {
		cs, err := g.f(ctx, batch)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			continue
		}
		fmt.Fprintf(stdout, "%s:\n", g.title)
		for _, c := range cs {
			fmt.Fprintf(stdout, "  %-28s %d\n", orDash(c.Key), c.Count)
		}
	}
	dups, err := s.DuplicatePublicKeys(ctx)
	if err != nil {
		return err
	}
	for _, d := range dups {
		fmt.Fprintf(stdout, "DUPLICATE device public key %s on %s\n", short(d.PublicKeySHA256), strings.Join(d.MACs, ", "))
	}
	return nil
}

// auditExport writes to a temporary file beside out and renames it, so a
// failed export never leaves a partial file an MES might pick up.
func auditExport(ctx context.Context, s *audit.Store, batch, format, out string, stdout io.Writer) error {
	if out == "" || out == "-" {
		return s.Export(ctx, stdout, batch, format)
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp*")
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	defer os.Remove(f.Name())
	if err := s.Export(ctx, f, batch, format); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit export %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("audit export %s: %w", out, err)
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return fmt.Errorf("audit export %s: %w", out, err)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func isoTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return orDash(h)
}
