// Command m365emulator serves a demo Microsoft 365 tenant over Microsoft
// Graph v1.0's wire format on loopback, for trying the SDK's Graph driver
// (or curl) without a real tenant:
//
//	go run ./examples/m365emulator -addr 127.0.0.1:8365 -latency 50ms -throttle
//
// The tenant is Contoso: the initial domain contoso.onmicrosoft.com, the
// verified default domain contoso.com, the unverified domain fabrikam.com,
// Office 365 E3 (ENTERPRISEPACK, 25 seats) and Exchange Online Plan 1
// (EXCHANGESTANDARD, 10 seats), and a dozen users. It lives in memory and
// is gone when the program stops (Ctrl-C).
package main

import (
	"context"
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

// Public product and service-plan ids of the demo SKUs, as Microsoft
// publishes them in its licensing service-plan reference.
const (
	skuEnterprisePack   = "6fd2c87f-b296-42f0-b197-1e91e994b900" // ENTERPRISEPACK, Office 365 E3
	skuExchangeStandard = "4b9405b0-7788-4568-add1-99614e613b69" // EXCHANGESTANDARD, Exchange Online (Plan 1)

	planExchangeEnterprise = "efb87545-963c-4e0d-99df-69c6916d9eb0" // EXCHANGE_S_ENTERPRISE
	planExchangeStandard   = "9aaf7827-d63c-4b61-89c3-182f06f82e5c" // EXCHANGE_S_STANDARD
	planSharePoint         = "5dbe027f-2339-4123-9542-606e4d348a72" // SHAREPOINTENTERPRISE
	planSkypeForBusiness   = "0feaeb32-d00e-4d66-bd5a-43b5b83db82c" // MCOSTANDARD
	planTeams              = "57ff2da0-773e-42df-b2af-ffb7a2317929" // TEAMS1
)

// run parses args, seeds the demo tenant and serves it until ctx is done.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("m365emulator", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8365", "address to listen on")
	latency := fs.Duration("latency", 0, "delay added to every request (e.g. 50ms)")
	throttle := fs.Bool("throttle", false, "enforce Microsoft Graph's identity throttling quotas")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return err
	}

	tenant, err := seed(ctx)
	if err != nil {
		return fmt.Errorf("seed the demo tenant: %w", err)
	}
	opts := &m365emulator.Options{
		ReadLatency:  *latency,
		WriteLatency: *latency,
		Mail:         tenant.Mail(),
	}
	if *throttle {
		opts.Throttling = &m365emulator.Quota{}
	}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String() + "/v1.0"
	fmt.Fprintf(stdout, "m365emulator: serving the Contoso demo tenant at %s\n", base)
	fmt.Fprintf(stdout, "  try:   curl %s/users\n", base)
	fmt.Fprintf(stdout, "  Graph driver: graphtenant.Config{BaseURL: %q}; any bearer token is accepted\n", base)
	fmt.Fprintln(stdout, "  stop with Ctrl-C")

	srv := &http.Server{Handler: m365emulator.New(tenant, opts), ReadHeaderTimeout: 10 * time.Second}
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

// seed builds the demo tenant.
func seed(ctx context.Context) (*memory.Tenant, error) {
	t := memory.NewTenant(&memory.TenantOptions{DisplayName: "Contoso", InitialDomain: "contoso.onmicrosoft.com"})
	if err := t.AddVerifiedDomain("contoso.com", true); err != nil {
		return nil, err
	}
	if _, err := t.AddDomain(ctx, "fabrikam.com"); err != nil {
		return nil, err
	}
	for _, sku := range []backend.SKU{
		{SKUID: skuEnterprisePack, PartNumber: "ENTERPRISEPACK", Enabled: 25, ServicePlans: []backend.ServicePlan{
			{ID: planExchangeEnterprise, Name: "EXCHANGE_S_ENTERPRISE"},
			{ID: planSharePoint, Name: "SHAREPOINTENTERPRISE"},
			{ID: planSkypeForBusiness, Name: "MCOSTANDARD"},
			{ID: planTeams, Name: "TEAMS1"},
		}},
		{SKUID: skuExchangeStandard, PartNumber: "EXCHANGESTANDARD", Enabled: 10, ServicePlans: []backend.ServicePlan{
			{ID: planExchangeStandard, Name: "EXCHANGE_S_STANDARD"},
		}},
	} {
		if _, err := t.AddSKU(sku); err != nil {
			return nil, err
		}
	}
	for _, d := range demoUsers {
		u, err := t.CreateUser(ctx, backend.NewOnlineUser{
			UserPrincipalName: d.local + "@contoso.com",
			DisplayName:       d.name,
			MailNickname:      strings.ReplaceAll(d.local, ".", ""),
			UsageLocation:     d.location,
			Password:          "Demo-" + strings.ReplaceAll(d.name, " ", "") + "-2025!",
			Disabled:          d.disabled,
		})
		if err != nil {
			return nil, err
		}
		if d.sku != "" {
			if _, err := t.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: d.sku}}, nil); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}
