// Command quickstart runs the whole life of a small company's accounts
// through the SDK's entry point (package essentials365) and prints what
// happens at each step:
//
//	go run ./examples/quickstart
//
// With no flag it needs no configuration: the company's Active Directory
// and its Microsoft 365 tenant are the SDK's in-memory backends. With -ldap
// the directory is a real domain controller reached over LDAPS (the tenant
// stays in memory):
//
//	eval "$(scripts/samba-dc start DIR)"   # a throwaway Samba DC; or your own DC
//	go run ./examples/quickstart -ldap
//
// -ldap reads the connection from E365_LDAP_URL, E365_LDAP_USER,
// E365_LDAP_PASSWORD, E365_LDAP_BASE_DN and E365_LDAP_CA_FILE. The users
// it creates there carry a prefix (-prefix, random by default), so they
// cannot collide with real ones, and are deleted when it ends.
//
// The steps, in the order of main's run function: seed the company; open
// the integration; check the requirements; integrate; bulk-create online
// accounts (plan, then apply with a licence); import the online-only users;
// a new user; passwords (a user's change, an administrator's reset, a change
// made in the portal); someone leaves; a reconcile of changes made directly
// in Active Directory (plan, guard, apply); the status page; disable.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run parses the flags, picks the directory and runs the lifecycle. The
// environment comes in as getenv, so that tests can give their own.
func run(ctx context.Context, args []string, getenv func(string) string, w io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	useLDAP := fs.Bool("ldap", false, "use the domain controller named by E365_LDAP_* instead of the in-memory directory")
	prefix := fs.String("prefix", "", "prefix of the user names created (with -ldap; at most 8 characters; default random)")
	out := fs.String("out", "", "directory for the results and temporary password files (default: a temporary one, removed at the end)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *prefix != "" && !*useLDAP:
		return errors.New("-prefix goes with -ldap (the in-memory directory is the program's own)")
	case len(*prefix) > 8:
		return fmt.Errorf("-prefix %q: at most 8 characters, so that user names fit in Active Directory's 20", *prefix)
	case *prefix == "" && *useLDAP:
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		*prefix = "qs" + hex.EncodeToString(b) + "-"
	}
	work := *out
	if work == "" {
		tmp, err := os.MkdirTemp("", "essentials365-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}

	clk := &clock{}
	c := &company{w: w, clock: clk, workDir: work}
	if *useLDAP {
		dir, err := openLDAP(ctx, getenv)
		if err != nil {
			return err
		}
		defer dir.Close()
		c.dir, c.prefix = dir, *prefix
		// Delete the users this run created, even when it fails half way.
		defer c.cleanup(context.WithoutCancel(ctx))
	} else {
		c.dir = memory.NewDirectory(&memory.DirectoryOptions{DNSName: "contoso.local", Now: clk.Now})
	}
	return c.lifecycle(ctx)
}

// openLDAP connects to the domain controller named by the E365_LDAP_*
// variables (scripts/samba-dc start DIR prints them for a throwaway DC).
func openLDAP(ctx context.Context, getenv func(string) string) (*adldap.Directory, error) {
	cfg := adldap.Config{URL: getenv("E365_LDAP_URL"), User: getenv("E365_LDAP_USER"), Password: getenv("E365_LDAP_PASSWORD"),
		BaseDN: getenv("E365_LDAP_BASE_DN"), CAFile: getenv("E365_LDAP_CA_FILE")}
	var missing []string
	for _, v := range []struct{ name, value string }{{"E365_LDAP_URL", cfg.URL}, {"E365_LDAP_USER", cfg.User}, {"E365_LDAP_PASSWORD", cfg.Password}} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return nil, errors.New("-ldap: set " + strings.Join(missing, ", ") + " (scripts/samba-dc start DIR prints them for a throwaway Samba DC)")
	}
	return adldap.Open(ctx, cfg)
}

// company is the small business the program follows.
type company struct {
	w       io.Writer
	clock   *clock
	workDir string            // results and temporary password files
	prefix  string            // before every user name created ("" in memory)
	dir     backend.Directory // the company's Active Directory, as the driver sees it
	tenant  *memory.Tenant    // its Microsoft 365 tenant
	trail   audit.Recorder    // every write the SDK made
	integ   *essentials365.Integration
	svc     *accounts.Service // integ.Accounts()
}

// lifecycle runs the steps in order; each prints what it did.
func (c *company) lifecycle(ctx context.Context) error {
	fmt.Fprintln(c.w, "essentials365 quickstart: a small company's accounts, on premises and online")
	for _, s := range []struct {
		title string
		do    func(context.Context) error
	}{
		{"1. The company: an Active Directory domain and a Microsoft 365 subscription", c.seed},
		{"2. Open the integration (reads the state store, writes nothing)", c.open},
		{"3. Requirements check", c.check},
		{"4. Integrate", c.integrate},
		{"5. Online accounts for the existing users: plan, then apply with a licence", c.bulkCreate},
		{"6. Network users for the online-only accounts", c.importUsers},
		{"7. A new user with a new online account", c.newUser},
		{"8. Passwords", c.passwords},
		{"9. Someone leaves: disable, then delete, follow to the cloud", c.leave},
		{"10. Changes made directly in Active Directory: reconcile, plan then apply", c.reconcile},
		{"11. Status", c.status},
		{"12. Disable the integration", c.disable},
	} {
		fmt.Fprintf(c.w, "\n== %s\n", s.title)
		if err := s.do(ctx); err != nil {
			return err
		}
	}
	return nil
}

// seed creates what the company has before it meets the SDK: four network
// users, and a tenant with its domain, a subscription and two people who
// use Microsoft 365 without a network account.
func (c *company) seed(ctx context.Context) error {
	info, err := c.dir.Info(ctx)
	if err != nil {
		return err
	}
	for _, p := range []struct{ sam, given, surname string }{
		{"amelie", "Amélie", "Durand"}, {"bruno", "Bruno", "Martin"}, {"chloe", "Chloé", "Bernard"}, {"david", "David", "Petit"},
	} {
		if _, err := c.dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: c.name(p.sam), GivenName: p.given, Surname: p.surname,
			DisplayName: c.display(p.given + " " + p.surname), UserPrincipalName: c.name(p.sam) + "@" + info.DNSName,
			Password: "Bienvenue-2026"}); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.w, "  Active Directory %s (%s): %s, %s, %s, %s\n", info.DNSName, info.NetBIOSName,
		c.name("amelie"), c.name("bruno"), c.name("chloe"), c.name("david"))

	e3 := []backend.LicenseAssignment{{SKUID: memory.SKUIDEnterprisePack}}
	c.tenant = memory.NewTenant(&memory.TenantOptions{
		DisplayName: "Contoso",
		Now:         c.clock.Now,
		Domains:     []memory.DomainSeed{{Name: "contoso.com", Default: true}},
		SKUs:        []backend.SKU{memory.SKUEnterprisePack(10)}, // Office 365 E3, 10 seats
		Users: []memory.UserSeed{
			{User: backend.NewOnlineUser{UserPrincipalName: c.name("emma") + "@contoso.com", DisplayName: c.display("Emma Leroy"),
				UsageLocation: "FR", Password: "Cloud-Start-2026"}, Licenses: e3},
			{User: backend.NewOnlineUser{UserPrincipalName: c.name("felix") + "@contoso.com", DisplayName: c.display("Félix Moreau"),
				UsageLocation: "FR", Password: "Cloud-Start-2026"}, Licenses: e3},
		},
	})
	fmt.Fprintf(c.w, "  Microsoft 365 tenant Contoso: domain contoso.com, ENTERPRISEPACK (10 seats), online only: %s, %s\n",
		c.name("emma"), c.name("felix"))
	return nil
}

// open opens the integration from explicit parts. The state store is the
// default one, in memory; a program that runs more than once gives a
// state.NewFileStore and a state.NewAESSealer with a key it keeps.
func (c *company) open(ctx context.Context) error {
	var err error
	c.integ, err = essentials365.Open(ctx, c.dir, c.tenant, &essentials365.Options{
		Mail:     c.tenant.Mail(), // Exchange Online, for extra email addresses
		Now:      c.clock.Now,
		Audit:    c.trail.Hook(),
		Accounts: &accounts.Options{UsageLocation: "FR", Audit: c.trail.Hook()},
	})
	if err != nil {
		return err
	}
	c.svc = c.integ.Accounts()
	// Until Integrate, the feature services read but never write.
	_, err = c.svc.SetPassword(ctx, c.name("amelie"), "Essai-Avant-2026")
	fmt.Fprintf(c.w, "  state %s; a password change now is refused before it reaches either side: %s\n",
		c.integ.State(), backend.ReasonOf(err))
	return nil
}

func (c *company) check(ctx context.Context) error {
	rep, err := c.integ.Check(ctx) // writes nothing; every problem is an entry of the report
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(rep.String(), "\n"), "\n") {
		fmt.Fprintln(c.w, "  "+line)
	}
	return nil
}

func (c *company) integrate(ctx context.Context) error {
	res, err := c.integ.Integrate(ctx) // checks again, and refuses on a failed check
	var re *essentials365.RequirementsError
	if errors.As(err, &re) {
		return fmt.Errorf("integrate refused: %w (see the report above)", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  %s with %s (%s, default domain %s)\n", res.Record.State, res.Record.TenantName, res.Record.InitialDomain, res.Record.DefaultDomain)
	if res.Import != nil {
		for _, it := range res.Import.Items {
			fmt.Fprintf(c.w, "  proposed import: %s as network user %s\n", it.OnlineID, it.SAMAccountName)
		}
	}
	return nil
}

func (c *company) bulkCreate(ctx context.Context) error {
	plan, err := c.svc.PlanBulkCreate(ctx, nil) // reads only
	if err != nil {
		return err
	}
	tw := c.table()
	for i := range plan.Items {
		it := &plan.Items[i]
		if !strings.HasPrefix(it.SAMAccountName, c.prefix) {
			it.Selected = false // someone else's user in a shared directory: leave it out
			continue
		}
		fmt.Fprintf(tw, "  proposed %s\t-> %s\n", it.SAMAccountName, it.OnlineID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	res, err := c.svc.ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{
		Licenses:   []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK", DisabledServices: []string{"SHAREPOINTENTERPRISE"}}},
		ResultsDir: c.workDir, // a results file lists what failed and what to do
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  created %d, failed %d (ENTERPRISEPACK without SharePoint); each user must change the network password at next logon\n", res.Done, res.Failed)
	return nil
}

func (c *company) importUsers(ctx context.Context) error {
	plan, err := c.svc.PlanImport(ctx)
	if err != nil {
		return err
	}
	pwDir := filepath.Join(c.workDir, "passwords")
	res, err := c.svc.ApplyImport(ctx, plan, &accounts.ImportOptions{PasswordDir: pwDir})
	if err != nil {
		return err
	}
	tw := c.table()
	for _, it := range res.Items {
		fmt.Fprintf(tw, "  %s\t<- %s\ttemporary password in %s.txt (mode 0600)\n", it.User, it.OnlineID, it.User)
	}
	return tw.Flush()
}

func (c *company) newUser(ctx context.Context) error {
	gabriel := c.name("gabriel")
	st, err := c.svc.CreateUser(ctx, accounts.NewUser{SAMAccountName: gabriel, GivenName: "Gabriel", Surname: "Roux",
		DisplayName: c.display("Gabriel Roux"), Password: "Soleil-Levant-7",
		Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}}}})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  %s created with %s, the same password on both\n", gabriel, st.OnlineID)
	if err := c.svc.AddAlias(ctx, gabriel, c.name("ventes")+"@contoso.com"); err != nil {
		return err
	}
	aliases, err := c.svc.Aliases(ctx, gabriel)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  extra email addresses: %s\n", strings.Join(aliases, ", "))
	return nil
}

func (c *company) passwords(ctx context.Context) error {
	// Amélie logs on for the first time and must change her password.
	amelie := c.name("amelie")
	state, err := c.svc.ChangePassword(ctx, amelie, "Bienvenue-2026", "Printemps-2027")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  %s changes her password: %s (online account has it: %v)\n", amelie, state,
		c.tenant.CheckPassword(amelie+"@contoso.com", "Printemps-2027"))

	// The helpdesk resets Gabriel's.
	gabriel := c.name("gabriel")
	if state, err = c.svc.SetPassword(ctx, gabriel, "Lune-Montante-8"); err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  %s's password reset by an administrator: %s (online account has it: %v)\n", gabriel, state,
		c.tenant.CheckPassword(gabriel+"@contoso.com", "Lune-Montante-8"))

	// Two hours later, Bruno changes his in the Microsoft 365 portal: the
	// SDK cannot copy it back, and says so.
	c.clock.skip(2 * time.Hour)
	bruno := c.name("bruno")
	if err := c.tenant.ChangePasswordInPortal(ctx, bruno+"@contoso.com", "Portail-Change-1"); err != nil {
		return err
	}
	st, err := c.svc.Status(ctx, bruno)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  %s changed his in the portal: password sync broken = %v\n    advice: %s\n", bruno, st.PasswordSyncBroken, st.Advice)
	return nil
}

func (c *company) leave(ctx context.Context) error {
	david := c.name("david")
	if err := c.svc.Disable(ctx, david); err != nil {
		return err
	}
	ou, err := c.tenant.GetUser(ctx, david+"@contoso.com")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  %s disabled: online sign-in allowed = %v, licensed = %v\n", david, ou.AccountEnabled, ou.Licensed())
	if err := c.svc.Delete(ctx, david); err != nil {
		return err
	}
	deleted, err := c.tenant.ListDeletedUsers(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  %s deleted: network user gone, %d online account(s) restorable for 30 days\n", david, len(deleted))
	return nil
}

func (c *company) reconcile(ctx context.Context) error {
	// Two people go on long leave; someone disables them with the usual
	// Active Directory tools, not through the SDK.
	for _, sam := range []string{c.name("chloe"), c.name("felix")} {
		u, err := c.dir.GetUserBySAMAccountName(ctx, sam)
		if err != nil {
			return err
		}
		if err := c.dir.SetEnabled(ctx, u.ID, false); err != nil {
			return err
		}
	}
	plan, err := c.svc.PlanReconcile(ctx, nil) // reads, writes nothing
	if err != nil {
		return err
	}
	for _, a := range plan.Actions {
		fmt.Fprintf(c.w, "  plan: %s %s (%s)\n", a.Type, a.OnlineID, a.Why)
	}
	for _, s := range plan.Stops {
		fmt.Fprintf(c.w, "  guard: %s: %d of %d managed accounts, the limit is %d\n", s.Reason, s.Count, s.Base, s.Limit)
	}
	// Applying re-checks the guards: blocking 2 of 6 accounts at once is
	// more than the default allows, so nothing is written.
	_, err = c.svc.ApplyReconcile(ctx, plan, nil)
	fmt.Fprintf(c.w, "  apply: refused (%s), nothing changed\n", backend.ReasonOf(err))
	if backend.ReasonOf(err) != accounts.ReasonDisableGuard {
		return fmt.Errorf("expected the disable guard to stop the reconcile, got %v", err)
	}
	// The administrator reviewed the plan: let these disables through.
	rep, err := c.svc.ApplyReconcile(ctx, plan, &accounts.ReconcileOptions{AllowDisables: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  apply with AllowDisables: blocked sign-in of %s\n", strings.Join(rep.Disabled, ", "))

	// A scheduled job runs plan and apply in one call, guards on, and
	// records the outcome for the status page.
	rep, err = c.integ.Reconcile(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  scheduled reconcile: %d directory change(s) examined, %d action(s)\n",
		rep.Examined, len(rep.Enabled)+len(rep.Disabled)+len(rep.Deleted))
	return nil
}

func (c *company) status(ctx context.Context) error {
	st, err := c.integ.Status(ctx) // the Essentials dashboard's Office 365 page, as data
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  integration %s with %s; pending password updates: %d\n", st.Record.State, st.Record.TenantName, st.PendingPasswords)
	for _, s := range st.Subscriptions {
		fmt.Fprintf(c.w, "  %s: %d of %d seats free\n", s.Name, s.Free, s.Total)
	}
	if lr := st.LastReconcile; lr != nil {
		fmt.Fprintf(c.w, "  last reconcile: %d examined, %d failure(s)\n", lr.Examined, lr.Failures)
	}
	users, err := c.svc.ListStatus(ctx)
	if err != nil {
		return err
	}
	tw := c.table()
	fmt.Fprintln(tw, "  USER\tENABLED\tONLINE ID\tSTATE\tPASSWORD SYNC")
	for _, u := range users {
		if !strings.HasPrefix(u.SAMAccountName, c.prefix) {
			continue // someone else's user in a shared directory
		}
		sync := "ok"
		if u.PasswordSyncBroken {
			sync = "broken"
		}
		fmt.Fprintf(tw, "  %s\t%v\t%s\t%s\t%s\n", u.SAMAccountName, u.Enabled, u.OnlineID, u.State, sync)
	}
	return tw.Flush()
}

func (c *company) disable(ctx context.Context) error {
	res, err := c.integ.Disable(ctx) // no network call: works with the tenant unreachable
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  integration %s; %d pending password update(s) discarded\n", res.Record.State, res.DiscardedPasswords)
	bruno := c.name("bruno")
	_, err = c.svc.SetPassword(ctx, bruno, "Automne-2027")
	fmt.Fprintf(c.w, "  a password change is refused again: %s\n", backend.ReasonOf(err))
	ou, err := c.tenant.GetUser(ctx, bruno+"@contoso.com")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.w, "  the cloud is left as it was: %s sign-in allowed = %v, %d licence(s)\n", ou.UserPrincipalName, ou.AccountEnabled, len(ou.AssignedLicenses))

	events := c.trail.Events()
	sides := map[audit.Side]int{}
	for _, e := range events {
		sides[e.Side]++
	}
	fmt.Fprintf(c.w, "  audit trail: %d writes (directory %d, tenant %d, local state %d), never a secret\n",
		len(events), sides[audit.SideDirectory], sides[audit.SideTenant], sides[audit.SideLocal])
	return nil
}

// table aligns the columns of what it is given, separated by tabs.
func (c *company) table() *tabwriter.Writer { return tabwriter.NewWriter(c.w, 2, 4, 1, ' ', 0) }

// name is a user name of this run: with -ldap, prefixed so that it cannot
// collide with a real user.
func (c *company) name(s string) string { return c.prefix + s }

// display keeps display names (and so the users' DNs) unique in a shared
// directory.
func (c *company) display(s string) string {
	if c.prefix == "" {
		return s
	}
	return s + " (" + strings.TrimRight(c.prefix, "-_.") + ")"
}

// cleanup deletes the network users this run created in a real directory,
// with the driver itself (the integration may be disabled by then).
func (c *company) cleanup(ctx context.Context) {
	for _, s := range []string{"amelie", "bruno", "chloe", "david", "emma", "felix", "gabriel"} {
		if u, err := c.dir.GetUserBySAMAccountName(ctx, c.name(s)); err == nil {
			_ = c.dir.DeleteUser(ctx, u.ID)
		}
	}
}

// clock is the company's clock: the real time, which skip moves forward to
// show what happens hours later.
type clock struct {
	mu    sync.Mutex
	ahead time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.ahead)
}

func (c *clock) skip(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead += d
}
