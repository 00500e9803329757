// Command dnsrecords prints the DNS records a custom domain needs for
// Microsoft 365, writes them to NewDNSRecords_(n).txt as the Windows Server
// Essentials wizard did, and can check them against the live DNS.
//
// Usage:
//
//	go run ./examples/dnsrecords -domain contoso.com
//	go run ./examples/dnsrecords -domain contoso.com -format zone
//	go run ./examples/dnsrecords -domain contoso.com -check -server 127.0.0.1:5353
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/essentials365/sdk/dnsrecords"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.Is(err, errCheckFailed):
		os.Exit(3)
	case err != nil:
		fmt.Fprintln(os.Stderr, "dnsrecords:", err)
		os.Exit(1)
	}
}

// errCheckFailed is returned when the live check finds a problem.
var errCheckFailed = errors.New("the DNS check found problems")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dnsrecords", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		domain   = fs.String("domain", "", "the custom domain, e.g. contoso.com (required)")
		format   = fs.String("format", "text", "output format: text, zone, csv or json")
		out      = fs.String("out", ".", "directory for NewDNSRecords_(n).txt; empty to skip the file")
		policy   = fs.String("policy", "modern", "domain policy: essentials (second-level domains only) or modern (subdomains too)")
		services = fs.String("services", "", "comma-separated services (verification,mail,federation,skype-legacy,mdm,dkim,dmarc); empty for all")
		token    = fs.String("token", "", "the domain's verification token (MS=ms…), from the admin center")
		mx       = fs.String("mx", "", "the MX host the admin center shows, e.g. contoso-com.mail.protection.outlook.com")
		initial  = fs.String("initial-domain", "", "the tenant's initial domain, e.g. contoso.onmicrosoft.com")
		spf      = fs.String("existing-spf", "", "the SPF record the domain publishes today, to merge with Microsoft's")
		check    = fs.Bool("check", false, "check the records against the live DNS")
		server   = fs.String("server", "", "DNS server to check against, host:port; default: the domain's name servers")
		verified = fs.Bool("verified", false, "the domain is already verified (report a leftover verification MX)")
		timeout  = fs.Duration("timeout", 2*time.Second, "timeout of each DNS query")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *domain == "" {
		fs.Usage()
		return errors.New("-domain is required")
	}
	pol, err := dnsrecords.ParsePolicy(*policy)
	if err != nil {
		return err
	}
	f, err := dnsrecords.ParseFormat(*format)
	if err != nil {
		return err
	}
	d, err := dnsrecords.ParseDomain(*domain, pol)
	if err != nil {
		return err
	}
	opts := &dnsrecords.Options{VerificationToken: *token, MailExchange: *mx, InitialDomain: *initial}
	if *spf != "" {
		opts.ExistingSPF = []string{*spf}
	}
	if *services != "" {
		for _, s := range strings.Split(*services, ",") {
			svc, err := dnsrecords.ParseService(s)
			if err != nil {
				return err
			}
			opts.Services = append(opts.Services, svc)
		}
	}
	set, err := dnsrecords.Generate(d, opts)
	if err != nil {
		return err
	}
	if err := set.Render(stdout, f); err != nil {
		return err
	}
	if *out != "" {
		path, err := dnsrecords.WriteFile(*out, set, nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(stderr, "wrote", path)
	}
	if !*check {
		return nil
	}
	rep, err := dnsrecords.Check(ctx, set, &dnsrecords.CheckOptions{Server: *server, Timeout: *timeout, Verified: *verified})
	if err != nil {
		return err
	}
	printReport(stdout, rep)
	if !rep.OK() {
		return errCheckFailed
	}
	return nil
}

func printReport(w io.Writer, rep *dnsrecords.Report) {
	fmt.Fprintf(w, "\nDNS check of %s against %s (%d queries)\n\n", rep.Domain, strings.Join(rep.Servers, ", "), rep.Queries)
	for _, r := range rep.Results {
		fmt.Fprintf(w, "  %-11s %-5s %s\n", r.Status, r.Record.Type, r.Record.Name)
		for _, f := range r.Findings {
			printFinding(w, f)
		}
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintln(w, "\nOther findings:")
		for _, f := range rep.Findings {
			printFinding(w, f)
		}
	}
	fmt.Fprintln(w, "\nVerdicts:")
	for _, v := range rep.Verdicts {
		mark := "ok  "
		if !v.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-13s %s\n", mark, v.Name, v.Summary)
	}
}

func printFinding(w io.Writer, f dnsrecords.Finding) {
	fmt.Fprintf(w, "      [%s] %s: %s\n", f.Severity, f.Kind, f.Detail)
	if f.Severity != dnsrecords.SeverityInfo {
		fmt.Fprintf(w, "        why: %s\n        fix: %s\n", f.Explanation, f.Fix)
	}
}
