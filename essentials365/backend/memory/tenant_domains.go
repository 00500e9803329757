package memory

import (
	"context"
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
	const op = "AddVerifiedDomain"
	name = strings.ToLower(strings.TrimSpace(name))
	if rule := tenantDomainNameRule(name); rule != "" {
		return backend.Invalid(op, name, "domain-name", "%s", rule)
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
		return backend.Domain{}, t.done(op, name, backend.Invalid(op, name, "domain-name", "%s", rule))
	}
	if strings.HasSuffix(norm, ".onmicrosoft.com") || norm == "onmicrosoft.com" {
		return backend.Domain{}, t.done(op, name, backend.Invalid(op, name, "domain-name", "onmicrosoft.com domains cannot be added as custom domains"))
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
// prove ownership of the domain.
func (t *Tenant) VerificationRecords(ctx context.Context, name string) ([]backend.DomainDNSRecord, error) {
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
	text := t.tenantVerificationText(d.name)
	token := strings.TrimPrefix(text, "MS=")
	recs := []backend.DomainDNSRecord{
		{
			ID: tenantStableID(t.id, d.name, "verify", "Txt"), Label: d.name, RecordType: "Txt",
			TTL: 3600, Text: text,
		},
		{
			ID: tenantStableID(t.id, d.name, "verify", "Mx"), Label: d.name, RecordType: "Mx",
			TTL: 3600, MailExchange: token + ".msv1.invalid", Preference: 32767,
		},
	}
	return recs, t.done(op, name, nil)
}

// VerifyDomain verifies the domain when its MS= TXT record is published
// (PublishVerification, or found through TenantOptions.LookupTXT);
// FailedPrecondition with rule "verification-record-missing" otherwise.
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
	if !verified && !published {
		return backend.Domain{}, t.done(op, name, &backend.Error{
			Kind: backend.FailedPrecondition, Op: op, Key: name, Reason: "verification-record-missing",
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
		return strings.ReplaceAll(domain, ".", "-") + ".mail.protection.outlook.com"
	}
	labels := strings.Split(domain, ".")
	for i, l := range labels {
		labels[i] = strings.ReplaceAll(l, "-", "")
	}
	d := tenantDigits(2, domain)
	return strings.Join(labels, "-") + d + "e.mail.protection.outlook.com"
}

// ServiceConfigurationRecords returns the records a verified domain needs
// for Exchange Online, Teams/Skype for Business and Intune.
func (t *Tenant) ServiceConfigurationRecords(ctx context.Context, name string) ([]backend.DomainDNSRecord, error) {
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
			Kind: backend.FailedPrecondition, Op: op, Key: name, Reason: "domain-unverified",
			Msg: "Service configuration records are available only for a verified domain.",
		})
	}
	n := dom.Name
	rec := func(kind, label, service string) backend.DomainDNSRecord {
		return backend.DomainDNSRecord{
			ID: tenantStableID(t.id, n, "service", kind, label), Label: label, RecordType: kind,
			TTL: 3600, SupportedService: service,
		}
	}
	var out []backend.DomainDNSRecord
	if slices.Contains(dom.SupportedServices, "Email") {
		mx := rec("Mx", n, "Email")
		mx.MailExchange, mx.Preference = tenantMXHost(n), 0
		spf := rec("Txt", n, "Email")
		spf.Text = "v=spf1 include:spf.protection.outlook.com -all"
		auto := rec("CName", "autodiscover."+n, "Email")
		auto.CanonicalName = "autodiscover.outlook.com"
		out = append(out, mx, spf, auto)
	}
	if slices.Contains(dom.SupportedServices, "OfficeCommunicationsOnline") {
		sip := rec("Srv", "_sip._tls."+n, "OfficeCommunicationsOnline")
		sip.Service, sip.Protocol, sip.NameTarget, sip.Port, sip.Priority, sip.Weight = "_sip", "_tls", "sipdir.online.lync.com", 443, 100, 1
		fed := rec("Srv", "_sipfederationtls._tcp."+n, "OfficeCommunicationsOnline")
		fed.Service, fed.Protocol, fed.NameTarget, fed.Port, fed.Priority, fed.Weight = "_sipfederationtls", "_tcp", "sipfed.online.lync.com", 5061, 100, 1
		sipC := rec("CName", "sip."+n, "OfficeCommunicationsOnline")
		sipC.CanonicalName = "sipdir.online.lync.com"
		lync := rec("CName", "lyncdiscover."+n, "OfficeCommunicationsOnline")
		lync.CanonicalName = "webdir.online.lync.com"
		out = append(out, sip, fed, sipC, lync)
	}
	reg := rec("CName", "enterpriseregistration."+n, "Intune")
	reg.CanonicalName = "enterpriseregistration.windows.net"
	enr := rec("CName", "enterpriseenrollment."+n, "Intune")
	enr.CanonicalName = "enterpriseenrollment-s.manage.microsoft.com"
	out = append(out, reg, enr)
	return out, t.done(op, name, nil)
}

// DeleteDomain removes a custom domain. The initial and the default domain
// cannot be removed, nor a domain that a user's UPN (deleted users
// included) or an alias uses (FailedPrecondition).
func (t *Tenant) DeleteDomain(ctx context.Context, name string) error {
	const op = "DeleteDomain"
	if err := t.begin(ctx, op, name); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	d := t.domainLocked(name)
	if d == nil {
		return t.done(op, name, backend.Errorf(backend.NotFound, op, name, "Domain %s does not exist in the tenant.", name))
	}
	fail := func(rule, msg string) error {
		return t.done(op, name, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: name, Reason: backend.Reason(rule), Msg: msg})
	}
	if d.isInitial {
		return fail("domain-initial", "The initial onmicrosoft.com domain cannot be removed.")
	}
	if d.isDefault {
		return fail("domain-default", "The default domain cannot be removed; make another domain the default first.")
	}
	suffix := "@" + d.name
	for k := range t.byUPN {
		if strings.HasSuffix(k, suffix) {
			return fail("domain-in-use", "The domain is used by the userPrincipalName of at least one user, deleted users included.")
		}
	}
	for k := range t.byAlias {
		if strings.HasSuffix(k, suffix) {
			return fail("domain-in-use", "The domain is used by the email address of at least one recipient.")
		}
	}
	for k := range t.mail.byAddr { // distribution groups' addresses
		if strings.HasSuffix(k, suffix) {
			return fail("domain-in-use", "The domain is used by the email address of at least one recipient.")
		}
	}
	t.domains = slices.DeleteFunc(t.domains, func(o *tenantDomain) bool { return o == d })
	delete(t.published, d.name)
	t.log.Debug("memory tenant deleted domain", "domain", d.name)
	return t.done(op, name, nil)
}
