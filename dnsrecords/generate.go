package dnsrecords

import (
	"fmt"
	"net/mail"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// DefaultTTL is the TTL, in seconds, Microsoft documents for every record
// (one hour). Microsoft gives no TTL for the DKIM CNAMEs; they get this one too.
const DefaultTTL = backend.M365TTL

// Values for the worldwide cloud; the documented ones come from the one
// catalogue in essentials365/backend.
const (
	owaTarget          = backend.M365OWATarget
	mxLegacySuffix     = backend.M365MXSuffix
	mxNewSuffix        = "mx.microsoft"
	verificationSuffix = backend.M365VerificationSuffix
	placeholderToken   = "msXXXXXXXX"
)

// Options tunes Generate. The zero value (or nil) generates every service's
// records derived from the domain name.
type Options struct {
	// Services selects the groups of records; empty means AllServices().
	Services []Service

	// TenantRecords are the records the tenant reports for the domain
	// (Graph's verificationDnsRecords and serviceConfigurationRecords). Each
	// replaces the derived or documented record of the same role.
	// Decode Graph's JSON into backend.GraphDNSRecord and convert each with
	// its DNSRecord method.
	TenantRecords []backend.DNSRecord

	// VerificationToken is the domain's verification token ("ms12345678" or
	// "MS=ms12345678"). Empty: a placeholder is generated.
	VerificationToken string
	// MailExchange is the MX host the tenant shows for the domain. Empty: it
	// is derived from the domain name and flagged unverified.
	MailExchange string
	// InitialDomain is the tenant's initial domain (contoso.onmicrosoft.com),
	// used to derive the DKIM targets. Empty: guessed from the domain name.
	InitialDomain string
	// DKIMSelector1 and DKIMSelector2 are the DKIM CNAME targets from
	// Get-DkimSigningConfig (Selector1CNAME, Selector2CNAME). Empty: derived.
	DKIMSelector1, DKIMSelector2 string
	// DKIMPartition is the one-letter partition of the newer DKIM format
	// (selector1-contoso-com._domainkey.contoso.<p>-v1.dkim.mail.microsoft).
	// Empty: the older onmicrosoft.com format is derived.
	DKIMPartition string

	// ExistingSPF holds the TXT values the domain already publishes at its
	// apex; the SPF record among them is merged with Microsoft's include,
	// keeping its all qualifier (~all stays ~all).
	ExistingSPF []string
	// SPFAll replaces the merged record's policy: "-all", "~all", "?all".
	// Empty keeps the existing record's, or -all when there is none.
	SPFAll string

	// DMARCPolicy is none (default), quarantine or reject.
	DMARCPolicy string
	// DMARCReports is the mailbox that receives aggregate DMARC reports
	// (rua). Empty: no reports are asked for.
	DMARCReports string

	// MailMigration keeps the Microsoft 365 MX below the active one in
	// priority while mail is being migrated, as the seed requires: its
	// preference becomes ActiveMXPreference+10 (at most 65535), strictly
	// higher than the active MX's.
	MailMigration bool
	// ActiveMXPreference is the preference of the MX that receives mail
	// today; required with MailMigration (nil is an error, not 0), and it
	// must be below 65535 so that a strictly higher one exists.
	ActiveMXPreference *uint16

	// OWAAlias adds the optional mail CNAME to mail.office365.com that the
	// Essentials wizard offered for Outlook on the web.
	OWAAlias bool
}

// Generate returns the records domain d needs for Microsoft 365, in a stable
// order: by service, then in the order of Microsoft's documentation.
func Generate(d Domain, opts *Options) (*RecordSet, error) {
	if opts == nil {
		opts = &Options{}
	}
	if d.Name == "" {
		return nil, invalid(opGenerate, "", ReasonEmpty, "the domain is empty; get one from ParseDomain")
	}
	services := opts.Services
	if len(services) == 0 {
		services = AllServices()
	}
	want := map[Service]bool{}
	for _, s := range services {
		if _, err := ParseService(string(s)); err != nil {
			return nil, err
		}
		want[s] = true
	}
	g := &generator{d: d, opts: opts, set: &RecordSet{Domain: d, MailMigration: opts.MailMigration}}
	g.set.Warnings = append(g.set.Warnings, d.Warnings...)
	if err := g.defaults(want); err != nil {
		return nil, err
	}
	if err := g.tenant(want); err != nil {
		return nil, err
	}
	g.finish()
	return g.set, nil
}

type generator struct {
	d    Domain
	opts *Options
	set  *RecordSet
}

func (g *generator) add(r Record) {
	if r.TTL == 0 {
		r.TTL = DefaultTTL
	}
	if r.Explanation.Purpose == "" {
		r.Explanation = explain(r.Role)
	}
	g.set.Records = append(g.set.Records, r)
}

func (g *generator) owner(host string) string {
	if host == "@" || host == "" {
		return g.d.Name
	}
	return host + "." + g.d.Name
}

// defaults adds the derived and documented records of every wanted
// service, one function per service, in output order.
func (g *generator) defaults(want map[Service]bool) error {
	steps := []struct {
		svc Service
		add func() error
	}{
		{ServiceVerification, g.verificationDefaults},
		{ServiceMail, g.mailDefaults},
		{ServiceFederation, g.federationDefaults},
		{ServiceSkypeLegacy, g.skypeDefaults},
		{ServiceMDM, g.mdmDefaults},
		{ServiceDKIM, g.dkimDefaults},
		{ServiceDMARC, g.dmarcDefaults},
	}
	for _, st := range steps {
		if !want[st.svc] {
			continue
		}
		if err := st.add(); err != nil {
			return err
		}
	}
	return nil
}

// fromCatalogue adds the catalogue's records, with their role and service.
func (g *generator) fromCatalogue(recs []backend.DNSRecord, svc Service) {
	for _, r := range recs {
		r.SupportedService = ""
		rec := Record{DNSRecord: r, Service: svc, Source: SourceDocumented}
		rec.Role = classify(rec, g.d.Name)
		g.add(rec)
	}
}

// verificationDefaults adds the MS=ms… TXT and the equivalent MX.
func (g *generator) verificationDefaults() error {
	o := g.opts
	token, src, placeholder := placeholderToken, SourceDerived, true
	if o.VerificationToken != "" {
		t := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(o.VerificationToken), "MS="), "ms="))
		if !validToken(t) {
			return invalid(opGenerate, o.VerificationToken, ReasonOption, "the verification token must look like ms12345678")
		}
		token, src, placeholder = t, SourceTenant, false
	}
	recs := backend.M365VerificationRecords(g.d.Name, "MS="+token)
	txt := Record{DNSRecord: recs[0], Role: RoleVerificationTXT, Service: ServiceVerification, Source: src, Placeholder: placeholder}
	mx := Record{DNSRecord: recs[1], Role: RoleVerificationMX, Service: ServiceVerification, Source: src, Placeholder: placeholder}
	txt.Explanation, mx.Explanation = explain(txt.Role), explain(mx.Role)
	if placeholder {
		txt.Explanation.Warnings = append([]string{warnPlaceholder}, txt.Explanation.Warnings...)
		mx.Explanation.Warnings = append([]string{warnPlaceholder}, mx.Explanation.Warnings...)
	}
	g.add(txt)
	g.add(mx)
	return nil
}

// mailDefaults adds the MX, autodiscover, SPF and the optional OWA alias.
func (g *generator) mailDefaults() error {
	d, o := g.d, g.opts
	mxHost, src := "", SourceTenant
	if o.MailExchange != "" {
		if err := checkHostName(o.MailExchange); err != nil {
			return err
		}
		mxHost = canonicalHost(o.MailExchange)
	} else {
		mxHost, src = mxToken(d.Name)+"."+mxLegacySuffix, SourceDerived
	}
	cat := backend.M365MailRecords(d.Name, mxHost)
	mx := Record{DNSRecord: cat[0], Role: RoleMX, Service: ServiceMail, Source: src, Explanation: explain(RoleMX)}
	mx.SupportedService = ""
	if src == SourceDerived {
		mx.Explanation.Warnings = append(mx.Explanation.Warnings, warnDerivedMX)
		if strings.Contains(d.Name, "-") {
			mx.Explanation.Warnings = append(mx.Explanation.Warnings, warnHyphenMX)
			g.set.Warnings = append(g.set.Warnings, "the MX host for "+d.Name+" cannot be derived (the name contains a hyphen): copy it from the admin center")
		}
	}
	if o.MailMigration {
		p, err := migrationPreference(o.ActiveMXPreference)
		if err != nil {
			return err
		}
		mx.Preference = p
		g.set.Warnings = append(g.set.Warnings, fmt.Sprintf("mail migration: the Microsoft 365 MX has preference %d, above the active MX (%d); set it to 0 when the migration ends", p, *o.ActiveMXPreference))
	}
	g.add(mx)
	g.fromCatalogue(cat[2:], ServiceMail)
	spf, err := MergeSPF(o.ExistingSPF, SPFInclude)
	if err != nil {
		return err
	}
	if spf.Record, err = withSPFAll(spf.Record, o.SPFAll); err != nil {
		return err
	}
	g.set.Warnings = append(g.set.Warnings, spf.Warnings...)
	r := Record{DNSRecord: backend.DNSRecord{Name: d.Name, Type: TypeTXT, Text: spf.Record}, Role: RoleSPF, Service: ServiceMail,
		Source: SourceDocumented, Explanation: explain(RoleSPF)}
	if spf.Merged > 0 {
		r.Explanation.Warnings = append(r.Explanation.Warnings, "This record replaces the SPF record the domain publishes today: edit that record rather than adding this one beside it.")
	}
	r.Explanation.Warnings = append(r.Explanation.Warnings, spf.Warnings...)
	g.add(r)
	if o.OWAAlias {
		g.add(Record{DNSRecord: backend.DNSRecord{Name: g.owner("mail"), Type: TypeCNAME, Target: owaTarget, Optional: true},
			Role: RoleOWA, Service: ServiceMail, Source: SourceDocumented})
	}
	return nil
}

// migrationPreference returns the Microsoft 365 MX preference during a
// mail migration: strictly higher than the active MX's (the seed keeps the
// active server first), active+10 capped at 65535. An unknown active
// preference, or 65535 (nothing is higher), is an error.
func migrationPreference(active *uint16) (uint16, error) {
	if active == nil {
		return 0, invalid(opGenerate, "ActiveMXPreference", ReasonOption, "a mail migration needs the preference of the MX that receives mail today; read it with a DNS lookup and pass it as ActiveMXPreference")
	}
	if *active == 65535 {
		return 0, invalid(opGenerate, "ActiveMXPreference", ReasonOption, "the active MX has preference 65535, so no MX can come after it; lower the active MX's preference first")
	}
	return uint16(min(int(*active)+10, 65535)), nil
}

// federationDefaults adds the Teams federation SRV record.
func (g *generator) federationDefaults() error {
	g.fromCatalogue(backend.M365FederationRecords(g.d.Name), ServiceFederation)
	return nil
}

// skypeDefaults adds the legacy Skype for Business records.
func (g *generator) skypeDefaults() error {
	g.fromCatalogue(backend.M365SkypeRecords(g.d.Name), ServiceSkypeLegacy)
	return nil
}

// mdmDefaults adds the Intune enrollment and device registration CNAMEs.
func (g *generator) mdmDefaults() error {
	recs := backend.M365MDMRecords(g.d.Name)
	// Microsoft's documentation lists enrollment first.
	g.fromCatalogue([]backend.DNSRecord{recs[1], recs[0]}, ServiceMDM)
	return nil
}

// dkimDefaults adds the two DKIM selector CNAMEs.
func (g *generator) dkimDefaults() error {
	t1, t2, src, err := g.dkimTargets()
	if err != nil {
		return err
	}
	for i, t := range []string{t1, t2} {
		role := RoleDKIM1
		if i == 1 {
			role = RoleDKIM2
		}
		r := Record{DNSRecord: backend.DNSRecord{Name: g.owner(fmt.Sprintf("selector%d._domainkey", i+1)), Type: TypeCNAME, Target: t},
			Role: role, Service: ServiceDKIM, Source: src, Explanation: explain(role)}
		if src == SourceDerived {
			r.Explanation.Warnings = append(r.Explanation.Warnings, warnDerivedDKIM)
		}
		g.add(r)
	}
	return nil
}

// dmarcDefaults adds the DMARC policy TXT.
func (g *generator) dmarcDefaults() error {
	text, err := dmarcText(g.opts.DMARCPolicy, g.opts.DMARCReports)
	if err != nil {
		return err
	}
	g.add(Record{DNSRecord: backend.DNSRecord{Name: g.owner("_dmarc"), Type: TypeTXT, Text: text}, Role: RoleDMARC,
		Service: ServiceDMARC, Source: SourceDocumented})
	return nil
}

// dkimTargets returns the two DKIM CNAME targets.
func (g *generator) dkimTargets() (string, string, Source, error) {
	o := g.opts
	if o.DKIMSelector1 != "" || o.DKIMSelector2 != "" {
		if o.DKIMSelector1 == "" || o.DKIMSelector2 == "" {
			return "", "", "", invalid(opGenerate, o.DKIMSelector1+o.DKIMSelector2, ReasonOption, "give both DKIM selector targets or neither")
		}
		for _, t := range []string{o.DKIMSelector1, o.DKIMSelector2} {
			if err := checkHostName(t); err != nil {
				return "", "", "", err
			}
		}
		return canonicalHost(o.DKIMSelector1), canonicalHost(o.DKIMSelector2), SourceTenant, nil
	}
	initial := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o.InitialDomain), "."))
	if initial == "" {
		first := strings.SplitN(g.d.Registrable, ".", 2)[0]
		initial = strings.ReplaceAll(first, "-", "") + ".onmicrosoft.com"
	} else {
		if !strings.HasSuffix(initial, ".onmicrosoft.com") || strings.Count(initial, ".") != 2 {
			return "", "", "", invalid(opGenerate, o.InitialDomain, ReasonOption, "the initial domain must look like contoso.onmicrosoft.com")
		}
		if err := checkHostName(initial); err != nil {
			return "", "", "", err
		}
	}
	token := mxToken(g.d.Name)
	var suffix string
	switch p := strings.ToLower(o.DKIMPartition); {
	case p == "":
		suffix = initial
	case len(p) == 1 && p[0] >= 'a' && p[0] <= 'z':
		suffix = strings.TrimSuffix(initial, ".onmicrosoft.com") + "." + p + "-v1.dkim.mail.microsoft"
	default:
		return "", "", "", invalid(opGenerate, o.DKIMPartition, ReasonOption, "the DKIM partition is a single letter")
	}
	mk := func(n int) string { return fmt.Sprintf("selector%d-%s._domainkey.%s", n, token, suffix) }
	t1, t2 := mk(1), mk(2)
	for _, t := range []string{t1, t2} {
		if err := checkHostName(t); err != nil {
			return "", "", "", invalid(opGenerate, t, ReasonOption, "the derived DKIM target is not a valid host name; pass DKIMSelector1 and DKIMSelector2")
		}
	}
	return t1, t2, SourceDerived, nil
}

// mxToken derives the host label Microsoft uses for a domain: dots become
// hyphens, existing hyphens are dropped (Microsoft then adds a suffix that
// cannot be derived).
func mxToken(domain string) string {
	return strings.ReplaceAll(strings.ReplaceAll(domain, "-", ""), ".", "-")
}

func validToken(t string) bool {
	if len(t) < 3 || len(t) > 40 || !strings.HasPrefix(t, "ms") {
		return false
	}
	for i := 2; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return true
}

func dmarcText(policy, reports string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(policy))
	switch p {
	case "":
		p = "none"
	case "none", "quarantine", "reject":
	default:
		return "", invalid(opGenerate, policy, ReasonOption, "the DMARC policy is none, quarantine or reject")
	}
	text := "v=DMARC1; p=" + p + "; pct=100"
	if reports != "" {
		a, err := mail.ParseAddress(reports)
		if err != nil || a.Name != "" || a.Address != strings.TrimSpace(reports) || strings.ContainsAny(a.Address, ";,!\" \\") {
			return "", invalid(opGenerate, reports, ReasonOption, "the DMARC report mailbox must be a plain address such as dmarc@contoso.com")
		}
		text += "; rua=mailto:" + a.Address
	}
	return text, nil
}

func canonicalHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
}

// finish orders the records by service, keeping the generation order
// inside a service.
func (g *generator) finish() {
	recs := g.set.Records
	sorted := make([]Record, 0, len(recs))
	for _, s := range append(AllServices(), ServiceOther) {
		for _, r := range recs {
			if r.Service == s {
				sorted = append(sorted, r)
			}
		}
	}
	g.set.Records = sorted
}
