package dnsrecords

import (
	"strings"
)

// TenantRecord is one record as the tenant reports it. Its fields and JSON
// names follow Microsoft Graph's domainDnsRecord and its subtypes
// (domainDnsMxRecord, domainDnsTxtRecord, domainDnsCnameRecord,
// domainDnsSrvRecord), so the records of
// GET /domains/{id}/serviceConfigurationRecords and verificationDnsRecords can
// be decoded straight into it.
type TenantRecord struct {
	// Label is the owner name as a fully qualified name (autodiscover.contoso.com).
	Label string `json:"label"`
	// RecordType is Mx, Txt, CName or Srv.
	RecordType string `json:"recordType"`
	// TTL in seconds; 0 means DefaultTTL.
	TTL int32 `json:"ttl"`
	// SupportedService is Graph's service name: Email,
	// OfficeCommunicationsOnline, Intune, ... or empty for verification.
	SupportedService string `json:"supportedService,omitempty"`
	IsOptional       bool   `json:"isOptional"`

	MailExchange string `json:"mailExchange,omitempty"` // Mx
	Preference   int32  `json:"preference,omitempty"`   // Mx

	Text string `json:"text,omitempty"` // Txt

	CanonicalName string `json:"canonicalName,omitempty"` // CName

	NameTarget string `json:"nameTarget,omitempty"` // Srv
	Port       int32  `json:"port,omitempty"`       // Srv
	Priority   int32  `json:"priority,omitempty"`   // Srv
	Protocol   string `json:"protocol,omitempty"`   // Srv, e.g. _tcp
	Service    string `json:"service,omitempty"`    // Srv, e.g. _sipfederationtls
	Weight     int32  `json:"weight,omitempty"`     // Srv
}

// tenant converts opts.TenantRecords and puts each in place of the record of
// the same role.
func (g *generator) tenant(want map[Service]bool) error {
	replaced := map[Role]bool{}
	for _, tr := range g.opts.TenantRecords {
		if strings.EqualFold(tr.RecordType, "mx") && tr.MailExchange == "" && tr.SupportedService == "" {
			// Graph may list the verification MX without its value: keep
			// the derived one.
			g.set.Warnings = append(g.set.Warnings, "the tenant listed a verification MX without a value; the derived one is shown")
			continue
		}
		r, err := g.fromTenant(tr)
		if err != nil {
			return err
		}
		if r.Type == TypeCNAME && r.Name == "msoid."+g.d.Name {
			g.set.Warnings = append(g.set.Warnings, "the tenant listed an msoid CNAME; it was left out: "+warnMSOID)
			continue
		}
		if !want[r.Service] && !(r.Service == ServiceOther && len(g.opts.Services) == 0) {
			continue
		}
		if r.Role == RoleSPF {
			spf, err := MergeSPF(append([]string{r.Text}, g.opts.ExistingSPF...), SPFInclude)
			if err != nil {
				return err
			}
			r.Text = spf.Record
			r.Explanation.Warnings = append(r.Explanation.Warnings, spf.Warnings...)
		}
		idx := -1
		if r.Role != RoleOther && !replaced[r.Role] {
			for i, old := range g.set.Records {
				if old.Role == r.Role {
					idx = i
					break
				}
			}
		}
		replaced[r.Role] = true
		if idx >= 0 {
			g.set.Records[idx] = r
		} else {
			g.set.Records = append(g.set.Records, r)
		}
	}
	if replaced[RoleVerificationTXT] && !replaced[RoleVerificationMX] {
		txt, _ := g.set.Find(RoleVerificationTXT)
		token := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(txt.Text, "MS="), "ms="))
		for i, r := range g.set.Records {
			if r.Role == RoleVerificationMX && r.Placeholder && validToken(token) {
				r.Exchange, r.Placeholder, r.Source = token+"."+verificationSuffix, false, SourceTenant
				r.Explanation = explain(RoleVerificationMX)
				g.set.Records[i] = r
			}
		}
	}
	if replaced[RoleMX] {
		g.dropSetWarnings()
	}
	return nil
}

// dropSetWarnings removes the derivation warnings a tenant value made moot.
func (g *generator) dropSetWarnings() {
	var keep []string
	for _, w := range g.set.Warnings {
		if strings.HasPrefix(w, "the MX host for ") {
			if r, ok := g.set.Find(RoleMX); ok && r.Source == SourceTenant {
				continue
			}
		}
		keep = append(keep, w)
	}
	g.set.Warnings = keep
}

func (g *generator) fromTenant(tr TenantRecord) (Record, error) {
	owner := canonicalHost(tr.Label)
	r := Record{Source: SourceTenant, Optional: tr.IsOptional}
	if tr.TTL < 0 {
		return Record{}, invalid(tr.Label, RuleRecordValue, "the TTL %d is negative", tr.TTL)
	}
	r.TTL = uint32(tr.TTL)
	if r.TTL == 0 {
		r.TTL = DefaultTTL
	}
	u16 := func(what string, v int32) (uint16, error) {
		if v < 0 || v > 65535 {
			return 0, invalid(tr.Label, RuleRecordValue, "the %s %d is outside 0-65535", what, v)
		}
		return uint16(v), nil
	}
	var err error
	switch strings.ToLower(tr.RecordType) {
	case "mx":
		r.Type = TypeMX
		if r.Preference, err = u16("preference", tr.Preference); err != nil {
			return Record{}, err
		}
		if err := checkHostName(tr.MailExchange); err != nil {
			return Record{}, err
		}
		r.Exchange = canonicalHost(tr.MailExchange)
	case "txt":
		r.Type = TypeTXT
		r.Text = strings.TrimSpace(tr.Text)
		if r.Text == "" {
			return Record{}, invalid(tr.Label, RuleRecordValue, "the TXT record has no text")
		}
	case "cname":
		r.Type = TypeCNAME
		if err := checkHostName(tr.CanonicalName); err != nil {
			return Record{}, err
		}
		r.Target = canonicalHost(tr.CanonicalName)
	case "srv":
		r.Type = TypeSRV
		if r.Priority, err = u16("priority", tr.Priority); err != nil {
			return Record{}, err
		}
		if r.Weight, err = u16("weight", tr.Weight); err != nil {
			return Record{}, err
		}
		if r.Port, err = u16("port", tr.Port); err != nil {
			return Record{}, err
		}
		if err := checkHostName(tr.NameTarget); err != nil {
			return Record{}, err
		}
		r.Target = canonicalHost(tr.NameTarget)
		prefix := strings.ToLower(strings.Trim(tr.Service, ".") + "." + strings.Trim(tr.Protocol, "."))
		if tr.Service != "" && tr.Protocol != "" && !strings.HasPrefix(owner, prefix+".") {
			owner = prefix + "." + owner
		}
	default:
		return Record{}, invalid(tr.RecordType, RuleRecordType, "record type %q is not one of Mx, Txt, CName, Srv", tr.RecordType)
	}
	if err := checkOwnerName(owner, g.d.Name); err != nil {
		return Record{}, err
	}
	r.Name = owner
	r.Role = classify(r, g.d.Name)
	r.Service = roleService(r.Role)
	if r.Role == RoleOther {
		r.Service = graphService(tr.SupportedService)
	}
	r.Explanation = explain(r.Role)
	return r, nil
}

// classify tells which Microsoft 365 record r is.
func classify(r Record, domain string) Role {
	host := r.Host(domain)
	switch r.Type {
	case TypeMX:
		if host != "@" {
			return RoleOther
		}
		if strings.HasSuffix(r.Exchange, "."+verificationSuffix) {
			return RoleVerificationMX
		}
		return RoleMX
	case TypeTXT:
		switch {
		case host == "@" && strings.HasPrefix(strings.ToUpper(r.Text), "MS="):
			return RoleVerificationTXT
		case host == "@" && isSPF(r.Text):
			return RoleSPF
		case host == "_dmarc":
			return RoleDMARC
		}
	case TypeCNAME:
		switch host {
		case "autodiscover":
			return RoleAutodiscover
		case "sip":
			return RoleSIP
		case "lyncdiscover":
			return RoleLyncdiscover
		case "enterpriseenrollment":
			return RoleEnrollment
		case "enterpriseregistration":
			return RoleRegistration
		case "selector1._domainkey":
			return RoleDKIM1
		case "selector2._domainkey":
			return RoleDKIM2
		case "mail":
			return RoleOWA
		}
	case TypeSRV:
		switch host {
		case "_sipfederationtls._tcp":
			return RoleSIPFederation
		case "_sip._tls":
			return RoleSIPTLS
		}
	}
	return RoleOther
}

func roleService(role Role) Service {
	switch role {
	case RoleVerificationTXT, RoleVerificationMX:
		return ServiceVerification
	case RoleMX, RoleAutodiscover, RoleSPF, RoleOWA:
		return ServiceMail
	case RoleSIPFederation:
		return ServiceFederation
	case RoleSIPTLS, RoleSIP, RoleLyncdiscover:
		return ServiceSkypeLegacy
	case RoleEnrollment, RoleRegistration:
		return ServiceMDM
	case RoleDKIM1, RoleDKIM2:
		return ServiceDKIM
	case RoleDMARC:
		return ServiceDMARC
	}
	return ServiceOther
}

// graphService maps Graph's supportedService to a Service, for records this
// package does not recognise.
func graphService(s string) Service {
	switch strings.ToLower(s) {
	case "email", "emailinternalrelayonly":
		return ServiceMail
	case "officecommunicationsonline":
		return ServiceSkypeLegacy
	case "intune":
		return ServiceMDM
	}
	return ServiceOther
}
