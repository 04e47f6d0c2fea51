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
