package dnsrecords

import (
	"fmt"
	"net/mail"
	"strings"
)

// DefaultTTL is the TTL, in seconds, Microsoft documents for every record
// (one hour). Microsoft gives no TTL for the DKIM CNAMEs; they get this one too.
const DefaultTTL = 3600

// Documented values for the worldwide cloud.
const (
	autodiscoverTarget = "autodiscover.outlook.com"
	owaTarget          = "mail.office365.com"
	sipfedTarget       = "sipfed.online.lync.com"
	sipdirTarget       = "sipdir.online.lync.com"
	webdirTarget       = "webdir.online.lync.com"
	enrollmentTarget   = "enterpriseenrollment-s.manage.microsoft.com"
	registrationTarget = "enterpriseregistration.windows.net"
	mxLegacySuffix     = "mail.protection.outlook.com"
	mxNewSuffix        = "mx.microsoft"
	verificationSuffix = "msv1.invalid"
	placeholderToken   = "msXXXXXXXX"
	verificationMXPref = 32767
)

// Options tunes Generate. The zero value (or nil) generates every service's
// records derived from the domain name.
type Options struct {
	// Services selects the groups of records; empty means AllServices().
	Services []Service

	// TenantRecords are the records the tenant reports for the domain
	// (Graph's verificationDnsRecords and serviceConfigurationRecords). Each
	// replaces the derived or documented record of the same role.
	TenantRecords []TenantRecord

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
	// apex; the SPF record among them is merged with Microsoft's include.
	ExistingSPF []string

	// DMARCPolicy is none (default), quarantine or reject.
	DMARCPolicy string
	// DMARCReports is the mailbox that receives aggregate DMARC reports
	// (rua). Empty: no reports are asked for.
	DMARCReports string

	// MailMigration keeps the Microsoft 365 MX above the active one while
	// mail is being migrated: its preference becomes ActiveMXPreference+10.
	MailMigration bool
	// ActiveMXPreference is the preference of the MX that receives mail
	// today, used with MailMigration.
	ActiveMXPreference uint16

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
		return nil, invalid("", RuleEmpty, "the domain is empty; get one from ParseDomain")
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

func (g *generator) defaults(want map[Service]bool) error {
	d := g.d
	o := g.opts
	if want[ServiceVerification] {
		token, src, placeholder := placeholderToken, SourceDerived, true
		if o.VerificationToken != "" {
			t := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(o.VerificationToken), "MS="), "ms="))
			if !validToken(t) {
				return invalid(o.VerificationToken, RuleOption, "the verification token must look like ms12345678")
			}
			token, src, placeholder = t, SourceTenant, false
		}
		txt := Record{Role: RoleVerificationTXT, Name: d.Name, Type: TypeTXT, Text: "MS=" + token,
			Service: ServiceVerification, Source: src, Placeholder: placeholder}
		mx := Record{Role: RoleVerificationMX, Name: d.Name, Type: TypeMX, Preference: verificationMXPref,
			Exchange: token + "." + verificationSuffix, Service: ServiceVerification, Optional: true, Source: src, Placeholder: placeholder}
		txt.Explanation, mx.Explanation = explain(txt.Role), explain(mx.Role)
		if placeholder {
			txt.Explanation.Warnings = append([]string{warnPlaceholder}, txt.Explanation.Warnings...)
			mx.Explanation.Warnings = append([]string{warnPlaceholder}, mx.Explanation.Warnings...)
		}
		g.add(txt)
		g.add(mx)
	}
	if want[ServiceMail] {
		mx := Record{Role: RoleMX, Name: d.Name, Type: TypeMX, Service: ServiceMail, Explanation: explain(RoleMX)}
		if o.MailExchange != "" {
			if err := checkHostName(o.MailExchange); err != nil {
				return err
			}
			mx.Exchange, mx.Source = canonicalHost(o.MailExchange), SourceTenant
		} else {
			mx.Exchange, mx.Source = mxToken(d.Name)+"."+mxLegacySuffix, SourceDerived
			mx.Explanation.Warnings = append(mx.Explanation.Warnings, warnDerivedMX)
			if strings.Contains(d.Name, "-") {
				mx.Explanation.Warnings = append(mx.Explanation.Warnings, warnHyphenMX)
				g.set.Warnings = append(g.set.Warnings, "the MX host for "+d.Name+" cannot be derived (the name contains a hyphen): copy it from the admin center")
			}
		}
		if o.MailMigration {
			p := int(o.ActiveMXPreference) + 10
			if p > 65535 {
				p = 65535
			}
			mx.Preference = uint16(p)
			g.set.Warnings = append(g.set.Warnings, fmt.Sprintf("mail migration: the Microsoft 365 MX has preference %d, above the active MX (%d); set it to 0 when the migration ends", p, o.ActiveMXPreference))
		}
		g.add(mx)
		g.add(Record{Role: RoleAutodiscover, Name: g.owner("autodiscover"), Type: TypeCNAME, Target: autodiscoverTarget,
			Service: ServiceMail, Source: SourceDocumented})
		spf, err := MergeSPF(o.ExistingSPF, SPFInclude)
		if err != nil {
			return err
		}
		g.set.Warnings = append(g.set.Warnings, spf.Warnings...)
		r := Record{Role: RoleSPF, Name: d.Name, Type: TypeTXT, Text: spf.Record, Service: ServiceMail, Source: SourceDocumented,
			Explanation: explain(RoleSPF)}
		if spf.Merged > 0 {
			r.Explanation.Warnings = append(r.Explanation.Warnings, "This record replaces the SPF record the domain publishes today: edit that record rather than adding this one beside it.")
		}
		r.Explanation.Warnings = append(r.Explanation.Warnings, spf.Warnings...)
		g.add(r)
		if o.OWAAlias {
			g.add(Record{Role: RoleOWA, Name: g.owner("mail"), Type: TypeCNAME, Target: owaTarget, Service: ServiceMail,
				Optional: true, Source: SourceDocumented})
		}
	}
	if want[ServiceFederation] {
		g.add(Record{Role: RoleSIPFederation, Name: g.owner("_sipfederationtls._tcp"), Type: TypeSRV, Priority: 100, Weight: 1,
			Port: 5061, Target: sipfedTarget, Service: ServiceFederation, Source: SourceDocumented})
	}
	if want[ServiceSkypeLegacy] {
		g.add(Record{Role: RoleSIPTLS, Name: g.owner("_sip._tls"), Type: TypeSRV, Priority: 100, Weight: 1, Port: 443,
			Target: sipdirTarget, Service: ServiceSkypeLegacy, Optional: true, Source: SourceDocumented})
		g.add(Record{Role: RoleSIP, Name: g.owner("sip"), Type: TypeCNAME, Target: sipdirTarget, Service: ServiceSkypeLegacy,
			Optional: true, Source: SourceDocumented})
		g.add(Record{Role: RoleLyncdiscover, Name: g.owner("lyncdiscover"), Type: TypeCNAME, Target: webdirTarget,
			Service: ServiceSkypeLegacy, Optional: true, Source: SourceDocumented})
	}
	if want[ServiceMDM] {
		g.add(Record{Role: RoleEnrollment, Name: g.owner("enterpriseenrollment"), Type: TypeCNAME, Target: enrollmentTarget,
			Service: ServiceMDM, Source: SourceDocumented})
		g.add(Record{Role: RoleRegistration, Name: g.owner("enterpriseregistration"), Type: TypeCNAME, Target: registrationTarget,
			Service: ServiceMDM, Source: SourceDocumented})
	}
	if want[ServiceDKIM] {
		t1, t2, src, err := g.dkimTargets()
		if err != nil {
			return err
		}
		for i, t := range []string{t1, t2} {
			role := RoleDKIM1
			if i == 1 {
				role = RoleDKIM2
			}
			r := Record{Role: role, Name: g.owner(fmt.Sprintf("selector%d._domainkey", i+1)), Type: TypeCNAME, Target: t,
				Service: ServiceDKIM, Source: src, Explanation: explain(role)}
			if src == SourceDerived {
				r.Explanation.Warnings = append(r.Explanation.Warnings, warnDerivedDKIM)
			}
			g.add(r)
		}
	}
	if want[ServiceDMARC] {
		text, err := dmarcText(o.DMARCPolicy, o.DMARCReports)
		if err != nil {
			return err
		}
		g.add(Record{Role: RoleDMARC, Name: g.owner("_dmarc"), Type: TypeTXT, Text: text, Service: ServiceDMARC, Source: SourceDocumented})
	}
	return nil
}

// dkimTargets returns the two DKIM CNAME targets.
func (g *generator) dkimTargets() (string, string, Source, error) {
	o := g.opts
	if o.DKIMSelector1 != "" || o.DKIMSelector2 != "" {
		if o.DKIMSelector1 == "" || o.DKIMSelector2 == "" {
			return "", "", "", invalid(o.DKIMSelector1+o.DKIMSelector2, RuleOption, "give both DKIM selector targets or neither")
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
			return "", "", "", invalid(o.InitialDomain, RuleOption, "the initial domain must look like contoso.onmicrosoft.com")
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
		return "", "", "", invalid(o.DKIMPartition, RuleOption, "the DKIM partition is a single letter")
	}
	mk := func(n int) string { return fmt.Sprintf("selector%d-%s._domainkey.%s", n, token, suffix) }
	t1, t2 := mk(1), mk(2)
	for _, t := range []string{t1, t2} {
		if err := checkHostName(t); err != nil {
			return "", "", "", invalid(t, RuleOption, "the derived DKIM target is not a valid host name; pass DKIMSelector1 and DKIMSelector2")
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
		return "", invalid(policy, RuleOption, "the DMARC policy is none, quarantine or reject")
	}
	text := "v=DMARC1; p=" + p + "; pct=100"
	if reports != "" {
		a, err := mail.ParseAddress(reports)
		if err != nil || a.Name != "" || a.Address != strings.TrimSpace(reports) || strings.ContainsAny(a.Address, ";,!\" \\") {
			return "", invalid(reports, RuleOption, "the DMARC report mailbox must be a plain address such as dmarc@contoso.com")
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
