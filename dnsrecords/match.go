package dnsrecords

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/internal/dnsrr"
)

// This file matches the answers against the expected records and explains
// each difference as a finding.

// evaluate fills the report from the per-server pools.
func (c *checker) evaluate(rep *Report, servers []string, pools []*pool) {
	exp := expected(c.set, c.opts.Verified)
	per := make([][]RecordResult, len(pools))
	var global [][]Finding
	for i, p := range pools {
		per[i] = make([]RecordResult, len(exp))
		for j, r := range exp {
			per[i][j] = c.match(r, p)
		}
		global = append(global, c.globalFindings(p))
	}
	for j, r := range exp {
		res := per[0][j]
		if len(pools) > 1 {
			res = combine(r, servers, per, j)
		}
		rep.Results = append(rep.Results, res)
	}
	rep.Findings = mergeFindings(servers, global)
	for i, srv := range servers {
		for name, err := range pools[i].failed {
			rep.Findings = append(rep.Findings, Finding{Kind: FindingQueryFailed, Severity: SeverityError, Name: host(name),
				Servers: []string{srv}, Detail: err.Error(),
				Explanation: "The server did not answer a query, so the records at this name could not be checked.",
				Fix:         "Check that the server is reachable and authoritative for the domain, then run the check again."})
		}
	}
	sort.SliceStable(rep.Findings, func(a, b int) bool { return rep.Findings[a].Name < rep.Findings[b].Name })
	rep.Verdicts = verdicts(c.set, rep, c.opts.Verified)
}

// combine merges the results of several servers for record j.
func combine(r Record, servers []string, per [][]RecordResult, j int) RecordResult {
	worst := per[0][j]
	same := true
	for i := 1; i < len(per); i++ {
		if per[i][j].Status.rank() > worst.Status.rank() {
			worst = per[i][j]
		}
		if per[i][j].Status != per[0][j].Status || strings.Join(per[i][j].Found, "|") != strings.Join(per[0][j].Found, "|") {
			same = false
		}
	}
	res := worst
	res.Findings = append([]Finding(nil), worst.Findings...)
	if !same {
		var parts []string
		for i, srv := range servers {
			found := "nothing"
			if len(per[i][j].Found) > 0 {
				found = strings.Join(per[i][j].Found, ", ")
			}
			parts = append(parts, fmt.Sprintf("%s: %s (%s)", srv, per[i][j].Status, found))
		}
		res.Findings = append(res.Findings, Finding{Kind: FindingServersDisagree, Severity: SeverityWarning, Name: r.Name,
			Type: string(r.Type), Servers: servers, Detail: strings.Join(parts, "; "),
			Explanation: "The domain's name servers give different answers, so what resolvers see depends on which server they ask; a change may not have reached every server.",
			Fix:         "Wait for the zone to propagate to every name server; if it does not, fix the zone transfer or publish the record on each server."})
	}
	return res
}

// mergeFindings merges the global findings of several servers, listing the
// servers that showed each one when not all did.
func mergeFindings(servers []string, global [][]Finding) []Finding {
	type key struct {
		kind         FindingKind
		name, detail string
	}
	var order []key
	seen := map[key]*Finding{}
	where := map[key][]string{}
	for i, fs := range global {
		for _, f := range fs {
			k := key{f.Kind, f.Name, f.Detail}
			if _, ok := seen[k]; !ok {
				f := f
				seen[k] = &f
				order = append(order, k)
			}
			where[k] = append(where[k], servers[i])
		}
	}
	var out []Finding
	for _, k := range order {
		f := *seen[k]
		if len(where[k]) < len(servers) {
			f.Servers = where[k]
		}
		out = append(out, f)
	}
	return out
}

// globalFindings looks for conflicts not tied to an expected record.
func (c *checker) globalFindings(p *pool) []Finding {
	var out []Finding
	d := c.set.Domain.Name
	for _, rr := range p.rrs(d, dns.TypeCNAME) {
		out = append(out, Finding{Kind: FindingApexCNAME, Severity: SeverityError, Name: d, Type: "CNAME",
			Detail:      "the domain itself is a CNAME to " + host(rr.(*dns.CNAME).Target),
			Explanation: "A CNAME cannot sit beside other records (RFC 1034), so the domain's MX, TXT (SPF, verification) and NS records are hidden or broken.",
			Fix:         "Delete the CNAME at the apex; use your DNS host's ALIAS/ANAME or an A record for the web site instead."})
	}
	if c.opts.Verified {
		for _, rr := range p.rrs(d, dns.TypeMX) {
			mx := rr.(*dns.MX)
			if strings.HasSuffix(host(mx.Mx), "."+verificationSuffix) {
				out = append(out, Finding{Kind: FindingVerificationLeft, Severity: SeverityWarning, Name: d, Type: "MX",
					Detail:      fmt.Sprintf("verification MX %d %s is still published", mx.Preference, host(mx.Mx)),
					Explanation: "The verification MX only proved ownership; after verification it serves no purpose, and a sender that tries it wastes time on an invalid host.",
					Fix:         "Delete the MX record pointing to " + host(mx.Mx) + "."})
			}
		}
	}
	if hasService(c.set, ServiceMail) || hasService(c.set, ServiceVerification) {
		msoid := "msoid." + d
		for _, rr := range p.rrs(msoid, dns.TypeCNAME) {
			out = append(out, Finding{Kind: FindingMSOID, Severity: SeverityError, Name: msoid, Type: "CNAME",
				Detail:      "msoid is a CNAME to " + host(rr.(*dns.CNAME).Target),
				Explanation: warnMSOID,
				Fix:         "Delete the msoid CNAME."})
		}
	}
	return out
}

func finding(kind FindingKind, sev Severity, r Record, detail, why, fix string) Finding {
	return Finding{Kind: kind, Severity: sev, Name: r.Name, Type: string(r.Type), Detail: detail, Explanation: why, Fix: fix}
}

func wantText(r Record) string {
	switch r.Type {
	case TypeMX:
		return fmt.Sprintf("%d %s", r.Preference, r.Exchange)
	case TypeSRV:
		return fmt.Sprintf("%d %d %d %s", r.Priority, r.Weight, r.Port, r.Target)
	case TypeTXT:
		return strconv.Quote(r.Text)
	}
	return r.Target
}

func fixAdd(r Record) string {
	return fmt.Sprintf("Add a %s record at %s with value %s and TTL %d.", r.Type, r.Name, wantText(r), r.TTL)
}

func ttlCheck(r Record, rr dns.RR) []Finding {
	if rr.Header().Ttl == r.TTL {
		return nil
	}
	return []Finding{finding(FindingTTLDrift, SeverityInfo, r,
		fmt.Sprintf("TTL is %d, expected %d", rr.Header().Ttl, r.TTL),
		"A different TTL does not break the service, but a long one slows down later changes and a very short one adds load; Microsoft documents one hour.",
		fmt.Sprintf("Set the TTL to %d.", r.TTL))}
}

// match compares one expected record with one server's answers.
func (c *checker) match(r Record, p *pool) RecordResult {
	res := RecordResult{Record: r}
	if err, ok := p.failed[strings.ToLower(dns.Fqdn(r.Name))]; ok {
		res.Status = StatusUnknown
		res.Findings = append(res.Findings, finding(FindingQueryFailed, SeverityError, r, err.Error(),
			"The server did not answer, so the record could not be checked.", "Check the server and run the check again."))
		return res
	}
	switch r.Type {
	case TypeMX:
		c.matchMX(r, p, &res)
	case TypeTXT:
		c.matchTXT(r, p, &res)
	case TypeCNAME:
		c.matchCNAME(r, p, &res)
	case TypeSRV:
		c.matchSRV(r, p, &res)
	}
	return res
}

func missing(r Record, res *RecordResult) {
	res.Status = StatusMissing
	sev := SeverityError
	if r.Optional {
		sev = SeverityInfo
	}
	res.Findings = append(res.Findings, finding(FindingMissing, sev, r, "no "+string(r.Type)+" record at "+r.Name,
		r.Explanation.WithoutIt, fixAdd(r)))
}

func wrong(r Record, res *RecordResult, detail string) {
	res.Status = StatusWrong
	sev := SeverityError
	if r.Optional {
		sev = SeverityWarning
	}
	res.Findings = append(res.Findings, finding(FindingWrongValue, sev, r, detail, r.Explanation.WithoutIt,
		fmt.Sprintf("Change the %s record at %s to %s.", r.Type, r.Name, wantText(r))))
}

func unverified(r Record, res *RecordResult, seen string) {
	res.Findings = append(res.Findings, finding(FindingUnverified, SeverityInfo, r,
		fmt.Sprintf("found %s; the expected value was derived offline (%s)", seen, wantText(r)),
		"The published value has the right form, but this check could not compare it with the tenant's own value.",
		"Compare it with the value shown in the Microsoft 365 admin center."))
}

func (c *checker) matchMX(r Record, p *pool, res *RecordResult) {
	mxs := p.rrs(r.Name, dns.TypeMX)
	for _, rr := range mxs {
		res.Found = append(res.Found, rdata(rr))
	}
	sort.Strings(res.Found)
	if len(mxs) == 0 {
		missing(r, res)
		return
	}
	var got *dns.MX
	for _, rr := range mxs {
		mx := rr.(*dns.MX)
		if host(mx.Mx) == r.Exchange {
			got = mx
			break
		}
	}
	if got == nil && r.Source == SourceDerived {
		for _, rr := range mxs {
			mx := rr.(*dns.MX)
			h := host(mx.Mx)
			if (r.Role == RoleMX && isMicrosoftMX(h)) || (r.Role == RoleVerificationMX && strings.HasSuffix(h, "."+verificationSuffix)) {
				got = mx
				unverified(r, res, h)
				break
			}
		}
	}
	if got == nil {
		if r.Role == RoleVerificationMX {
			missing(r, res)
			return
		}
		wrong(r, res, "the MX records point to "+strings.Join(res.Found, ", ")+", not to "+r.Exchange)
		return
	}
	res.Status = StatusPresent
	res.Findings = append(res.Findings, ttlCheck(r, got)...)
	if r.Role != RoleMX {
		return
	}
	if got.Preference != r.Preference && !c.set.MailMigration {
		res.Findings = append(res.Findings, finding(FindingWrongValue, SeverityInfo, r,
			fmt.Sprintf("preference is %d, expected %d", got.Preference, r.Preference),
			"The preference orders MX records; it matters only when other MX records exist.",
			fmt.Sprintf("Set the preference to %d.", r.Preference)))
	}
	for _, rr := range mxs {
		mx := rr.(*dns.MX)
		h := host(mx.Mx)
		if mx == got || isMicrosoftMX(h) || strings.HasSuffix(h, "."+verificationSuffix) || mx.Preference > got.Preference {
			continue
		}
		if c.set.MailMigration {
			res.Findings = append(res.Findings, finding(FindingCompetingMX, SeverityInfo, r,
				fmt.Sprintf("MX %d %s receives mail before Microsoft 365 (%d)", mx.Preference, h, got.Preference),
				"Expected during a migration: the old server keeps receiving mail until the Microsoft 365 MX gets the lowest number.",
				"When the migration ends, set the Microsoft 365 MX to preference 0 and delete "+h+"."))
			continue
		}
		res.Status = StatusConflict
		res.Findings = append(res.Findings, finding(FindingCompetingMX, SeverityError, r,
			fmt.Sprintf("MX %d %s has a number lower than or equal to the Microsoft 365 MX (%d)", mx.Preference, h, got.Preference),
			"Senders try the lowest number first, so mail goes to "+h+" instead of Exchange Online (or is split between them).",
			"Delete the MX to "+h+", or give it a higher number than the Microsoft 365 MX if it must stay as a backup."))
	}
}

// txtValue returns the raw text of a TXT record, its strings joined.
func txtValue(rr dns.RR) string {
	var b strings.Builder
	for _, s := range rr.(*dns.TXT).Txt {
		b.WriteString(dnsrr.UnescapeTXT(s))
	}
	return b.String()
}

// matchTXT checks the TXT records at r.Name against r, by r's role.
func (c *checker) matchTXT(r Record, p *pool, res *RecordResult) {
	txts := p.rrs(r.Name, dns.TypeTXT)
	var all []string
	for _, rr := range txts {
		all = append(all, txtValue(rr))
	}
	switch r.Role {
	case RoleSPF:
		matchSPF(r, txts, res)
	case RoleDMARC:
		matchDMARC(r, txts, all, res)
	case RoleVerificationTXT:
		matchVerificationTXT(r, txts, all, res)
	default:
		matchPlainTXT(r, txts, all, res)
	}
}

// matchSPF checks that exactly one SPF record is published, that it
// authorises Exchange Online and stays within the lookup limit.
func matchSPF(r Record, txts []dns.RR, res *RecordResult) {
	var spfs []dns.RR
	for _, rr := range txts {
		if isSPF(txtValue(rr)) {
			spfs = append(spfs, rr)
			res.Found = append(res.Found, txtValue(rr))
		}
	}
	sort.Strings(res.Found)
	switch {
	case len(spfs) == 0:
		missing(r, res)
	case len(spfs) > 1:
		res.Status = StatusConflict
		res.Findings = append(res.Findings, finding(FindingSecondSPF, SeverityError, r,
			fmt.Sprintf("%d SPF records are published: %s", len(spfs), strings.Join(res.Found, " | ")),
			"With more than one SPF record, receivers return permerror and SPF fails for all mail from the domain.",
			"Replace them with one record: "+strconv.Quote(mergedSPF(res.Found, r.Text))+"."))
	default:
		v := txtValue(spfs[0])
		if !spfAuthorises(v, SPFInclude) {
			res.Status = StatusWrong
			res.Findings = append(res.Findings, finding(FindingWrongValue, SeverityError, r,
				"the SPF record does not include spf.protection.outlook.com: "+strconv.Quote(v), r.Explanation.WithoutIt,
				"Change the SPF record to "+strconv.Quote(mergedSPF(res.Found, r.Text))+"."))
			return
		}
		res.Status = StatusPresent
		res.Findings = append(res.Findings, ttlCheck(r, spfs[0])...)
		if n := spfLookups(v); n > SPFLookupLimit {
			res.Findings = append(res.Findings, finding(FindingSPFLookups, SeverityWarning, r,
				fmt.Sprintf("the SPF record uses %d DNS lookups at its top level", n),
				"Past 10 lookups receivers return permerror and SPF fails.",
				"Remove includes that are no longer used or replace them with ip4:/ip6: ranges."))
		}
	}
}

// matchDMARC checks that exactly one DMARC record is published.
func matchDMARC(r Record, txts []dns.RR, all []string, res *RecordResult) {
	var dm []dns.RR
	for _, rr := range txts {
		if strings.HasPrefix(strings.ToLower(txtValue(rr)), "v=dmarc1") {
			dm = append(dm, rr)
		}
	}
	res.Found = all
	sort.Strings(res.Found)
	switch {
	case len(dm) == 0 && len(txts) == 0:
		missing(r, res)
	case len(dm) == 0:
		wrong(r, res, "the TXT record at "+r.Name+" is not a DMARC record")
	case len(dm) > 1:
		res.Status = StatusConflict
		res.Findings = append(res.Findings, finding(FindingSecondDMARC, SeverityError, r,
			fmt.Sprintf("%d DMARC records are published", len(dm)),
			"With more than one DMARC record, receivers ignore DMARC for the domain.",
			"Keep one DMARC record."))
	default:
		res.Status = StatusPresent
		res.Findings = append(res.Findings, ttlCheck(r, dm[0])...)
	}
}

// matchVerificationTXT looks for the tenant's MS= verification token, and
// tells another tenant's (or an earlier attempt's) token from none.
func matchVerificationTXT(r Record, txts []dns.RR, all []string, res *RecordResult) {
	res.Found = all
	sort.Strings(res.Found)
	var tokens []dns.RR
	for _, rr := range txts {
		v := txtValue(rr)
		if v == r.Text {
			res.Status = StatusPresent
			res.Findings = append(res.Findings, ttlCheck(r, rr)...)
			return
		}
		if strings.HasPrefix(strings.ToUpper(v), "MS=MS") {
			tokens = append(tokens, rr)
		}
	}
	switch {
	case len(tokens) > 0 && r.Placeholder:
		res.Status = StatusPresent
		unverified(r, res, txtValue(tokens[0]))
		res.Findings = append(res.Findings, ttlCheck(r, tokens[0])...)
	case len(tokens) > 0:
		wrong(r, res, "the MS= record holds another token ("+txtValue(tokens[0])+"), perhaps from an earlier attempt or another tenant")
	default:
		missing(r, res)
	}
}

// matchPlainTXT looks for a TXT record holding exactly r.Text.
func matchPlainTXT(r Record, txts []dns.RR, all []string, res *RecordResult) {
	res.Found = all
	sort.Strings(res.Found)
	for _, rr := range txts {
		if txtValue(rr) == r.Text {
			res.Status = StatusPresent
			res.Findings = append(res.Findings, ttlCheck(r, rr)...)
			return
		}
	}
	if len(txts) == 0 {
		missing(r, res)
		return
	}
	wrong(r, res, "the TXT records at "+r.Name+" do not include "+strconv.Quote(r.Text))
}

// mergedSPF returns the one SPF record that keeps what the published ones
// authorise and adds Exchange Online, or fallback if they cannot be merged.
func mergedSPF(published []string, fallback string) string {
	m, err := MergeSPF(published, SPFInclude)
	if err != nil {
		return fallback
	}
	return m.Record
}

func (c *checker) matchCNAME(r Record, p *pool, res *RecordResult) {
	cnames := p.rrs(r.Name, dns.TypeCNAME)
	addrs := append(p.rrs(r.Name, dns.TypeA), p.rrs(r.Name, dns.TypeAAAA)...)
	for _, rr := range cnames {
		res.Found = append(res.Found, host(rr.(*dns.CNAME).Target))
	}
	for _, rr := range addrs {
		res.Found = append(res.Found, dns.TypeToString[rr.Header().Rrtype]+" "+strings.TrimSpace(rdata(rr)))
	}
	sort.Strings(res.Found)
	if len(addrs) > 0 && r.Role == RoleAutodiscover {
		res.Status = StatusConflict
		res.Findings = append(res.Findings, finding(FindingAutodiscoverAddress, SeverityError, r,
			"address records at "+r.Name+": "+strings.Join(res.Found, ", "),
			"Outlook connects to the address (often an old on-premises Exchange server) instead of following the CNAME to Exchange Online, and autodiscover fails or finds the wrong mailbox.",
			"Delete the A and AAAA records at "+r.Name+" and publish the CNAME to "+r.Target+"."))
		if len(cnames) == 0 {
			return
		}
	}
	if len(cnames) == 0 {
		if len(addrs) > 0 {
			wrong(r, res, "address records instead of a CNAME: "+strings.Join(res.Found, ", "))
			return
		}
		missing(r, res)
		return
	}
	cn := cnames[0].(*dns.CNAME)
	t := host(cn.Target)
	ok := t == r.Target
	if !ok && r.Source == SourceDerived && (r.Role == RoleDKIM1 || r.Role == RoleDKIM2) {
		sel := "selector1-"
		if r.Role == RoleDKIM2 {
			sel = "selector2-"
		}
		if strings.HasPrefix(t, sel) && strings.Contains(t, "._domainkey.") &&
			(strings.HasSuffix(t, ".onmicrosoft.com") || strings.HasSuffix(t, ".dkim.mail.microsoft")) {
			ok = true
			unverified(r, res, t)
		}
	}
	if !ok && r.Role == RoleEnrollment && t == "enterpriseenrollment.manage.microsoft.com" {
		ok = true
		res.Findings = append(res.Findings, finding(FindingWrongValue, SeverityInfo, r, "the CNAME points to "+t,
			"This target works; Microsoft prefers "+backend.M365EnrollmentTarget+".", "Optionally change the target to "+backend.M365EnrollmentTarget+"."))
	}
	if !ok {
		wrong(r, res, "the CNAME points to "+t+", not to "+r.Target)
		return
	}
	if res.Status == "" {
		res.Status = StatusPresent
	}
	res.Findings = append(res.Findings, ttlCheck(r, cn)...)
}

func (c *checker) matchSRV(r Record, p *pool, res *RecordResult) {
	srvs := p.rrs(r.Name, dns.TypeSRV)
	for _, rr := range srvs {
		res.Found = append(res.Found, strings.TrimSpace(rdata(rr)))
	}
	sort.Strings(res.Found)
	if len(srvs) == 0 {
		missing(r, res)
		return
	}
	for _, rr := range srvs {
		s := rr.(*dns.SRV)
		if host(s.Target) != r.Target || s.Port != r.Port {
			continue
		}
		res.Status = StatusPresent
		if s.Priority != r.Priority || s.Weight != r.Weight {
			res.Findings = append(res.Findings, finding(FindingWrongValue, SeverityInfo, r,
				fmt.Sprintf("priority %d and weight %d, expected %d and %d", s.Priority, s.Weight, r.Priority, r.Weight),
				"The target and port are right; priority and weight only matter when several SRV records exist.",
				fmt.Sprintf("Set priority %d and weight %d.", r.Priority, r.Weight)))
		}
		res.Findings = append(res.Findings, ttlCheck(r, s)...)
		return
	}
	wrong(r, res, "the SRV records are "+strings.Join(res.Found, ", ")+", expected "+wantText(r))
}
