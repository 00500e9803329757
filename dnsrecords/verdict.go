package dnsrecords

import (
	"fmt"
	"strings"
)

// This file turns the per-record results into one verdict per service.

// Verdict names.
const (
	VerdictVerification = "verification"
	VerdictMailFlow     = "mail-flow"
	VerdictAutodiscover = "autodiscover"
	VerdictSPF          = "spf"
	VerdictFederation   = "federation"
	VerdictSkypeLegacy  = "skype-legacy"
	VerdictMDM          = "mdm"
	VerdictDKIM         = "dkim"
	VerdictDMARC        = "dmarc"
)

func verdicts(set *RecordSet, rep *Report, verified bool) []Verdict {
	status := func(role Role) (Status, bool) {
		r, ok := rep.Result(role)
		return r.Status, ok
	}
	var out []Verdict
	apexCNAME := false
	for _, f := range rep.Findings {
		if f.Kind == FindingApexCNAME {
			apexCNAME = true
		}
	}
	why := func(roles ...Role) string {
		var parts []string
		for _, role := range roles {
			if s, ok := status(role); ok && s != StatusPresent {
				r, _ := rep.Result(role)
				parts = append(parts, fmt.Sprintf("%s %s %s", r.Record.Type, r.Record.Host(set.Domain.Name), s.phrase()))
			}
		}
		return strings.Join(parts, "; ")
	}
	group := func(name string, svc Service, yes, no string, roles ...Role) {
		var have []Role
		for _, role := range roles {
			if _, ok := status(role); ok {
				have = append(have, role)
			}
		}
		if len(have) == 0 {
			return
		}
		ok := true
		for _, role := range have {
			if s, _ := status(role); s != StatusPresent {
				ok = false
			}
		}
		v := Verdict{Name: name, Service: svc, OK: ok, Summary: yes}
		if !ok {
			v.Summary = no + ": " + why(have...)
		}
		out = append(out, v)
	}
	if !verified {
		txt, okT := status(RoleVerificationTXT)
		mx, okM := status(RoleVerificationMX)
		if okT || okM {
			v := Verdict{Name: VerdictVerification, Service: ServiceVerification,
				OK: txt == StatusPresent || mx == StatusPresent}
			if v.OK {
				v.Summary = "Microsoft 365 can verify the domain."
			} else {
				v.Summary = "Microsoft 365 cannot verify the domain yet: " + why(RoleVerificationTXT, RoleVerificationMX)
			}
			out = append(out, v)
		}
	}
	if s, ok := status(RoleMX); ok {
		v := Verdict{Name: VerdictMailFlow, Service: ServiceMail, OK: s == StatusPresent && !apexCNAME,
			Summary: "Mail for the domain will flow to Exchange Online."}
		if set.MailMigration && s == StatusPresent {
			v.Summary = "Mail will flow to Exchange Online once the Microsoft 365 MX gets the lowest number; until then it goes to the active server."
		}
		if !v.OK {
			reason := why(RoleMX)
			if apexCNAME {
				reason = strings.TrimPrefix(reason+"; a CNAME at the apex hides the MX records", "; ")
			}
			v.Summary = "Mail will not reach Exchange Online: " + reason
		}
		out = append(out, v)
	}
	group(VerdictAutodiscover, ServiceMail, "Outlook autodiscover will find Exchange Online.", "Outlook autodiscover will not work", RoleAutodiscover)
	group(VerdictSPF, ServiceMail, "Receivers will accept Exchange Online as a sender for the domain (SPF).", "SPF will not authorise Exchange Online", RoleSPF)
	group(VerdictFederation, ServiceFederation, "Teams federation can find the domain.", "Teams federation will not find the domain", RoleSIPFederation)
	group(VerdictSkypeLegacy, ServiceSkypeLegacy, "Legacy Skype for Business clients will find the service.", "Legacy Skype for Business clients need manual settings", RoleSIPTLS, RoleSIP, RoleLyncdiscover)
	group(VerdictMDM, ServiceMDM, "Windows devices will find Intune enrollment and device registration.", "Device enrollment will need manual settings", RoleEnrollment, RoleRegistration)
	group(VerdictDKIM, ServiceDKIM, "DKIM signing can be enabled for the domain.", "DKIM signing cannot be enabled", RoleDKIM1, RoleDKIM2)
	group(VerdictDMARC, ServiceDMARC, "The domain publishes a DMARC policy.", "The domain has no usable DMARC policy", RoleDMARC)
	return out
}
