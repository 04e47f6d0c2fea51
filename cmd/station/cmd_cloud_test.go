package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"fleetline/sim/cloud"
)

func TestCloudCommand(t *testing.T) {
	dir := t.TempDir()
	for run := 1; run <= 2; run++ {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- runCloud(ctx, []string{"--dir", dir, "--listen", "127.0.0.1:0"}, pw, io.Discard)
			pw.Close()
		}()
		var banner strings.Builder
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			banner.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "serving") {
				break
			}
		}
		cancel()
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		if err := <-done; err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		for _, want := range []string{"endpoint     127.0.0.1:", "claim_cert,file,binary,", "prov_template,data,string,FleetlineProvisioning"} {
			if !strings.Contains(banner.String(), want) {
				t.Errorf("run %d: banner lacks %q:\n%s", run, want, banner.String())
			}
		}
		if strings.Contains(banner.String(), "PRIVATE KEY") {
			t.Fatal("banner shows key material")
		}
	}
	for _, f := range []string{"root-ca.pem", "root-ca.key", cloudClaimCert, cloudClaimKey} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if (strings.HasSuffix(f, ".key") || f == cloudClaimKey) && runtime.GOOS != "windows" {
			if st.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s is readable by others: %v", f, st.Mode())
			}
		}
	}
	if err := runCloud(context.Background(), nil, io.Discard, io.Discard); err == nil {
		t.Error("no --dir accepted")
	}
}

func TestCloudArgs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []cmdCase{
		{name: "no dir", args: []string{"cloud"}, code: 2, stderr: []string{"usage: station cloud --dir DIR"}},
		{name: "stray argument", args: []string{"cloud", "--dir", dir, "now"}, code: 2, stderr: []string{"usage:"}},
		{name: "unknown flag", args: []string{"cloud", "--port", "8883"}, code: 2, stderr: []string{"-port"}},
		{name: "bad validity", args: []string{"cloud", "--dir", dir, "--claim-validity", "soon"}, code: 2, stderr: []string{"-claim-validity"}},
		{name: "bad template name", args: []string{"cloud", "--dir", t.TempDir(), "--template", "no spaces"}, code: 2,
			stderr: []string{`"no spaces"`, "[0-9A-Za-z_-]", "check --template"}},
		{name: "undeclared parameter", args: []string{"cloud", "--dir", t.TempDir(), "--thing-name", "{Colour}"}, code: 2,
			stderr: []string{"Colour"}},
		{name: "dir is a file", args: []string{"cloud", "--dir", file}, code: 1, stderr: []string{file}},
		{name: "bad listen address", args: []string{"cloud", "--dir", t.TempDir(), "--listen", "nowhere"}, code: 1, stderr: []string{"nowhere"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr := tc.check(t)
			if strings.Contains(stdout+stderr, "PRIVATE KEY") {
				t.Fatal("output shows key material")
			}
		})
	}
}

func TestFormatCloudEvent(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8e6, time.UTC)
	tests := []struct {
		e    cloud.Event
		want string
	}{
		{cloud.Event{Time: at, Op: "connect", ClientID: "FL-1"}, "05:06:07.008 connect                  client=FL-1 ok"},
		{cloud.Event{Time: at, Op: "RegisterThing", Rejection: &cloud.Rejection{StatusCode: 400, ErrorCode: "InvalidParameters", ErrorMessage: "no SerialNumber"}},
			"05:06:07.008 RegisterThing            rejected 400 InvalidParameters: no SerialNumber"},
		{cloud.Event{Time: at, Op: "policy", Err: "topic not allowed"}, "05:06:07.008 policy                   failed: topic not allowed"},
	}
	for _, tc := range tests {
		if got := formatCloudEvent(tc.e); got != tc.want {
			t.Errorf("formatCloudEvent(%s) =\n%q, want\n%q", tc.e.Op, got, tc.want)
		}
	}
}
