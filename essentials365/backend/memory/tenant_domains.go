package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// tenantDomain is one domain of the tenant.
type tenantDomain struct {
	name      string
	verified  bool
	isDefault bool
	isInitial bool
	services  []string
	// claimedBy is the initial domain of another organisation that has
	// verified this name (ClaimedElsewhere).
	claimedBy string
}

func (d *tenantDomain) out() backend.Domain {
	return backend.Domain{
		Name:               d.name,
		IsVerified:         d.verified,
		IsDefault:          d.isDefault,
		IsInitial:          d.isInitial,
		AuthenticationType: "Managed",
		SupportedServices:  slices.Clone(d.services),
	}
}

// tenantVerifiedServices are the services a domain supports once verified.
var tenantVerifiedServices = []string{"Email", "OfficeCommunicationsOnline"}

func (t *Tenant) domainLocked(name string) *tenantDomain {
	name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	for _, d := range t.domains {
		if d.name == name {
			return d
		}
	}
	return nil
}

// tenantDomainNameRule checks a customer domain name: at least two LDH
// labels of at most 63 characters, no leading or trailing hyphen, 253
// characters at most. It returns "" when name is fine.
func tenantDomainNameRule(name string) string {
	if name == "" || len(name) > 253 {
		return "the name is empty or longer than 253 characters"
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return "a domain name has at least two labels"
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "each label holds 1 to 63 characters"
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "a label cannot start or end with a hyphen"
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "labels hold letters, digits and hyphens only"
			}
		}
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return "the top-level label cannot be all digits"
	}
	return ""
}

// AddVerifiedDomain seeds a verified custom domain, and makes it the default
// domain when isDefault is set. It is a seeding helper: it is neither
// recorded nor subject to faults.
func (t *Tenant) AddVerifiedDomain(name string, isDefault bool) error {
	const op = "tenant: add verified domain"
	name = strings.ToLower(strings.TrimSpace(name))
	if rule := tenantDomainNameRule(name); rule != "" {
		return backend.Invalid(op, name, backend.ReasonDomainName, "%s", rule)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.domainLocked(name) != nil {
		return backend.Errorf(backend.AlreadyExists, op, name, "the domain %s is already in the tenant", name)
	}
	d := &tenantDomain{name: name, verified: true, services: slices.Clone(tenantVerifiedServices)}
	t.domains = append(t.domains, d)
	if isDefault {
		t.setDefaultLocked(d)
	}
	return nil
}

func (t *Tenant) setDefaultLocked(d *tenantDomain) {
	for _, o := range t.domains {
		o.isDefault = o == d
	}
}

// PublishVerification simulates the administrator adding the domain's
// MS=ms… TXT record at the registrar: a later VerifyDomain succeeds.
func (t *Tenant) PublishVerification(domain string) {
	t.mu.Lock()
	t.published[strings.ToLower(strings.TrimSpace(domain))] = true
	t.mu.Unlock()
}

// Domains lists the tenant's domains, the initial one first, then by name.
func (t *Tenant) Domains(ctx context.Context) ([]backend.Domain, error) {
	const op = "Domains"
	if err := t.begin(ctx, op, ""); err != nil {
		return nil, err
	}
	t.mu.Lock()
	out := make([]backend.Domain, 0, len(t.domains))
	for _, d := range t.domains {
		out = append(out, d.out())
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b backend.Domain) int {
		if a.IsInitial != b.IsInitial {
			if a.IsInitial {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, t.done(op, "", nil)
}

// AddDomain adds an unverified custom domain. A subdomain of a verified
// custom domain is verified at once, as in Microsoft 365.
func (t *Tenant) AddDomain(ctx context.Context, name string) (backend.Domain, error) {
	const op = "AddDomain"
	if err := t.begin(ctx, op, name); err != nil {
		return backend.Domain{}, err
	}
	norm := strings.ToLower(strings.TrimSpace(name))
	if rule := tenantDomainNameRule(norm); rule != "" {
		return backend.Domain{}, t.done(op, name, backend.Invalid(op, name, backend.ReasonDomainName, "%s", rule))
	}
	if strings.HasSuffix(norm, ".onmicrosoft.com") || norm == "onmicrosoft.com" {
		return backend.Domain{}, t.done(op, name, backend.Invalid(op, name, backend.ReasonDomainName, "onmicrosoft.com domains cannot be added as custom domains"))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.domainLocked(norm) != nil {
		return backend.Domain{}, t.done(op, name, backend.Errorf(backend.AlreadyExists, op, name, "The domain %s already exists in the tenant.", norm))
	}
	d := &tenantDomain{name: norm}
	for _, p := range t.domains {
		if p.verified && !p.isInitial && strings.HasSuffix(norm, "."+p.name) {
			d.verified = true
			break
		}
	}
	t.domains = append(t.domains, d)
	t.log.Debug("memory tenant added domain", "domain", norm, "verified", d.verified)
	return d.out(), t.done(op, name, nil)
}

// tenantVerificationText returns the MS=ms######## value of a domain.
func (t *Tenant) tenantVerificationText(domain string) string {
	return "MS=ms" + tenantDigits(8, t.id, domain)
}

// VerificationRecords returns the TXT and the equivalent MX record that
// prove ownership of the domain, from Microsoft 365's catalogue.
func (t *Tenant) VerificationRecords(ctx context.Context, name string) ([]backend.DNSRecord, error) {
	const op = "VerificationRecords"
	if err := t.begin(ctx, op, name); err != nil {
		return nil, err
	}
	t.mu.Lock()
	d := t.domainLocked(name)
	t.mu.Unlock()
	if d == nil {
		return nil, t.done(op, name, backend.Errorf(backend.NotFound, op, name, "Domain %s does not exist in the tenant.", name))
	}
	recs := backend.M365VerificationRecords(d.name, t.tenantVerificationText(d.name))
	for i := range recs {
		recs[i].ID = tenantStableID(t.id, d.name, "verify", recs[i].Type.GraphName())
		recs[i].Optional = false
	}
	return recs, t.done(op, name, nil)
}

// VerifyDomain verifies the domain when its MS= TXT record is published
// (PublishVerification, or found through TenantOptions.LookupTXT);
// FailedPrecondition with backend.ReasonVerificationRecordMissing otherwise.
func (t *Tenant) VerifyDomain(ctx context.Context, name string) (backend.Domain, error) {
	const op = "VerifyDomain"
	if err := t.begin(ctx, op, name); err != nil {
		return backend.Domain{}, err
	}
	t.mu.Lock()
	d := t.domainLocked(name)
	var verified, published bool
	var dname string
	if d != nil {
		verified, published, dname = d.verified, t.published[d.name], d.name
	}
	t.mu.Unlock()
	if d == nil {
		return backend.Domain{}, t.done(op, name, backend.Errorf(backend.NotFound, op, name, "Domain %s does not exist in the tenant.", name))
	}
	if !verified && !published && t.lookupTXT != nil {
		want := t.tenantVerificationText(dname)
		txts, err := t.lookupTXT(ctx, dname)
		if err := backend.CtxErr(ctx, op); err != nil {
			return backend.Domain{}, t.done(op, name, err)
		}
		if err == nil {
			published = slices.ContainsFunc(txts, func(s string) bool { return strings.TrimSpace(s) == want })
		}
	}
	t.mu.Lock()
	claimedBy := ""
	if d := t.domainLocked(dname); d != nil {
		claimedBy = d.claimedBy
	}
	t.mu.Unlock()
	if !verified && claimedBy != "" {
		return backend.Domain{}, t.done(op, name, &backend.Error{
			Kind: backend.FailedPrecondition, Op: op, Key: name, Reason: backend.ReasonDomainVerifiedElsewhere,
			Msg: "The domain is already added to a different Microsoft 365 organization: " + claimedBy + ". Remove it from that organization first.",
		})
	}
	if !verified && !published {
		return backend.Domain{}, t.done(op, name, &backend.Error{
			Kind: backend.FailedPrecondition, Op: op, Key: name, Reason: backend.ReasonVerificationRecordMissing,
			Msg: "Domain verification failed because the required DNS record " + t.tenantVerificationText(dname) + " was not found. DNS changes can take up to 72 hours.",
		})
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if d = t.domainLocked(dname); d == nil {
		return backend.Domain{}, t.done(op, name, backend.Errorf(backend.NotFound, op, name, "Domain %s does not exist in the tenant.", name))
	}
	if !d.verified {
		d.verified = true
		d.services = slices.Clone(tenantVerifiedServices)
		t.log.Debug("memory tenant verified domain", "domain", d.name)
	}
	return d.out(), t.done(op, name, nil)
}

// tenantMXHost returns the Exchange Online Protection host of a domain:
// dots become dashes. Microsoft mangles names that already hold hyphens and
// appends a suffix; this imitation drops the hyphens and appends three
// characters derived from the name, so callers must read the value from the
// service, never derive it.
func tenantMXHost(domain string) string {
	if !strings.Contains(domain, "-") {
		return strings.ReplaceAll(domain, ".", "-") + "." + backend.M365MXSuffix
	}
	labels := strings.Split(domain, ".")
	for i, l := range labels {
		labels[i] = strings.ReplaceAll(l, "-", "")
	}
	d := tenantDigits(2, domain)
	return strings.Join(labels, "-") + d + "e." + backend.M365MXSuffix
}

// ServiceConfigurationRecords returns the records a verified domain needs
// for Exchange Online, Teams/Skype for Business and Intune.
func (t *Tenant) ServiceConfigurationRecords(ctx context.Context, name string) ([]backend.DNSRecord, error) {
	const op = "ServiceConfigurationRecords"
	if err := t.begin(ctx, op, name); err != nil {
		return nil, err
	}
	t.mu.Lock()
	d := t.domainLocked(name)
	var dom backend.Domain
	if d != nil {
		dom = d.out()
	}
	t.mu.Unlock()
	if d == nil {
		return nil, t.done(op, name, backend.Errorf(backend.NotFound, op, name, "Domain %s does not exist in the tenant.", name))
	}
	if !dom.IsVerified {
		return nil, t.done(op, name, &backend.Error{
			Kind: backend.FailedPrecondition, Op: op, Key: name, Reason: backend.ReasonDomainUnverified,
			Msg: "Service configuration records are available only for a verified domain.",
		})
	}
	n := dom.Name
	var out []backend.DNSRecord
	if slices.Contains(dom.SupportedServices, backend.M365ServiceEmail) {
		out = append(out, backend.M365MailRecords(n, tenantMXHost(n))...)
	}
	if slices.Contains(dom.SupportedServices, backend.M365ServiceCommunication) {
		skype := backend.M365SkypeRecords(n)
		out = append(out, skype[0])
		out = append(out, backend.M365FederationRecords(n)...)
		out = append(out, skype[1:]...)
	}
	out = append(out, backend.M365MDMRecords(n)...)
	for i, r := range out {
		out[i].ID = tenantStableID(t.id, n, "service", r.Type.GraphName(), r.Name)
		out[i].Optional = false
	}
	return out, t.done(op, name, nil)
}

// DeleteDomain removes a custom domain. The initial and the default domain
// cannot be removed, nor a domain that a user's UPN (deleted users
// included) or an alias uses (FailedPrecondition).
func (t *Tenant) DeleteDomain(ctx context.Context, name string) error {
	const op = "DeleteDomain"
	return t.removeDomain(ctx, op, name, "memory tenant deleted domain", func(d *tenantDomain) error {
		if refs := t.referencesLocked(d.name); len(refs) > 0 {
			return domainPrecondition(op, name, backend.ReasonDomainInUse, fmt.Sprintf("The domain is still used by %d object(s) (%s); change their user names and addresses first.", len(refs), strings.Join(refs[:min(len(refs), 5)], ", ")))
		}
		suffix := "@" + d.name
		for k := range t.mail.byAddr { // distribution groups' addresses
			if strings.HasSuffix(k, suffix) {
				return domainPrecondition(op, name, backend.ReasonDomainInUse, "The domain is used by the email address of at least one recipient.")
			}
		}
		return nil
	})
}

// removeDomain is DeleteDomain and ForceDeleteDomain (op) around what
// differs: under the tenant's lock, once the domain passed
// removableDomainLocked, f checks the domain's references (or moves them);
// when f succeeds the domain is removed and logMsg logged.
func (t *Tenant) removeDomain(ctx context.Context, op, name, logMsg string, f func(d *tenantDomain) error) error {
	if err := t.begin(ctx, op, name); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	d, err := t.removableDomainLocked(op, name)
	if err == nil {
		err = f(d)
	}
	if err != nil {
		return t.done(op, name, err)
	}
	t.domains = slices.DeleteFunc(t.domains, func(o *tenantDomain) bool { return o == d })
	delete(t.published, d.name)
	t.log.Debug(logMsg, "domain", d.name)
	return t.done(op, name, nil)
}

// removableDomainLocked returns the domain name for DeleteDomain and
// ForceDeleteDomain (op): NotFound when the tenant has no such domain,
// FailedPrecondition for the initial and the default domain, which are never
// removed. The caller holds t.mu.
func (t *Tenant) removableDomainLocked(op, name string) (*tenantDomain, error) {
	d := t.domainLocked(name)
	if d == nil {
		return nil, backend.Errorf(backend.NotFound, op, name, "Domain %s does not exist in the tenant.", name)
	}
	if d.isInitial {
		return nil, domainPrecondition(op, name, backend.ReasonDomainInitial, "The initial onmicrosoft.com domain cannot be removed.")
	}
	if d.isDefault {
		return nil, domainPrecondition(op, name, backend.ReasonDomainDefault, "The default domain cannot be removed; make another domain the default first.")
	}
	return d, nil
}

// domainPrecondition is the FailedPrecondition a domain removal (op) meets.
func domainPrecondition(op, name string, rule backend.Reason, msg string) error {
	return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: name, Reason: rule, Msg: msg}
}

// referencesLocked lists the users (deleted ones included) whose UPN, and
// the recipients whose address, is on domain, sorted.
func (t *Tenant) referencesLocked(domain string) []string {
	suffix := "@" + domain
	var refs []string
	for k := range t.byUPN {
		if strings.HasSuffix(k, suffix) {
			refs = append(refs, "user:"+k)
		}
	}
	for k := range t.byAlias {
		if strings.HasSuffix(k, suffix) {
			refs = append(refs, "address:"+k)
		}
	}
	slices.Sort(refs)
	return refs
}

// DomainReferences lists the objects that use the domain: "user:<upn>"
// for users (deleted users included, as Graph counts them) and
// "address:<address>" for aliases.
func (t *Tenant) DomainReferences(ctx context.Context, name string) ([]string, error) {
	const op = "DomainReferences"
	if err := t.begin(ctx, op, name); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	d := t.domainLocked(name)
	if d == nil {
		return nil, t.done(op, name, backend.Errorf(backend.NotFound, op, name, "Domain %s does not exist in the tenant.", name))
	}
	return t.referencesLocked(d.name), t.done(op, name, nil)
}

// SetDefaultDomain makes a verified domain the default one.
func (t *Tenant) SetDefaultDomain(ctx context.Context, name string) (backend.Domain, error) {
	const op = "SetDefaultDomain"
	if err := t.begin(ctx, op, name); err != nil {
		return backend.Domain{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.domainLocked(name)
	if d == nil {
		return backend.Domain{}, t.done(op, name, backend.Errorf(backend.NotFound, op, name, "Domain %s does not exist in the tenant.", name))
	}
	if !d.verified {
		return backend.Domain{}, t.done(op, name, &backend.Error{
			Kind: backend.FailedPrecondition, Op: op, Key: name, Reason: backend.ReasonDomainUnverified,
			Msg: "Only a verified domain can be the default domain; verify it first.",
		})
	}
	t.setDefaultLocked(d)
	t.log.Debug("memory tenant set default domain", "domain", d.name)
	return d.out(), t.done(op, name, nil)
}

// ClaimedElsewhere simulates another organisation (with initial domain
// otherInitial) that has already verified the domain: a later VerifyDomain
// fails with FailedPrecondition (backend.ReasonDomainVerifiedElsewhere),
// as Microsoft 365 refuses a domain verified in another tenant. The domain
// must have been added. It is a seeding helper: neither recorded nor
// subject to faults.
func (t *Tenant) ClaimedElsewhere(domain, otherInitial string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.domainLocked(domain)
	if d == nil {
		return backend.Errorf(backend.NotFound, "tenant: claim domain elsewhere", domain, "Domain %s does not exist in the tenant.", domain)
	}
	d.claimedBy = strings.ToLower(otherInitial)
	return nil
}

// ForceDeleteDomain renames the users whose UPN is on the domain (deleted
// users included) to the same name on the initial domain (a name already
// taken there gets a number), removes the addresses on the domain,
// disables the renamed users when asked, then deletes the domain.
func (t *Tenant) ForceDeleteDomain(ctx context.Context, name string, disableUserAccounts bool) error {
	const op = "ForceDeleteDomain"
	return t.removeDomain(ctx, op, name, "memory tenant force-deleted domain", func(d *tenantDomain) error {
		if refs := t.referencesLocked(d.name); len(refs) > backend.ForceDeleteLimit {
			return domainPrecondition(op, name, backend.ReasonDomainTooManyReferences, fmt.Sprintf("%d objects use the domain; forceDelete handles at most %d.", len(refs), backend.ForceDeleteLimit))
		}
		var initial string
		for _, o := range t.domains {
			if o.isInitial {
				initial = o.name
			}
		}
		suffix := "@" + d.name
		for k, u := range t.byAlias {
			if strings.HasSuffix(k, suffix) {
				delete(t.byAlias, k)
				delete(u.aliases, k)
			}
		}
		for k, u := range t.byUPN {
			if !strings.HasSuffix(k, suffix) {
				continue
			}
			local := strings.TrimSuffix(k, suffix)
			upn := local + "@" + initial
			for n := 1; t.byUPN[upn] != nil; n++ {
				upn = fmt.Sprintf("%s%d@%s", local, n, initial)
			}
			delete(t.byUPN, k)
			t.byUPN[upn] = u
			u.user.UserPrincipalName = upn
			if strings.HasSuffix(strings.ToLower(u.user.Mail), suffix) {
				u.user.Mail = ""
			}
			if disableUserAccounts {
				u.user.AccountEnabled = false
			}
			t.seq++
			u.seq = t.seq
		}
		return nil
	})
}
