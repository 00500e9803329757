package essentials365

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
)

// Check runs the requirements check. It writes nothing. The error is
// non-nil only when ctx ends; every problem with the directory or the
// tenant is an entry of the report.
func (i *Integration) Check(ctx context.Context) (*Report, error) {
	return i.check(ctx, i.tenant.get())
}

func (i *Integration) check(ctx context.Context, tenant backend.Tenant) (*Report, error) {
	rep := &Report{CheckedAt: i.now().UTC()}
	dirTime := i.checkDirectory(ctx, rep)
	tf, tenantOK := i.checkTenant(ctx, rep, tenant)
	if tenantOK {
		i.checkPermissions(rep, tf)
		i.checkDirectorySync(rep, tf)
		i.checkOtherDirectory(ctx, rep, tenant)
		i.checkSubscriptions(ctx, rep, tenant)
	} else {
		for _, id := range []CheckID{CheckPermissions, CheckDirectorySync, CheckOtherDirectory, CheckSubscription, CheckExchange} {
			rep.Checks = append(rep.Checks, Check{ID: id, Status: CheckSkipped,
				Found: "not checked: the tenant could not be reached", Advice: "fix tenant-reachable first"})
		}
	}
	i.checkClock(rep, dirTime, tf.ServerTime)
	if err := ctx.Err(); err != nil {
		return rep, backend.Wrap(err, backend.Canceled, "essentials365: check requirements", "")
	}
	return rep, nil
}

// checkDirectory adds the domain-controller and mapping-attribute checks
// and returns the domain controller's clock (zero when unknown).
func (i *Integration) checkDirectory(ctx context.Context, rep *Report) time.Time {
	const op = "essentials365: check directory"
	info, err := retry.Value(ctx, i.retry, op, "", func() (backend.DomainInfo, error) { return i.dir.Info(ctx) })
	if err != nil {
		rep.Checks = append(rep.Checks,
			Check{ID: CheckDomainControllers, Status: CheckFail, Reason: ReasonDirectoryUnreachable, Err: err,
				Found:  "the directory did not answer: " + err.Error(),
				Advice: "check the domain controller's address, that it is running, and the bind account's name and password"},
			Check{ID: CheckMappingAttribute, Status: CheckSkipped, Found: "not checked: the directory could not be reached", Advice: "fix domain-controllers first"})
		return time.Time{}
	}
	rep.Domain = info.DNSName
	var facts backend.DirectoryFacts
	dr, hasFacts := i.dir.(backend.DirectoryRequirements)
	var factsErr error
	if hasFacts {
		facts, factsErr = retry.Value(ctx, i.retry, op, "", func() (backend.DirectoryFacts, error) { return dr.RequirementFacts(ctx) })
		hasFacts = factsErr == nil
	}
	rep.Server = facts.Server
	rep.Checks = append(rep.Checks, i.dcCheck(info, facts, hasFacts))
	switch {
	case !hasFacts:
		c := Check{ID: CheckMappingAttribute, Status: CheckWarn, Reason: ReasonCannotVerify, Err: factsErr,
			Found:  "the directory driver cannot report the schema and the bind account's rights",
			Advice: "make sure the mapping attribute exists and the bind account may write it on user objects"}
		if factsErr != nil {
			c.Found = "the schema and rights could not be read: " + factsErr.Error()
		}
		rep.Checks = append(rep.Checks, c)
	case !facts.SchemaHasMappingAttribute:
		rep.Checks = append(rep.Checks, Check{ID: CheckMappingAttribute, Status: CheckFail, Reason: ReasonMappingAttributeMissing,
			Found:  fmt.Sprintf("the schema has no attribute %s", facts.MappingAttribute),
			Advice: "raise the schema to Windows Server 2012 or later (adprep /forestprep, or Samba's default 2012 R2 schema), or configure the directory driver's MappingAttribute to an attribute the schema has"})
	case !facts.CanWriteMappingAttribute:
		rep.Checks = append(rep.Checks, Check{ID: CheckMappingAttribute, Status: CheckFail, Reason: ReasonMappingAttributeReadOnly,
			Found:  fmt.Sprintf("the bind account may not write %s on user objects", facts.MappingAttribute),
			Advice: "delegate 'Write " + facts.MappingAttribute + "' on user objects to the bind account (Delegation of Control), or bind as an account that has it"})
	default:
		rep.Checks = append(rep.Checks, Check{ID: CheckMappingAttribute, Status: CheckPass,
			Found: fmt.Sprintf("the schema has %s and the bind account may write it", facts.MappingAttribute)})
	}
	return facts.ServerTime
}

func (i *Integration) dcCheck(info backend.DomainInfo, facts backend.DirectoryFacts, hasFacts bool) Check {
	c := Check{ID: CheckDomainControllers}
	server := cmp.Or(facts.Server, "the server")
	n := info.DomainControllers
	names := ""
	if hasFacts && len(facts.DomainControllers) > 0 {
		n = len(facts.DomainControllers)
		names = " (" + strings.Join(facts.DomainControllers, ", ") + ")"
	}
	switch {
	case !info.ServerIsDomainController || (hasFacts && len(facts.DomainControllers) > 0 && !slices.ContainsFunc(facts.DomainControllers, func(s string) bool { return strings.EqualFold(s, facts.Server) })):
		c.Status, c.Reason = CheckFail, ReasonNotDomainController
		c.Found = fmt.Sprintf("%s is not a domain controller of %s%s", server, info.DNSName, names)
		c.Advice = "connect the directory driver to the domain controller itself: the integration runs on (or against) the domain controller"
	case n > 1:
		c.Status, c.Reason = CheckFail, ReasonMultipleDomainControllers
		c.Found = fmt.Sprintf("%s has %d domain controllers%s; the program talks to %s", info.DNSName, n, names, server)
		c.Advice = "the integration supports a single domain controller: demote the others, or set Options.AllowMultipleDomainControllers if every change may go through this one"
		if i.opts.AllowMultipleDomainControllers {
			c.Status = CheckWarn
			c.Advice = "changes go through " + server + " and reach the other domain controllers by replication"
		}
	case n < 1:
		c.Status, c.Reason = CheckWarn, ReasonCannotVerify
		c.Found = "the domain controllers of " + info.DNSName + " could not be counted"
		c.Advice = "make sure the domain has a single domain controller and the program talks to it"
	default:
		c.Status = CheckPass
		c.Found = fmt.Sprintf("%s has one domain controller%s and the program talks to it", info.DNSName, names)
	}
	return c
}

// signInAdvice is what to do for each sign-in failure.
var signInAdvice = map[backend.Reason]string{
	backend.ReasonSignInNetwork:     "this machine cannot reach Microsoft's sign-in service: check its Internet connection, DNS, proxy and firewall, then check again",
	backend.ReasonSignInUnavailable: "Microsoft's sign-in service is temporarily unavailable: check again in a few minutes",
	backend.ReasonSignInThrottled:   "the tenant's sign-ins are throttled: check again in a few minutes",
	backend.ReasonSecretInvalid:     "the client secret is wrong: give the secret's Value (not its Secret ID) from the app registration's Certificates & secrets page, or create a new secret",
	backend.ReasonSecretExpired:     "the client secret has expired: create a new secret in the app registration (Certificates & secrets) and change the credential with ChangeCredential",
	backend.ReasonAppNotFound:       "no application has this client id in the tenant: check the Application (client) ID and the tenant id, or register the application",
	backend.ReasonTenantNotFound:    "the tenant does not exist in this cloud: check the Directory (tenant) ID or the tenant's domain name",
	backend.ReasonAppDisabled:       "the application is disabled in the tenant: enable its enterprise application (Properties, Enabled for users to sign-in)",
	backend.ReasonSignInBlocked:     "a Conditional Access policy blocks the application's sign-in: exclude it or allow this machine's location",
	backend.ReasonSignInFailed:      "the sign-in failed: check the tenant id, client id and secret",
}

// checkTenant signs in and reads the organization. It returns the tenant's
// facts (empty when the driver cannot report them) and whether the tenant
// was reached.
func (i *Integration) checkTenant(ctx context.Context, rep *Report, tenant backend.Tenant) (backend.TenantFacts, bool) {
	const op = "essentials365: check tenant"
	var (
		tf  backend.TenantFacts
		err error
	)
	if tr, ok := tenant.(backend.TenantRequirements); ok {
		tf, err = retry.Value(ctx, i.retry, op, "", func() (backend.TenantFacts, error) { return tr.RequirementFacts(ctx) })
	}
	var org backend.Organization
	if err == nil {
		org, err = retry.Value(ctx, i.retry, op, "", func() (backend.Organization, error) { return tenant.Organization(ctx) })
	}
	if err != nil {
		c := Check{ID: CheckTenantReachable, Status: CheckFail, Err: err, Reason: backend.ReasonOf(err), Found: "the tenant could not be reached: " + err.Error()}
		if c.Reason == "" {
			switch backend.KindOf(err) {
			case backend.Unavailable, backend.Throttled:
				c.Reason = backend.ReasonSignInUnavailable
				if !isHTTPAnswer(err) {
					c.Reason = backend.ReasonSignInNetwork
				}
			case backend.PermissionDenied:
				c.Reason = backend.ReasonSignInFailed
			}
		}
		c.Advice = cmp.Or(signInAdvice[c.Reason], "check the tenant driver's configuration and this machine's Internet connection")
		rep.Checks = append(rep.Checks, c)
		return tf, false
	}
	rep.TenantID, rep.TenantName = cmp.Or(org.ID, tf.TenantID), org.DisplayName
	rep.ClientID = tf.ClientID
	rep.Checks = append(rep.Checks, Check{ID: CheckTenantReachable, Status: CheckPass,
		Found: fmt.Sprintf("signed in to %s (%s)", org.DisplayName, rep.TenantID)})
	if _, ok := tenant.(backend.TenantRequirements); !ok {
		tf = backend.TenantFacts{TenantID: org.ID}
	}
	return tf, true
}

// isHTTPAnswer reports whether err came with a service's answer (a 5xx,
// temporarily_unavailable) rather than no answer at all (DNS, TCP, TLS,
// timeout), which drivers keep as the transport's error in the chain.
func isHTTPAnswer(err error) bool {
	var se *backend.SignInError
	if asErr(err, &se) {
		return se.StatusCode != 0
	}
	var ne net.Error
	return !asErr(err, &ne) && !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET) &&
		!errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)
}

func (i *Integration) checkPermissions(rep *Report, tf backend.TenantFacts) {
	c := Check{ID: CheckPermissions}
	if !tf.RolesKnown {
		c.Status, c.Reason = CheckWarn, ReasonCannotVerify
		c.Found = "the tenant driver cannot report the application's granted permissions"
		c.Advice = "make sure the application is granted (with admin consent) the permissions RequiredPermissions lists"
		rep.Checks = append(rep.Checks, c)
		return
	}
	missing := MissingPermissions(tf.Roles, allFeatures...)
	rep.MissingPermissions = missing
	var failed, warned []string
	for _, f := range allFeatures {
		if len(missing[f]) == 0 {
			continue
		}
		s := fmt.Sprintf("%s needs %s", f, strings.Join(missing[f], ", "))
		if slices.Contains(i.opts.Features, f) {
			failed = append(failed, s)
		} else {
			warned = append(warned, s)
		}
	}
	switch {
	case len(failed) > 0:
		c.Status, c.Reason = CheckFail, ReasonPermissionMissing
		c.Found = "missing application permissions: " + strings.Join(append(failed, warned...), "; ")
		c.Advice = "in the app registration, add these Microsoft Graph application permissions and grant admin consent; replication can take a few minutes"
	case len(warned) > 0:
		c.Status, c.Reason = CheckWarn, ReasonPermissionMissing
		c.Found = "granted for " + featureList(i.opts.Features) + "; optional features lack permissions: " + strings.Join(warned, "; ")
		c.Advice = "grant these Microsoft Graph application permissions to use those features"
	default:
		c.Status = CheckPass
		c.Found = "every feature's application permissions are granted"
	}
	rep.Checks = append(rep.Checks, c)
}

func featureList(fs []Feature) string {
	s := make([]string, len(fs))
	for k, f := range fs {
		s[k] = string(f)
	}
	return strings.Join(s, ", ")
}

func (i *Integration) checkDirectorySync(rep *Report, tf backend.TenantFacts) {
	c := Check{ID: CheckDirectorySync, Status: CheckPass, Found: "directory synchronization (Entra Connect) is off"}
	if tf.OnPremisesSyncEnabled {
		c.Status, c.Reason = CheckFail, ReasonDirectorySyncEnabled
		c.Found = "directory synchronization (Entra Connect) is on for this tenant"
		if !tf.OnPremisesLastSync.IsZero() {
			c.Found += ", last sync " + tf.OnPremisesLastSync.UTC().Format(time.RFC3339)
		}
		c.Advice = "synchronized users cannot be managed through Microsoft Graph: keep Entra Connect, or uninstall it and turn directory synchronization off for the tenant (it can take up to 72 hours) before integrating"
	}
	rep.Checks = append(rep.Checks, c)
}

// checkOtherDirectory finds online accounts anchored to users this
// directory does not have, and counts those that can be imported.
func (i *Integration) checkOtherDirectory(ctx context.Context, rep *Report, tenant backend.Tenant) {
	const op = "essentials365: check anchors"
	anchors, mapped := map[string]bool{}, map[string]bool{}
	err := i.retry.Do(ctx, op, "", func() error {
		clear(anchors)
		for u, err := range i.dir.ListUsers(ctx) {
			if err != nil {
				return err
			}
			anchors[u.ID.ImmutableID()] = true
			if m, _ := accounts.ParseMapping(u.OnlineAccount); m.ID != "" {
				mapped[m.ID] = true
			}
		}
		return nil
	})
	var elsewhere []string
	candidates := 0
	if err == nil {
		err = i.retry.Do(ctx, op, "", func() error {
			elsewhere, candidates = nil, 0
			for ou, err := range tenant.ListUsers(ctx) {
				if err != nil {
					return err
				}
				switch {
				case ou.ImmutableID != "" && !anchors[ou.ImmutableID]:
					elsewhere = append(elsewhere, ou.UserPrincipalName)
				case ou.ImmutableID == "" && !mapped[ou.ID]:
					candidates++
				}
			}
			return nil
		})
	}
	c := Check{ID: CheckOtherDirectory}
	switch {
	case err != nil:
		c.Status, c.Reason, c.Err = CheckWarn, ReasonCannotVerify, err
		c.Found = "the users could not be listed: " + err.Error()
		c.Advice = "check again; another directory's accounts are never changed by the SDK"
	case len(elsewhere) > 0:
		slices.Sort(elsewhere)
		c.Status, c.Reason = CheckWarn, ReasonAnchoredElsewhere
		shown := elsewhere[:min(len(elsewhere), 3)]
		c.Found = fmt.Sprintf("%d online accounts are anchored to users of another directory (%s)", len(elsewhere), strings.Join(shown, ", "))
		c.Advice = "another server or Entra Connect may manage this tenant; those accounts are left alone. Integrate one server per tenant"
	default:
		c.Status = CheckPass
		c.Found = "no online account is anchored to another directory"
	}
	rep.ImportCandidates = candidates
	rep.Checks = append(rep.Checks, c)
}

func (i *Integration) checkSubscriptions(ctx context.Context, rep *Report, tenant backend.Tenant) {
	const op = "essentials365: check subscriptions"
	skus, err := retry.Value(ctx, i.retry, op, "", func() ([]backend.SKU, error) { return tenant.SubscribedSKUs(ctx) })
	if err != nil {
		rep.Checks = append(rep.Checks,
			Check{ID: CheckSubscription, Status: CheckFail, Reason: backend.ReasonOf(err), Err: err,
				Found: "the subscriptions could not be read: " + err.Error(), Advice: "grant LicenseAssignment.Read.All (or broader) and check again"},
			Check{ID: CheckExchange, Status: CheckSkipped, Found: "not checked: the subscriptions could not be read", Advice: "fix subscription first"})
		return
	}
	var enabled []string
	exchangeIn := ""
	for _, s := range skus {
		if !strings.EqualFold(s.CapabilityStatus, "Enabled") || s.Enabled <= 0 {
			continue
		}
		enabled = append(enabled, fmt.Sprintf("%s (%d of %d seats free)", s.PartNumber, s.Available(), s.Enabled))
		for _, p := range s.ServicePlans {
			if exchangeIn == "" && strings.HasPrefix(strings.ToUpper(p.Name), "EXCHANGE") && !strings.EqualFold(p.ProvisioningStatus, "Disabled") {
				exchangeIn = s.PartNumber
			}
		}
	}
	if len(enabled) == 0 {
		rep.Checks = append(rep.Checks, Check{ID: CheckSubscription, Status: CheckFail, Reason: ReasonNoSubscription,
			Found:  fmt.Sprintf("no enabled subscription among %d", len(skus)),
			Advice: "buy a Microsoft 365 subscription or start a trial in the Microsoft 365 admin center, or renew a suspended one"})
	} else {
		rep.Checks = append(rep.Checks, Check{ID: CheckSubscription, Status: CheckPass, Found: "enabled: " + strings.Join(enabled, ", ")})
	}
	rep.ExchangeOnline = exchangeIn != ""
	c := Check{ID: CheckExchange}
	switch {
	case exchangeIn == "":
		c.Status, c.Reason = CheckWarn, ReasonNoExchange
		c.Found = "no enabled subscription includes Exchange Online"
		c.Advice = "email aliases and distribution groups need Exchange Online: add a subscription that includes it to use them"
	case i.opts.Mail == nil:
		c.Status, c.Reason = CheckWarn, ReasonNoExchange
		c.Found = "Exchange Online is part of " + exchangeIn + " but no mail driver was given"
		c.Advice = "set Options.Mail to manage email aliases"
	default:
		c.Status = CheckPass
		c.Found = "Exchange Online is part of " + exchangeIn
	}
	rep.Checks = append(rep.Checks, c)
}

func (i *Integration) checkClock(rep *Report, dirTime, tenantTime time.Time) {
	c := Check{ID: CheckClock}
	now := i.now()
	var found, bad []string
	for _, side := range []struct {
		name string
		t    time.Time
	}{{"the domain controller", dirTime}, {"the tenant", tenantTime}} {
		if side.t.IsZero() {
			continue
		}
		d := now.Sub(side.t).Round(time.Second)
		found = append(found, fmt.Sprintf("%s differs by %s", side.name, d.Abs()))
		if d.Abs() > i.opts.ClockTolerance {
			bad = append(bad, side.name)
		}
	}
	switch {
	case len(found) == 0:
		c.Status, c.Found = CheckSkipped, "no clock could be read"
		c.Advice = "make sure this machine's clock is synchronized (NTP)"
	case len(bad) > 0:
		c.Status, c.Reason = CheckFail, ReasonClockSkew
		c.Found = strings.Join(found, "; ") + fmt.Sprintf(" (tolerance %s)", i.opts.ClockTolerance)
		c.Advice = "synchronize the clocks of this machine and " + strings.Join(bad, " and ") + " (NTP; in a domain, the PDC emulator follows an external time source); Kerberos and tokens refuse skewed clocks"
	default:
		c.Status, c.Found = CheckPass, strings.Join(found, "; ")
	}
	rep.Checks = append(rep.Checks, c)
}
