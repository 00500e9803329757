package dnsrecords

import (
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// tenant converts opts.TenantRecords and puts each in place of the record of
// the same role.
func (g *generator) tenant(want map[Service]bool) error {
	replaced := map[Role]bool{}
	for _, tr := range g.opts.TenantRecords {
		if tr.Type == TypeMX && tr.Exchange == "" && tr.SupportedService == "" {
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
		if r.Role == RoleSPF && slices.ContainsFunc(g.opts.ExistingSPF, isSPF) {
			// The customer's record is the base: its all qualifier (~all,
			// ?all) is kept, and the tenant's include is added to it.
			spf, err := MergeSPF(g.opts.ExistingSPF, spfIncludeOf(r.Text))
			if err != nil {
				return err
			}
			r.Text = spf.Record
			r.Explanation.Warnings = append(r.Explanation.Warnings, spf.Warnings...)
		}
		if r.Role == RoleSPF {
			var err error
			if r.Text, err = withSPFAll(r.Text, g.opts.SPFAll); err != nil {
				return err
			}
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

// spfIncludeOf returns the first include: term of an SPF record, or
// SPFInclude.
func spfIncludeOf(rec string) string {
	for _, term := range strings.Fields(rec) {
		if t := strings.TrimPrefix(term, "+"); strings.HasPrefix(strings.ToLower(t), "include:") {
			return t
		}
	}
	return SPFInclude
}

// fromTenant checks a record the tenant reported and says which Microsoft
// 365 record it is.
func (g *generator) fromTenant(tr backend.DNSRecord) (Record, error) {
	tr = tr.Canonical()
	r := Record{DNSRecord: tr, Source: SourceTenant}
	r.ID, r.SupportedService = "", ""
	if r.TTL == 0 {
		r.TTL = DefaultTTL
	}
	switch tr.Type {
	case TypeMX:
		if err := checkHostName(tr.Exchange); err != nil {
			return Record{}, err
		}
	case TypeTXT:
		r.Text = strings.TrimSpace(tr.Text)
		if r.Text == "" {
			return Record{}, invalid(opGenerate, tr.Name, ReasonRecordValue, "the TXT record has no text")
		}
	case TypeCNAME, TypeSRV:
		if err := checkHostName(tr.Target); err != nil {
			return Record{}, err
		}
	default:
		return Record{}, invalid(opGenerate, string(tr.Type), ReasonRecordType, "record type %q is not one of MX, TXT, CNAME, SRV", tr.Type)
	}
	if err := checkOwnerName(tr.Name, g.d.Name); err != nil {
		return Record{}, err
	}
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
