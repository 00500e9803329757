// Command m365emulator serves a demo Microsoft 365 tenant over Microsoft
// Graph v1.0's wire format on loopback, for trying the SDK's Graph driver
// (or curl) without a real tenant:
//
//	go run ./examples/m365emulator -addr 127.0.0.1:8365 -latency 50ms -throttle
//
// With -tls it serves https with a certificate it generates, and prints
// the certificate authority to trust (also written to the -ca-out file);
// -cert and -key serve a certificate of your own instead. Microsoft's
// Graph clients follow only https paging links.
//
// The tenant is Contoso: the initial domain contoso.onmicrosoft.com, the
// verified default domain contoso.com, the unverified domain fabrikam.com,
// Office 365 E3 (ENTERPRISEPACK, 25 seats) and Exchange Online Plan 1
// (EXCHANGESTANDARD, 10 seats), and a dozen users. It lives in memory and
// is gone when the program stops (Ctrl-C).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "m365emulator:", err)
		os.Exit(1)
	}
}

// The demo SKUs, by the product ids Microsoft publishes.
const (
	skuEnterprisePack   = memory.SKUIDEnterprisePack   // ENTERPRISEPACK, Office 365 E3
	skuExchangeStandard = memory.SKUIDExchangeStandard // EXCHANGESTANDARD, Exchange Online (Plan 1)
)

// run parses args, seeds the demo tenant and serves it until ctx is done.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("m365emulator", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8365", "address to listen on")
	latency := fs.Duration("latency", 0, "delay added to every request (e.g. 50ms)")
	throttle := fs.Bool("throttle", false, "enforce Microsoft Graph's identity throttling quotas")
	verbose := fs.Bool("v", false, "log every request")
	conflictsBare := fs.Bool("conflicts-without-details", false, "answer conflicts with the directory's generic message, without ObjectConflict details")
	deltaQualified := fs.Bool("delta-qualified", false, "write delta links to /users/microsoft.graph.delta() instead of /users/delta()")
	bareTypes := fs.Bool("bare-odata-types", false, "write the @odata.type of DNS records without the leading '#'")
	reasonDetail := fs.Bool("reason-detail", false, "add the emulator-only essentials365.reason detail to error answers (debugging)")
	useTLS := fs.Bool("tls", false, "serve https with a generated certificate; its CA is printed")
	caOut := fs.String("ca-out", "", "with -tls, also write the CA certificate (PEM) to this file")
	certFile := fs.String("cert", "", "serve https with this certificate (PEM; with -key)")
	keyFile := fs.String("key", "", "the private key (PEM) of -cert")
	if err := fs.Parse(args); err != nil {
		return err
	}

	tenant := seed()
	opts := &m365emulator.Options{
		ReadLatency:  *latency,
		WriteLatency: *latency,
		Mail:         tenant.Mail(),
	}
	if *throttle {
		opts.Throttling = &m365emulator.Quota{}
	}
	// Documented variants of Graph's answers, to try a client against each.
	if *conflictsBare {
		opts.Conflicts = m365emulator.ConflictsWithoutDetails
	}
	if *deltaQualified {
		opts.DeltaLinks = m365emulator.DeltaLinksQualified
	}
	if *bareTypes {
		opts.RecordTypes = m365emulator.ODataTypesBare
	}
	opts.ReasonDetail = *reasonDetail
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	tlsConfig, err := serverTLS(*useTLS, *caOut, *certFile, *keyFile, stdout)
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsConfig)
	}
	base := scheme + "://" + ln.Addr().String() + "/v1.0"
	fmt.Fprintf(stdout, "m365emulator: serving the Contoso demo tenant at %s\n", base)
	fmt.Fprintf(stdout, "  try:   curl %s/users\n", base)
	fmt.Fprintf(stdout, "  Graph driver: graphtenant.Config{BaseURL: %q}; any bearer token is accepted\n", base)
	fmt.Fprintln(stdout, "  stop with Ctrl-C")

	srv := &http.Server{
		Handler:           m365emulator.New(tenant, opts),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute, // a 4 MB batch body at a slow client's pace
		IdleTimeout:       2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}

// serverTLS returns the TLS configuration the flags ask for, or nil for
// plain http. A generated certificate's CA is printed (and written to
// caOut when set) for clients to trust.
func serverTLS(generate bool, caOut, certFile, keyFile string, stdout io.Writer) (*tls.Config, error) {
	switch {
	case certFile != "" || keyFile != "":
		if certFile == "" || keyFile == "" {
			return nil, errors.New("-cert and -key go together")
		}
		if generate {
			return nil, errors.New("-tls generates a certificate; with -cert and -key, leave it out")
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load the certificate: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	case generate:
		cert, err := m365emulator.NewTLSCertificate(nil, time.Now(), 0)
		if err != nil {
			return nil, fmt.Errorf("generate a certificate: %w", err)
		}
		fmt.Fprintf(stdout, "m365emulator: trust this certificate authority (valid 7 days):\n%s", cert.CAPEM)
		if caOut != "" {
			if err := os.WriteFile(caOut, cert.CAPEM, 0o644); err != nil {
				return nil, fmt.Errorf("write the CA certificate: %w", err)
			}
			fmt.Fprintf(stdout, "  (also written to %s)\n", caOut)
		}
		return cert.Config(), nil
	case caOut != "":
		return nil, errors.New("-ca-out needs -tls")
	}
	return nil, nil
}

// demoUsers are the people of the demo tenant: local part, display name,
// usage location ("" for none) and the SKU they are licensed with.
var demoUsers = []struct {
	local, name, location, sku string
	disabled                   bool
}{
	{"adele.vance", "Adele Vance", "US", skuEnterprisePack, false},
	{"alex.wilber", "Alex Wilber", "US", skuEnterprisePack, false},
	{"megan.bowen", "Megan Bowen", "US", skuEnterprisePack, false},
	{"lee.gu", "Lee Gu", "GB", skuEnterprisePack, false},
	{"nestor.wilke", "Nestor Wilke", "DE", skuEnterprisePack, false},
	{"isaiah.langer", "Isaiah Langer", "FR", skuEnterprisePack, false},
	{"lidia.holloway", "Lidia Holloway", "US", skuExchangeStandard, false},
	{"joni.sherman", "Joni Sherman", "US", skuExchangeStandard, false},
	{"grady.archie", "Grady Archie", "NL", skuExchangeStandard, false},
	{"pradeep.gupta", "Pradeep Gupta", "IN", "", false},
	{"diego.siciliani", "Diego Siciliani", "", "", false},
	{"miriam.graham", "Miriam Graham", "US", "", true},
}

// seed builds the demo tenant, seeded at construction.
func seed() *memory.Tenant {
	users := make([]memory.UserSeed, 0, len(demoUsers))
	for _, d := range demoUsers {
		u := memory.UserSeed{User: backend.NewOnlineUser{
			UserPrincipalName: d.local + "@contoso.com",
			DisplayName:       d.name,
			MailNickname:      strings.ReplaceAll(d.local, ".", ""),
			UsageLocation:     d.location,
			Password:          "Demo-" + strings.ReplaceAll(d.name, " ", "") + "-2025!",
			Disabled:          d.disabled,
		}}
		if d.sku != "" {
			u.Licenses = []backend.LicenseAssignment{{SKUID: d.sku}}
		}
		users = append(users, u)
	}
	return memory.NewTenant(&memory.TenantOptions{
		DisplayName:   "Contoso",
		InitialDomain: "contoso.onmicrosoft.com",
		Domains:       []memory.DomainSeed{{Name: "contoso.com", Default: true}, {Name: "fabrikam.com", Unverified: true}},
		SKUs:          []backend.SKU{memory.SKUEnterprisePack(25), memory.SKUExchangeStandard(10)},
		Users:         users,
	})
}
