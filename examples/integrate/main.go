// Command integrate walks through the Office 365 integration's lifecycle
// with no configuration: an in-memory Active Directory domain, and a
// Microsoft 365 tenant served in-process by the SDK's emulator (its
// sign-in service over TLS and Microsoft Graph), reached with the real
// Graph driver and an azidentity client secret, as in production.
//
//	go run ./examples/integrate
//
// It checks the requirements, integrates (proposing the import of the
// subscription's existing online accounts), shows the Office 365 status
// page, stops the emulator to show that Disable needs no network, and
// shows the status again.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/essentials365/retry"
)

const (
	tenantID = "2c5d8f1a-7b3e-4c6d-9e0f-1a2b3c4d5e6f"
	clientID = "7e1f3a5c-9b2d-4e6f-8a0c-2b4d6f8a0c1e"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// cloud is the emulated Microsoft 365 side.
type cloudSide struct {
	tenant *memory.Tenant
	login  *httptest.Server
	graph  *httptest.Server
	secret string
}

func startCloud() (*cloudSide, error) {
	t := memory.NewTenant(&memory.TenantOptions{TenantID: tenantID, DisplayName: "Contoso", InitialDomain: "contoso.onmicrosoft.com"})
	if err := t.AddVerifiedDomain("contoso.com", true); err != nil {
		return nil, err
	}
	if _, err := t.AddSKU(backend.SKU{SKUID: "f245ecc8-75af-4f8e-b61f-27d8114de5f3", PartNumber: "O365_BUSINESS_PREMIUM", Enabled: 25,
		ServicePlans: []backend.ServicePlan{
			{ID: "9aaf7827-d63c-4b61-89c3-182f06f82e5c", Name: "EXCHANGE_S_STANDARD"},
			{ID: "c7699d2e-19aa-44de-8edf-1736da088ca1", Name: "SHAREPOINTSTANDARD"},
		}}); err != nil {
		return nil, err
	}
	// An existing subscription: one online account made in the portal.
	if _, err := t.CreateUser(context.Background(), backend.NewOnlineUser{UserPrincipalName: "chloe@contoso.com", DisplayName: "Chloé Durand",
		Password: "Portal-Pa55word!"}); err != nil {
		return nil, err
	}
	auth := m365emulator.NewAuthority(tenantID, &m365emulator.AuthorityOptions{TenantNames: []string{"contoso.onmicrosoft.com"}})
	auth.RegisterApp(clientID, memory.DefaultRoles()...)
	sec, err := auth.AddClientSecret(clientID, time.Time{})
	if err != nil {
		return nil, err
	}
	c := &cloudSide{tenant: t, secret: sec.Text}
	c.login = httptest.NewTLSServer(auth)
	c.graph = httptest.NewServer(m365emulator.New(t, &m365emulator.Options{Authority: auth, Mail: t.Mail()}))
	return c, nil
}

func (c *cloudSide) stop() {
	c.graph.Close()
	c.login.Close()
}

// driver is the Graph driver signing in with the app's client secret.
func (c *cloudSide) driver() (*graphtenant.Tenant, error) {
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, c.secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: c.login.URL + "/"},
			Transport: c.login.Client(),
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		return nil, err
	}
	return graphtenant.New(graphtenant.Config{Credential: cred, BaseURL: c.graph.URL + "/v1.0"})
}

func run(ctx context.Context, w io.Writer) error {
	cs, err := startCloud()
	if err != nil {
		return err
	}
	defer cs.stop()
	tenant, err := cs.driver()
	if err != nil {
		return err
	}
	dir := memory.NewDirectory(&memory.DirectoryOptions{DNSName: "contoso.local"})
	for _, u := range []backend.NewDirectoryUser{
		{SAMAccountName: "ann", UserPrincipalName: "ann@contoso.local", DisplayName: "Ann Lee", GivenName: "Ann", Password: "Vq9#rT2!wKz"},
		{SAMAccountName: "tom", UserPrincipalName: "tom@contoso.local", DisplayName: "Tom Roy", GivenName: "Tom", Password: "Hn4$pL8@xDz"},
	} {
		if _, err := dir.CreateUser(ctx, u); err != nil {
			return err
		}
	}
	opts := &essentials365.Options{
		Mail:     cs.tenant.Mail(),
		Retry:    retry.Policy{MaxAttempts: 2, BaseDelay: 50 * time.Millisecond},
		Accounts: &accounts.Options{UsageLocation: "FR"},
	}
	integ, err := essentials365.Open(ctx, dir, tenant, opts)
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "== Step 1: requirements check")
	rep, err := integ.Check(ctx)
	if err != nil {
		return err
	}
	fmt.Fprint(w, rep)

	fmt.Fprintln(w, "\n== Step 2: integrate")
	res, err := integ.Integrate(ctx)
	if err != nil {
		var re *essentials365.RequirementsError
		if errors.As(err, &re) {
			fmt.Fprint(w, re.Report)
		}
		return err
	}
	fmt.Fprintf(w, "integrated with %s (%s), default domain %s\n", res.Record.TenantName, res.Record.TenantID, res.Record.DefaultDomain)
	if res.Import != nil {
		for _, it := range res.Import.Items {
			fmt.Fprintf(w, "existing online account %s: import as network user %q with accounts.ApplyImport\n", it.OnlineID, it.SAMAccountName)
		}
	}
	plan, err := integ.Accounts().PlanBulkCreate(ctx, nil)
	if err != nil {
		return err
	}
	bulk, err := integ.Accounts().ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{{SKU: "O365_BUSINESS_PREMIUM"}}})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "online accounts created for existing users: %d done, %d failed\n", bulk.Done, bulk.Failed)

	fmt.Fprintln(w, "\n== The Office 365 page")
	if err := printStatus(ctx, w, integ); err != nil {
		return err
	}

	fmt.Fprintln(w, "\n== Disable, with Microsoft 365 unreachable")
	cs.stop()
	dis, err := integ.Disable(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "state %s since %s; %d pending password updates discarded\n", dis.Record.State, dis.Record.Since.Format(time.RFC3339), dis.DiscardedPasswords)
	_, err = integ.Accounts().SetPassword(ctx, "ann", "Mw3%cB6&yFz")
	fmt.Fprintf(w, "a password change now: %v\n", err)

	fmt.Fprintln(w, "\n== The Office 365 page, disabled and offline")
	return printStatus(ctx, w, integ)
}

func printStatus(ctx context.Context, w io.Writer, integ *essentials365.Integration) error {
	st, err := integ.Status(ctx)
	if err != nil {
		return err
	}
	r := st.Record
	fmt.Fprintf(w, "Integration: %s since %s, tenant %s, client %s\n", r.State, r.Since.Format(time.RFC3339), r.TenantName, r.ClientID)
	if st.TenantError != nil {
		fmt.Fprintf(w, "Microsoft 365 cannot be reached: %v\n", st.TenantError)
	}
	if len(st.Subscriptions) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  SUBSCRIPTION\tSTATUS\tSEATS\tUSED\tFREE")
		for _, s := range st.Subscriptions {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\n", s.Name, s.CapabilityStatus, s.Total, s.Used, s.Free)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, d := range st.Domains {
		var tags []string
		if d.Verified {
			tags = append(tags, "verified")
		}
		if d.Default {
			tags = append(tags, "default")
		}
		if d.Initial {
			tags = append(tags, "initial")
		}
		fmt.Fprintf(w, "  domain %s (%s)\n", d.Name, strings.Join(tags, ", "))
	}
	fmt.Fprintf(w, "Exchange Online: %v; pending password updates: %d\n", st.ExchangeOnline, st.PendingPasswords)
	for _, c := range st.Warnings {
		fmt.Fprintf(w, "warning %s: %s (%s)\n", c.ID, c.Found, c.Advice)
	}
	return nil
}
