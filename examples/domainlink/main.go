// Command domainlink links an internet domain to a Microsoft 365 tenant end
// to end, offline: it starts the SDK's Microsoft 365 emulator and a local
// BIND 9 name server holding the domain's zone, then adds the domain to the
// tenant through the Graph driver, publishes the verification record in the
// zone over RFC 2136 with a TSIG key, waits until the tenant verifies the
// domain (the emulator looks the record up in that BIND), publishes the
// service records the tenant reports (MX, SPF, autodiscover, SRV, ...),
// checks them in live DNS and makes the domain the default one.
//
//	go run ./examples/domainlink                  # the zone is written over RFC 2136
//	go run ./examples/domainlink -zone none       # no zone driver: NewDNSRecords_(n).txt
//
// With -zone none the SDK writes the records to a NewDNSRecords_(n).txt
// file, as the Essentials wizard did when it did not manage the domain's
// DNS, and waits while the administrator publishes them (the program
// prints an nsupdate command for its local BIND).
//
// It needs the bind9 package (/usr/sbin/named); nothing else is configured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/essentials365/sdk/domains"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/backend/rfc2136"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/internal/bindserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		log.Fatal(err)
	}
}

// admin stands for the administrator who publishes a records file by hand;
// nil prints the instructions and waits.
type admin func(ctx context.Context, dns *bindserver.Server, recordsFile string) error

func run(ctx context.Context, args []string, w io.Writer, publishByHand admin) error {
	fs := flag.NewFlagSet("domainlink", flag.ContinueOnError)
	name := fs.String("domain", "fabrikam.com", "the domain to link")
	zoneMode := fs.String("zone", "bind", "bind: the SDK writes the zone over RFC 2136; none: no zone driver, a records file")
	recordsDir := fs.String("records-dir", "", "where NewDNSRecords_(n).txt is written (default: a temporary directory)")
	maxWait := fs.Duration("max-wait", 5*time.Minute, "how long to wait for verification")
	poll := fs.Duration("poll", time.Second, "first wait between verification attempts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *zoneMode != "bind" && *zoneMode != "none" {
		return fmt.Errorf("-zone is bind or none, not %q", *zoneMode)
	}
	if !bindserver.Available("") {
		return errors.New("BIND 9 is not installed (" + bindserver.DefaultNamed + "); install the bind9 package")
	}
	dir, err := os.MkdirTemp("", "domainlink-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *recordsDir == "" {
		*recordsDir = dir
	}

	// The domain's DNS: a local BIND with the zone, updates signed by a
	// TSIG key it generates.
	dns, err := bindserver.Start(ctx, bindserver.Options{Dir: filepath.Join(dir, "bind")}, *name)
	if err != nil {
		return err
	}
	defer dns.Stop()
	fmt.Fprintf(w, "DNS: BIND on %s serving %s (TSIG key %s)\n", dns.Addr, *name, strings.TrimSuffix(dns.KeyName, "."))

	// Microsoft 365: the emulator over a memory tenant; verification looks
	// the record up in the BIND above, as Microsoft looks in public DNS.
	graphURL, stopGraph, err := startEmulator(dns.Addr)
	if err != nil {
		return err
	}
	defer stopGraph()
	tenant, err := graphtenant.New(graphtenant.Config{Credential: graphtenant.StaticToken("emulator"), BaseURL: graphURL})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Microsoft 365: emulator at %s\n\n", graphURL)

	opts := &domains.Options{RecordsDir: *recordsDir, CheckServer: dns.Addr, PollInterval: *poll, MaxPollInterval: 10 * *poll, MaxWait: *maxWait}
	if *zoneMode == "bind" {
		zone, err := rfc2136.New(rfc2136.Config{Server: dns.Addr, Zone: *name, KeyName: dns.KeyName, KeyAlgorithm: dns.KeyAlgorithm, KeySecret: dns.KeySecret}, nil)
		if err != nil {
			return err
		}
		opts.Zone = zone
	}
	svc, err := domains.New(tenant, opts)
	if err != nil {
		return err
	}
	return link(ctx, w, svc, dns, *name, publishByHand)
}

func link(ctx context.Context, w io.Writer, svc *domains.Service, dns *bindserver.Server, name string, publishByHand admin) error {
	plan, err := svc.PlanLink(ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Plan for %s: %v (records go to the %s)\n", plan.Domain.Name, plan.Steps, plan.Publish)
	for _, warning := range plan.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warning)
	}
	for _, p := range plan.Problems {
		fmt.Fprintf(w, "  problem at %s (%s): %s\n", p.Name, p.Reason, p.Detail)
	}
	start := time.Now()
	res, err := svc.ApplyLink(ctx, plan, &domains.ApplyOptions{Wait: plan.Publish == domains.PublishZone, Progress: progress(w)})
	if err != nil {
		return err
	}
	if !res.Verified {
		file := res.RecordsFiles[len(res.RecordsFiles)-1]
		fmt.Fprintf(w, "\nNo zone driver: the verification record is in %s\n", file)
		fmt.Fprintf(w, "Next: %s\n", res.Next)
		if publishByHand == nil {
			fmt.Fprintf(w, "Publish it, e.g.: nsupdate -y hmac-sha256:%s:<secret> (server %s), while this program waits.\n",
				strings.TrimSuffix(dns.KeyName, "."), strings.Replace(dns.Addr, ":", " ", 1))
		} else if err := publishByHand(ctx, dns, file); err != nil {
			return err
		}
		if _, err := svc.WaitVerified(ctx, name, progress(w)); err != nil {
			return err
		}
		verifiedAfter := time.Since(start)
		if res, err = svc.ApplyLink(ctx, plan, nil); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nVerified %s after %s.\n", name, verifiedAfter.Round(time.Millisecond))
	} else {
		fmt.Fprintf(w, "\nVerified %s after %s.\n", name, time.Since(start).Round(time.Millisecond))
	}
	report(w, res)
	if _, err := svc.SetDefault(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s is now the default domain: new online IDs are proposed on it.\n", name)
	fmt.Fprintf(w, "Note: %s\n", res.Advice)
	return nil
}

func progress(w io.Writer) func(domains.WaitProgress) {
	return func(p domains.WaitProgress) {
		fmt.Fprintf(w, "  waiting for verification (round %d, %s): %s; next try in %s\n", p.Round, p.Elapsed.Round(time.Millisecond), p.Missing, p.Next)
	}
}

func report(w io.Writer, res *domains.LinkResult) {
	if len(res.Published) > 0 {
		fmt.Fprintf(w, "\nWritten to the zone:\n")
		for _, r := range res.Published {
			fmt.Fprintf(w, "  + %s\n", r)
		}
		for _, r := range res.Replaced {
			fmt.Fprintf(w, "  - %s (replaced)\n", r)
		}
	}
	for _, f := range res.RecordsFiles {
		fmt.Fprintf(w, "Records file: %s\n", f)
	}
	if res.Check != nil {
		fmt.Fprintf(w, "\nLive check (%d queries):\n", res.Check.Queries)
		for _, v := range res.Check.Verdicts {
			mark := "ok"
			if !v.OK {
				mark = "NOT OK"
			}
			fmt.Fprintf(w, "  %-13s %-6s %s\n", v.Name, mark, v.Summary)
		}
	}
	if res.Next != "" {
		fmt.Fprintf(w, "Next: %s\n", res.Next)
	}
}

// startEmulator serves the emulator over a memory tenant on loopback.
func startEmulator(dnsServer string) (string, func(), error) {
	tn := memory.NewTenant(&memory.TenantOptions{DisplayName: "Fabrikam"})
	emu := m365emulator.New(tn, &m365emulator.Options{DNSServer: dnsServer})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String() + "/v1.0", func() { _ = srv.Close() }, nil
}

// Compile-time check: the Graph driver administers domains.
var _ backend.DomainAdmin = (*graphtenant.Tenant)(nil)
