// Command groups shows the Exchange Online distribution groups of the
// Essentials dashboard, run from code: it creates a group with members and
// a nested group, shows what each user receives, shows a user's
// memberships, gives a user an extra email address, and removes the group.
//
// It needs no configuration: it starts the SDK's Microsoft 365 emulator on
// loopback over an in-memory tenant (Contoso, three licensed users) and
// talks to it exactly as a product talks to Microsoft 365, with the
// Microsoft Graph driver for the tenant and the Exchange Online driver for
// the groups.
//
//	go run ./examples/groups
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/exchangeonline"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/groups"
)

// Microsoft's documented GUIDs for Exchange Online (Plan 1).
const (
	skuExchangeStandard  = "4b9405b0-7788-4568-add1-99614e613b69" // EXCHANGESTANDARD
	planExchangeStandard = "9aaf7827-d63c-4b61-89c3-182f06f82e5c" // EXCHANGE_S_STANDARD
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer) error {
	mem, err := seed(ctx)
	if err != nil {
		return err
	}
	base, stopEmulator, err := serve(mem)
	if err != nil {
		return err
	}
	defer stopEmulator()
	fmt.Fprintf(w, "Microsoft 365 emulator on %s\n", base)

	tenant, err := graphtenant.New(graphtenant.Config{Credential: graphtenant.StaticToken("emulator"), BaseURL: base + "/v1.0"})
	if err != nil {
		return err
	}
	exo, err := exchangeonline.New("contoso.onmicrosoft.com", exchangeonline.StaticToken("emulator"), &exchangeonline.Options{BaseURL: base})
	if err != nil {
		return err
	}
	svc, err := groups.New(tenant, exo, nil)
	if err != nil {
		return err
	}
	return demo(ctx, w, svc)
}

func demo(ctx context.Context, w io.Writer, svc *groups.Service) error {
	if err := svc.Available(ctx); err != nil {
		return err
	}
	sales, err := svc.Create(ctx, groups.NewGroup{
		Name: "Sales", Alias: "sales", Description: "The sales team",
		Members: []string{"ann@contoso.com", "bob@contoso.com"},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Created %s <%s>, mail from outside allowed: %v\n", sales.Name, sales.PrimaryAddress, sales.ExternalSendersAllowed)
	everyone, err := svc.Create(ctx, groups.NewGroup{
		Name: "Everyone", Alias: "everyone", Members: []string{"cid@contoso.com", "Sales"},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Created %s <%s> with Sales nested in it\n", everyone.Name, everyone.PrimaryAddress)

	// Nesting Everyone in Sales would make a group a member of itself.
	err = svc.ChangeMembers(ctx, "Sales", []string{"Everyone"}, nil)
	if backend.ReasonOf(err) != groups.ReasonGroupCycle {
		return fmt.Errorf("nesting Everyone in Sales: want a refusal, got %v", err)
	}
	fmt.Fprintf(w, "Refused: %v\n", err)

	direct, err := svc.Members(ctx, "Everyone")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Everyone's members: %s\n", recipients(direct))
	all, err := svc.EffectiveMembers(ctx, "Everyone")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Everyone's mail reaches: %s\n", recipients(all))

	ms, err := svc.Memberships(ctx, "ann@contoso.com")
	if err != nil {
		return err
	}
	var parts []string
	for _, m := range ms {
		if m.Direct {
			parts = append(parts, m.Group.Name)
		} else {
			parts = append(parts, m.Group.Name+" (through "+m.Via+")")
		}
	}
	fmt.Fprintf(w, "ann@contoso.com belongs to: %s\n", strings.Join(parts, ", "))

	if err := svc.AddAddress(ctx, "ann@contoso.com", "ventes@contoso.com"); err != nil {
		return err
	}
	addrs, err := svc.Addresses(ctx, "ann@contoso.com")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "ann@contoso.com also receives mail at: %s\n", strings.Join(addrs, ", "))
	if err := svc.AddAddress(ctx, "bob@contoso.com", "ventes@contoso.com"); !errors.Is(err, backend.ErrAlreadyExists) {
		return fmt.Errorf("giving bob ann's address: want a refusal, got %v", err)
	}
	fmt.Fprintln(w, "Refused: ventes@contoso.com is ann's already")

	if err := svc.Delete(ctx, "Everyone"); err != nil {
		return err
	}
	left, err := svc.List(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, g := range left {
		names = append(names, g.Name)
	}
	fmt.Fprintf(w, "Removed Everyone; groups left: %s\n", strings.Join(names, ", "))
	return nil
}

func recipients(rs []backend.Recipient) string {
	var out []string
	for _, r := range rs {
		s := r.PrimaryAddress
		if r.Type.IsGroup() {
			s += " (group)"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// seed builds Contoso: a verified domain, Exchange Online (Plan 1) and
// three users with a mailbox.
func seed(ctx context.Context) (*memory.Tenant, error) {
	mem := memory.NewTenant(&memory.TenantOptions{InitialDomain: "contoso.onmicrosoft.com"})
	if err := mem.AddVerifiedDomain("contoso.com", true); err != nil {
		return nil, err
	}
	if _, err := mem.AddSKU(backend.SKU{SKUID: skuExchangeStandard, PartNumber: "EXCHANGESTANDARD", CapabilityStatus: "Enabled", Enabled: 10,
		ServicePlans: []backend.ServicePlan{{ID: planExchangeStandard, Name: "EXCHANGE_S_STANDARD"}}}); err != nil {
		return nil, err
	}
	for _, name := range []string{"ann", "bob", "cid"} {
		u, err := mem.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: name + "@contoso.com", DisplayName: name,
			UsageLocation: "FR", Password: "Cloud-Pw-2026!"})
		if err != nil {
			return nil, err
		}
		if _, err := mem.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: skuExchangeStandard}}, nil); err != nil {
			return nil, err
		}
	}
	return mem, nil
}

// serve starts the emulator, Graph and Exchange sides, on a free loopback
// port.
func serve(mem *memory.Tenant) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		Handler:           m365emulator.New(mem, &m365emulator.Options{Mail: mem.Exchange(), Exchange: mem.Exchange()}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}
