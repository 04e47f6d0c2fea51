package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fleetline/sim/cloud"
)

func init() {
	register(&command{
		name:    "cloud",
		summary: "run the local fleet-provisioning cloud (MQTT over mutual TLS) for virtual or real boards",
		run:     runCloud,
	})
}

// Claim files the cloud command keeps in its directory.
const (
	cloudClaimCert = "claim-cert.pem"
	cloudClaimKey  = "claim-key.pem"
)

func runCloud(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("cloud", stderr)
	listen := fl.String("listen", "127.0.0.1:8883", "address to serve MQTT over TLS on")
	dir := fl.String("dir", "", "directory for the CA and claim files, kept across runs (required)")
	template := fl.String("template", "FleetlineProvisioning", "provisioning template name")
	thingName := fl.String("thing-name", "{SerialNumber}", "thing-name pattern over template parameters")
	validity := fl.Duration("claim-validity", 30*24*time.Hour, "validity of a newly issued claim certificate")
	hosts := fl.String("hosts", "localhost,127.0.0.1", "comma-separated names and addresses the server certificate covers (add the LAN address for a real board)")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if *dir == "" || fl.NArg() > 0 {
		return usagef("usage: station cloud --dir DIR [--listen ADDR] [--template NAME] [--thing-name PATTERN] [--claim-validity DUR] [--hosts LIST]")
	}
	var out sync.Mutex
	c, err := cloud.New(cloud.Config{
		Dir:   *dir,
		Hosts: strings.Split(*hosts, ","),
		OnEvent: func(e cloud.Event) {
			out.Lock()
			defer out.Unlock()
			fmt.Fprintln(stdout, formatCloudEvent(e))
		},
	})
	if err != nil {
		return err
	}
	err = c.CreateTemplate(cloud.Template{
		Name: *template, Active: true,
		Parameters:       []string{"SerialNumber"},
		ThingNamePattern: *thingName,
		Attributes: map[string]string{
			"serial_number": "{SerialNumber}", "mac": "{MAC}", "manufacturing_date": "{ManufacturingDate}",
			"claim_certificate_serial": "{ClaimCertificateSerial}", "certificate_id": "{AWS::IoT::Certificate::Id}",
		},
	})
	if err != nil {
		return usagef("%v (check --template and --thing-name)", err)
	}
	claim, err := cloudClaim(c, *dir, *template, *validity)
	if err != nil {
		return err
	}
	endpoint, err := c.Start(ctx, *listen)
	if err != nil {
		return err
	}
	out.Lock()
	printCloudBanner(stdout, *dir, endpoint, *template, claim)
	out.Unlock()
	<-ctx.Done()
	_ = c.Close()
	out.Lock()
	defer out.Unlock()
	things := c.Things()
	fmt.Fprintf(stdout, "stopped; %d thing(s) registered this run\n", len(things))
	for _, th := range things {
		fmt.Fprintf(stdout, "  %s  certificate %s\n", th.Name, strings.Join(th.CertificateIDs, ","))
	}
	return nil
}

// cloudClaim registers the claim kept in dir, or issues and writes a new
// one when there is none or it has expired.
func cloudClaim(c *cloud.Cloud, dir, template string, validity time.Duration) (*x509.Certificate, error) {
	certPath, keyPath := filepath.Join(dir, cloudClaimCert), filepath.Join(dir, cloudClaimKey)
	certPEM, err := os.ReadFile(certPath)
	if err == nil {
		if cert, perr := cloudParseCert(certPEM); perr == nil && time.Now().Before(cert.NotAfter) {
			if err := c.RegisterClaim(template, certPEM); err != nil {
				return nil, fmt.Errorf("%s: %w (remove it and its key to issue a new claim)", certPath, err)
			}
			return cert, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read claim: %w", err)
	}
	certPEM, keyPEM, err := c.CreateClaim(template, validity)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("write claim key: %w", err)
	}
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write claim certificate: %w", err)
	}
	return cloudParseCert(certPEM)
}

func cloudParseCert(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func printCloudBanner(w io.Writer, dir, endpoint, template string, claim *x509.Certificate) {
	host, port, _ := net.SplitHostPort(endpoint)
	fmt.Fprintf(w, "local fleet-provisioning cloud: MQTT 3.1.1 over mutual TLS, json topics\n")
	fmt.Fprintf(w, "  endpoint     %s\n", endpoint)
	fmt.Fprintf(w, "  root CA      %s   (the board's trust anchor; device certificates chain to it)\n", filepath.Join(dir, cloud.RootCAFile))
	fmt.Fprintf(w, "  claim cert   %s   (template %s, serial %s, valid until %s)\n", filepath.Join(dir, cloudClaimCert), template, claim.SerialNumber.Text(16), claim.NotAfter.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  claim key    %s\n", filepath.Join(dir, cloudClaimKey))
	fmt.Fprintf(w, "factory NVS for a board (CSV for station nvs generate or nvs_partition_gen.py):\n")
	fmt.Fprintf(w, "  key,type,encoding,value\n  fctry,namespace,,\n")
	fmt.Fprintf(w, "  claim_cert,file,binary,%s\n  claim_key,file,binary,%s\n", filepath.Join(dir, cloudClaimCert), filepath.Join(dir, cloudClaimKey))
	fmt.Fprintf(w, "  serial_no,data,string,<SN>\n  prov_template,data,string,%s\n  iot_endpoint,data,string,%s:%s\n", template, host, port)
	fmt.Fprintf(w, "serving; Ctrl-C stops\n")
}

// formatCloudEvent is one log line; events never carry key material.
func formatCloudEvent(e cloud.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-24s", e.Time.UTC().Format("15:04:05.000"), e.Op)
	if e.ClientID != "" {
		fmt.Fprintf(&b, " client=%s", e.ClientID)
	}
	switch {
	case e.Rejection != nil:
		fmt.Fprintf(&b, " rejected %d %s: %s", e.Rejection.StatusCode, e.Rejection.ErrorCode, e.Rejection.ErrorMessage)
	case e.Err != "":
		fmt.Fprintf(&b, " failed: %s", e.Err)
	default:
		b.WriteString(" ok")
	}
	return b.String()
}
