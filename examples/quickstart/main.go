// Command quickstart runs the whole life of a small company's accounts
// against the in-memory Active Directory and Microsoft 365 backends, with
// no configuration, and prints what happens at each step:
//
//	go run ./examples/quickstart
//
// The same calls work against a real domain controller (package adldap)
// and a real tenant (package graphtenant).
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

func main() {
	dir, err := os.MkdirTemp("", "essentials365-quickstart-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), os.Stdout, dir); err != nil {
		log.Fatal(err)
	}
}

// company is the demo's starting point.
type company struct {
	dir    *memory.Directory
	tenant *memory.Tenant
	svc    *accounts.Service
	now    time.Time
}

func (c *company) clock() time.Time { return c.now }

func newCompany(ctx context.Context) (*company, error) {
	c := &company{now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	c.dir = memory.NewDirectory(&memory.DirectoryOptions{DNSName: "contoso.local", Now: c.clock})
	c.tenant = memory.NewTenant(&memory.TenantOptions{DisplayName: "Contoso", Now: c.clock})
	if err := c.tenant.AddVerifiedDomain("contoso.com", true); err != nil {
		return nil, err
	}
	if _, err := c.tenant.AddSKU(backend.SKU{SKUID: "6fd2c87f-b296-42f0-b197-1e91e994b900", PartNumber: "ENTERPRISEPACK", CapabilityStatus: "Enabled", Enabled: 6,
		ServicePlans: []backend.ServicePlan{
			{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE"},
			{ID: "5dbe027f-2339-4123-9542-606e4d348a72", Name: "SHAREPOINTENTERPRISE"},
		}}); err != nil {
		return nil, err
	}
	staff := []struct{ sam, given, surname string }{
		{"amelie", "Amélie", "Durand"}, {"bruno", "Bruno", "Martin"}, {"chloe", "Chloé", "Bernard"}, {"david", "David", "Petit"},
	}
	for _, p := range staff {
		if _, err := c.dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: p.sam, GivenName: p.given, Surname: p.surname,
			DisplayName: p.given + " " + p.surname, UserPrincipalName: p.sam + "@contoso.local", Password: "Bienvenue-2026"}); err != nil {
			return nil, err
		}
	}
	// Two people already use Microsoft 365 but have no network account.
	for _, p := range []struct{ upn, name string }{{"emma@contoso.com", "Emma Leroy"}, {"felix@contoso.com", "Félix Moreau"}} {
		if _, err := c.tenant.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: p.upn, DisplayName: p.name,
			Password: "Cloud-Start-2026", UsageLocation: "FR"}); err != nil {
			return nil, err
		}
	}
	var err error
	c.svc, err = accounts.New(c.dir, c.tenant, &accounts.Options{Mail: c.tenant.Mail(), Now: c.clock, UsageLocation: "FR"})
	return c, err
}

func run(ctx context.Context, w io.Writer, workDir string) error {
	c, err := newCompany(ctx)
	if err != nil {
		return err
	}
	step := func(title string) { fmt.Fprintf(w, "\n== %s\n", title) }
	fmt.Fprintln(w, "essentials365 quickstart: a small company's accounts, on-premises and online, in memory")

	step("1. Licenses")
	if err := printLicenses(ctx, w, c.svc); err != nil {
		return err
	}

	step("2. Bulk-create online accounts for existing users")
	plan, err := c.svc.PlanBulkCreate(ctx, nil)
	if err != nil {
		return err
	}
	for _, it := range plan.Items {
		fmt.Fprintf(w, "  proposed %-8s -> %s\n", it.SAMAccountName, it.OnlineID)
	}
	res, err := c.svc.ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{
		Licenses:   []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK", DisabledServices: []string{"SHAREPOINTENTERPRISE"}}},
		ResultsDir: workDir,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  created %d, failed %d; users must change their network password at next logon\n", res.Done, res.Failed)

	step("3. Import users from existing online accounts")
	iplan, err := c.svc.PlanImport(ctx)
	if err != nil {
		return err
	}
	pwDir := filepath.Join(workDir, "passwords")
	ires, err := c.svc.ApplyImport(ctx, iplan, &accounts.ImportOptions{PasswordDir: pwDir})
	if err != nil {
		return err
	}
	for _, it := range ires.Items {
		fmt.Fprintf(w, "  %-8s <- %-20s temporary password in %s.txt\n", it.User, it.OnlineID, it.User)
	}

	step("4. A new user with a new online account")
	if _, err := c.svc.CreateUser(ctx, accounts.NewUser{SAMAccountName: "gabriel", GivenName: "Gabriel", Surname: "Roux", DisplayName: "Gabriel Roux",
		Password: "Soleil-Levant-7", Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}}}}); err != nil {
		return err
	}
	fmt.Fprintln(w, "  gabriel created with gabriel@contoso.com, same password on both")
	if err := c.svc.AddAlias(ctx, "gabriel", "ventes@contoso.com"); err != nil {
		return err
	}
	aliases, _ := c.svc.Aliases(ctx, "gabriel")
	fmt.Fprintf(w, "  extra email addresses: %s\n", strings.Join(aliases, ", "))

	step("5. Password change, synchronized")
	state, err := c.svc.ChangePassword(ctx, "gabriel", "Soleil-Levant-7", "Lune-Montante-8")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  gabriel's new password: %s (online account has it: %v)\n", state, c.tenant.CheckPassword("gabriel@contoso.com", "Lune-Montante-8"))

	step("6. Password changed in the Microsoft 365 portal")
	c.now = c.now.Add(2 * time.Hour)
	if err := c.tenant.ChangePasswordInPortal(ctx, "bruno@contoso.com", "Portal-Changed-1"); err != nil {
		return err
	}
	st, err := c.svc.Status(ctx, "bruno")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  bruno: password sync broken = %v\n  advice: %s\n", st.PasswordSyncBroken, st.Advice)

	step("7. Unassign, then assign again")
	if err := c.svc.Unassign(ctx, "chloe"); err != nil {
		return err
	}
	st, _ = c.svc.Status(ctx, "chloe")
	fmt.Fprintf(w, "  chloe unassigned: %s, mapping %s to %s (license freed)\n", st.State, st.Mapping, st.OnlineID)
	if _, err := c.svc.Assign(ctx, "chloe", accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}}}); err != nil {
		return err
	}
	st, _ = c.svc.Status(ctx, "chloe")
	fmt.Fprintf(w, "  chloe assigned again: %s\n", st.State)

	step("8. Disable and delete follow to the cloud")
	if err := c.svc.Disable(ctx, "david"); err != nil {
		return err
	}
	ou, _ := c.tenant.GetUser(ctx, "david@contoso.com")
	fmt.Fprintf(w, "  david disabled: online sign-in allowed = %v (mail kept)\n", ou.AccountEnabled)
	if err := c.svc.Delete(ctx, "david"); err != nil {
		return err
	}
	deleted, _ := c.tenant.ListDeletedUsers(ctx)
	fmt.Fprintf(w, "  david deleted: %d online account(s) restorable for 30 days\n", len(deleted))

	step("9. Changes made directly in Active Directory, reconciled")
	if _, err := c.svc.Reconcile(ctx, nil); err != nil {
		return err
	}
	amelie, _ := c.dir.GetUserBySAMAccountName(ctx, "amelie")
	if err := c.dir.SetEnabled(ctx, amelie.ID, false); err != nil {
		return err
	}
	rep, err := c.svc.Reconcile(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  examined %d change(s); blocked sign-in of %s\n", rep.Examined, strings.Join(rep.Disabled, ", "))

	step("10. Status")
	all, err := c.svc.ListStatus(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  USER\tENABLED\tONLINE ID\tSTATE\tSYNC")
	for _, s := range all {
		sync := "ok"
		if s.PasswordSyncBroken {
			sync = "broken"
		}
		if s.OnlineID == "" {
			sync = "-"
		}
		fmt.Fprintf(tw, "  %s\t%v\t%s\t%s\t%s\n", s.SAMAccountName, s.Enabled, dash(s.OnlineID), s.State, sync)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printLicenses(ctx, w, c.svc)
}

func printLicenses(ctx context.Context, w io.Writer, svc *accounts.Service) error {
	lics, err := svc.Licenses(ctx)
	if err != nil {
		return err
	}
	for _, l := range lics {
		fmt.Fprintf(w, "  %s: %d of %d seats free\n", l.PartNumber, l.Available, l.Enabled)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
