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

// verdicts sums the check up per service, in the order an administrator
// reads them.
func verdicts(set *RecordSet, rep *Report, verified bool) []Verdict {
	vb := verdictBuilder{set: set, rep: rep}
	if !verified {
		vb.verification()
	}
	vb.mailFlow()
	vb.group(VerdictAutodiscover, ServiceMail, "Outlook autodiscover will find Exchange Online.", "Outlook autodiscover will not work", RoleAutodiscover)
	vb.group(VerdictSPF, ServiceMail, "Receivers will accept Exchange Online as a sender for the domain (SPF).", "SPF will not authorise Exchange Online", RoleSPF)
	vb.group(VerdictFederation, ServiceFederation, "Teams federation can find the domain.", "Teams federation will not find the domain", RoleSIPFederation)
	vb.group(VerdictSkypeLegacy, ServiceSkypeLegacy, "Legacy Skype for Business clients will find the service.", "Legacy Skype for Business clients need manual settings", RoleSIPTLS, RoleSIP, RoleLyncdiscover)
	vb.group(VerdictMDM, ServiceMDM, "Windows devices will find Intune enrollment and device registration.", "Device enrollment will need manual settings", RoleEnrollment, RoleRegistration)
	vb.group(VerdictDKIM, ServiceDKIM, "DKIM signing can be enabled for the domain.", "DKIM signing cannot be enabled", RoleDKIM1, RoleDKIM2)
	vb.group(VerdictDMARC, ServiceDMARC, "The domain publishes a DMARC policy.", "The domain has no usable DMARC policy", RoleDMARC)
	return vb.out
}

// verdictBuilder collects the verdicts of one check.
type verdictBuilder struct {
	set *RecordSet
	rep *Report
	out []Verdict
}

// status returns the status of the record of role, if the set has one.
func (vb *verdictBuilder) status(role Role) (Status, bool) {
	r, ok := vb.rep.Result(role)
	return r.Status, ok
}

// why names the records of roles that are not as expected.
func (vb *verdictBuilder) why(roles ...Role) string {
	var parts []string
	for _, role := range roles {
		if s, ok := vb.status(role); ok && s != StatusPresent {
			r, _ := vb.rep.Result(role)
			parts = append(parts, fmt.Sprintf("%s %s %s", r.Record.Type, r.Record.Host(vb.set.Domain.Name), s.phrase()))
		}
	}
	return strings.Join(parts, "; ")
}

// group adds the verdict of a service that works when every record of
// roles the set holds is present; none held, no verdict.
func (vb *verdictBuilder) group(name string, svc Service, yes, no string, roles ...Role) {
	var have []Role
	for _, role := range roles {
		if _, ok := vb.status(role); ok {
			have = append(have, role)
		}
	}
	if len(have) == 0 {
		return
	}
	ok := true
	for _, role := range have {
		if s, _ := vb.status(role); s != StatusPresent {
			ok = false
		}
	}
	v := Verdict{Name: name, Service: svc, OK: ok, Summary: yes}
	if !ok {
		v.Summary = no + ": " + vb.why(have...)
	}
	vb.out = append(vb.out, v)
}

// verification adds whether Microsoft 365 can verify the domain: the TXT
// or the MX verification record is enough.
func (vb *verdictBuilder) verification() {
	txt, okT := vb.status(RoleVerificationTXT)
	mx, okM := vb.status(RoleVerificationMX)
	if !okT && !okM {
		return
	}
	v := Verdict{Name: VerdictVerification, Service: ServiceVerification,
		OK: txt == StatusPresent || mx == StatusPresent}
	if v.OK {
		v.Summary = "Microsoft 365 can verify the domain."
	} else {
		v.Summary = "Microsoft 365 cannot verify the domain yet: " + vb.why(RoleVerificationTXT, RoleVerificationMX)
	}
	vb.out = append(vb.out, v)
}

// mailFlow adds whether mail reaches Exchange Online: the MX is present and
// no CNAME at the apex hides it.
func (vb *verdictBuilder) mailFlow() {
	s, ok := vb.status(RoleMX)
	if !ok {
		return
	}
	apexCNAME := false
	for _, f := range vb.rep.Findings {
		if f.Kind == FindingApexCNAME {
			apexCNAME = true
		}
	}
	v := Verdict{Name: VerdictMailFlow, Service: ServiceMail, OK: s == StatusPresent && !apexCNAME,
		Summary: "Mail for the domain will flow to Exchange Online."}
	if vb.set.MailMigration && s == StatusPresent {
		v.Summary = "Mail will flow to Exchange Online once the Microsoft 365 MX gets the lowest number; until then it goes to the active server."
	}
	if !v.OK {
		reason := vb.why(RoleMX)
		if apexCNAME {
			reason = strings.TrimPrefix(reason+"; a CNAME at the apex hides the MX records", "; ")
		}
		v.Summary = "Mail will not reach Exchange Online: " + reason
	}
	vb.out = append(vb.out, v)
}
