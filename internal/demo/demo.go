// Package demo is the lifecycle the example programs show: a small
// company's users and their online accounts, from bulk creation to deletion,
// over any directory and an in-memory Microsoft 365 tenant.
package demo

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// Config says where the demo runs.
type Config struct {
	// Dir is the directory: the memory one, or a real domain controller.
	Dir backend.Directory
	// Prefix goes before every user name the demo creates, so it can share
	// a real directory with other users ("" in memory).
	Prefix string
	// WorkDir receives the results and password files.
	WorkDir string
}

// company is the demo's starting point.
type company struct {
	cfg    Config
	dir    backend.Directory
	tenant *memory.Tenant
	svc    *accounts.Service
	trail  *audit.Recorder
	now    time.Time
	users  []backend.GUID
}

func (c *company) clock() time.Time { return c.now }

func (c *company) name(s string) string { return c.cfg.Prefix + s }

func newCompany(ctx context.Context, cfg Config) (*company, error) {
	c := &company{cfg: cfg, dir: cfg.Dir, now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
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
		sam := c.name(p.sam)
		u, err := c.dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: sam, GivenName: p.given, Surname: p.surname,
			DisplayName: p.given + " " + p.surname + c.suffix(), UserPrincipalName: sam + "@contoso.local", Password: "Bienvenue-2026"})
		if err != nil {
			return nil, err
		}
		c.users = append(c.users, u.ID)
	}
	// Two people already use Microsoft 365 but have no network account.
	for _, p := range []struct{ upn, name string }{{c.name("emma") + "@contoso.com", "Emma Leroy" + c.suffix()}, {c.name("felix") + "@contoso.com", "Félix Moreau" + c.suffix()}} {
		if _, err := c.tenant.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: p.upn, DisplayName: p.name,
			Password: "Cloud-Start-2026", UsageLocation: "FR"}); err != nil {
			return nil, err
		}
	}
	var err error
	c.trail = &audit.Recorder{}
	c.svc, err = accounts.New(c.dir, c.tenant, &accounts.Options{Mail: c.tenant.Mail(), Now: c.clock, UsageLocation: "FR", Audit: c.trail.Hook()})
	return c, err
}

// suffix keeps display names (and so DNs) unique in a shared directory.
func (c *company) suffix() string {
	if c.cfg.Prefix == "" {
		return ""
	}
	return " (" + strings.TrimRight(c.cfg.Prefix, "-_.") + ")"
}

// Cleanup deletes the network users the demo created (for a shared
// directory); it ignores those already gone.
func (c *company) cleanup(ctx context.Context) {
	for _, id := range c.users {
		_ = c.dir.DeleteUser(ctx, id)
	}
	for _, s := range []string{"emma", "felix", "gabriel"} {
		if u, err := c.dir.GetUserBySAMAccountName(ctx, c.name(s)); err == nil {
			_ = c.dir.DeleteUser(ctx, u.ID)
		}
	}
}

// Run runs the whole lifecycle and prints a report to w. With a Prefix, it
// deletes the network users it created when it ends.
func Run(ctx context.Context, w io.Writer, cfg Config) error {
	c, err := newCompany(ctx, cfg)
	if c != nil && cfg.Prefix != "" {
		defer c.cleanup(context.WithoutCancel(ctx))
	}
	if err != nil {
		return err
	}
	workDir := cfg.WorkDir
	step := func(title string) { fmt.Fprintf(w, "\n== %s\n", title) }
	fmt.Fprintln(w, "essentials365 lifecycle demo: a small company's accounts, on-premises and online")

	step("1. Licenses")
	if err := printLicenses(ctx, w, c.svc); err != nil {
		return err
	}

	step("2. Bulk-create online accounts for existing users")
	plan, err := c.svc.PlanBulkCreate(ctx, nil)
	if err != nil {
		return err
	}
	for i := range plan.Items {
		it := &plan.Items[i]
		if !strings.HasPrefix(it.SAMAccountName, c.cfg.Prefix) {
			it.Selected = false // someone else's user in a shared directory
			continue
		}
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
	gabriel, err := c.svc.CreateUser(ctx, accounts.NewUser{SAMAccountName: c.name("gabriel"), GivenName: "Gabriel", Surname: "Roux", DisplayName: "Gabriel Roux" + c.suffix(),
		Password: "Soleil-Levant-7", Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}}}})
	if err != nil {
		return err
	}
	// The administrator asks for a new password at first logon, which also
	// lets the user change it before the domain's minimum password age.
	if err := c.dir.SetMustChangePassword(ctx, gabriel.UserID, true); err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s created with %s@contoso.com, same password on both\n", c.name("gabriel"), c.name("gabriel"))
	if err := c.svc.AddAlias(ctx, c.name("gabriel"), c.name("ventes")+"@contoso.com"); err != nil {
		return err
	}
	aliases, _ := c.svc.Aliases(ctx, c.name("gabriel"))
	fmt.Fprintf(w, "  extra email addresses: %s\n", strings.Join(aliases, ", "))

	step("5. Password change, synchronized")
	state, err := c.svc.ChangePassword(ctx, c.name("gabriel"), "Soleil-Levant-7", "Lune-Montante-8")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s's new password: %s (online account has it: %v)\n", c.name("gabriel"), state, c.tenant.CheckPassword(c.name("gabriel")+"@contoso.com", "Lune-Montante-8"))

	step("6. Password changed in the Microsoft 365 portal")
	c.now = c.now.Add(2 * time.Hour)
	if err := c.tenant.ChangePasswordInPortal(ctx, c.name("bruno")+"@contoso.com", "Portal-Changed-1"); err != nil {
		return err
	}
	st, err := c.svc.Status(ctx, c.name("bruno"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s: password sync broken = %v\n  advice: %s\n", c.name("bruno"), st.PasswordSyncBroken, st.Advice)

	step("7. Unassign, then assign again")
	if err := c.svc.Unassign(ctx, c.name("chloe")); err != nil {
		return err
	}
	st, _ = c.svc.Status(ctx, c.name("chloe"))
	fmt.Fprintf(w, "  %s unassigned: %s, mapping %s to %s (license freed)\n", c.name("chloe"), st.State, st.Mapping, st.OnlineID)
	if _, err := c.svc.Assign(ctx, c.name("chloe"), accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}}}); err != nil {
		return err
	}
	st, _ = c.svc.Status(ctx, c.name("chloe"))
	fmt.Fprintf(w, "  %s assigned again: %s\n", c.name("chloe"), st.State)

	step("8. Disable and delete follow to the cloud")
	if err := c.svc.Disable(ctx, c.name("david")); err != nil {
		return err
	}
	ou, _ := c.tenant.GetUser(ctx, c.name("david")+"@contoso.com")
	fmt.Fprintf(w, "  %s disabled: online sign-in allowed = %v (mail kept)\n", c.name("david"), ou.AccountEnabled)
	if err := c.svc.Delete(ctx, c.name("david")); err != nil {
		return err
	}
	deleted, _ := c.tenant.ListDeletedUsers(ctx)
	fmt.Fprintf(w, "  %s deleted: %d online account(s) restorable for 30 days\n", c.name("david"), len(deleted))

	step("9. Changes made directly in Active Directory, reconciled")
	if _, err := c.svc.Reconcile(ctx, nil); err != nil {
		return err
	}
	amelie, _ := c.dir.GetUserBySAMAccountName(ctx, c.name("amelie"))
	if err := c.dir.SetEnabled(ctx, amelie.ID, false); err != nil {
		return err
	}
	rplan, err := c.svc.PlanReconcile(ctx, nil) // reads, writes nothing
	if err != nil {
		return err
	}
	for _, a := range rplan.Actions {
		fmt.Fprintf(w, "  plan: %s %s (%s)\n", a.Type, a.OnlineID, a.Why)
	}
	rep, err := c.svc.ApplyReconcile(ctx, rplan, nil) // checks the guards again, then applies
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
		if !strings.HasPrefix(s.SAMAccountName, c.cfg.Prefix) {
			continue
		}
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
	if err := printLicenses(ctx, w, c.svc); err != nil {
		return err
	}

	step("11. Audit trail")
	counts := map[string]int{}
	events := c.trail.Events()
	for _, e := range events {
		counts[string(e.Side)+" "+e.Op]++
	}
	fmt.Fprintf(w, "  %d writes recorded (never a secret), e.g.:\n", len(events))
	for _, k := range []string{"tenant create-online", "tenant assign-licenses", "directory set-must-change", "tenant block-sign-in", "tenant delete-online"} {
		fmt.Fprintf(w, "    %-28s %d\n", k, counts[k])
	}
	return nil
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
