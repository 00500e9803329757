package dnsrecords

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/internal/dnsrr"
)

// CheckOptions tunes Check.
type CheckOptions struct {
	// Server is the DNS server to ask, as host:port. Empty: the domain's
	// authoritative servers are found through NS records and each is asked.
	Server string
	// Resolver finds the authoritative servers when Server is empty; nil
	// uses net.DefaultResolver.
	Resolver *net.Resolver
	// Port is the port of the authoritative servers found through NS
	// records; 0 means 53.
	Port int
	// Timeout bounds each query; 0 means 2 seconds.
	Timeout time.Duration
	// Attempts is how many times a query that times out is sent over UDP; 0
	// means 2. A truncated UDP answer is always retried once over TCP.
	Attempts int
	// Concurrency bounds the queries in flight; 0 means 8.
	Concurrency int
	// MaxServers caps how many of the domain's authoritative servers are
	// asked (the first ones in address order); 0 means DefaultMaxServers.
	// Each silent server costs Attempts timeouts per question, so a domain
	// listing many dead servers would otherwise take minutes.
	MaxServers int
	// Verified says the domain is already verified in the tenant: the
	// verification records are no longer expected, and a verification MX
	// left behind is reported.
	Verified bool
	// Logger receives one debug line per query; nil discards.
	Logger *slog.Logger
}

// DefaultMaxServers is how many authoritative servers Check asks when
// CheckOptions.MaxServers is 0.
const DefaultMaxServers = 4

// Status is the state of one expected record.
type Status string

// The statuses, from best to worst.
const (
	StatusPresent  Status = "present"     // published with the expected value
	StatusUnknown  Status = "unknown"     // the servers could not be asked
	StatusConflict Status = "conflict"    // published, but another record defeats it
	StatusWrong    Status = "wrong-value" // something else is published in its place
	StatusMissing  Status = "missing"     // nothing is published
)

func (s Status) rank() int {
	switch s {
	case StatusPresent:
		return 0
	case StatusUnknown:
		return 1
	case StatusConflict:
		return 2
	case StatusWrong:
		return 3
	}
	return 4
}

// phrase describes the status in a sentence.
func (s Status) phrase() string {
	switch s {
	case StatusPresent:
		return "is present"
	case StatusUnknown:
		return "could not be checked"
	case StatusConflict:
		return "is defeated by a conflicting record"
	case StatusWrong:
		return "has the wrong value"
	}
	return "is missing"
}

// Severity grades a finding.
type Severity string

// The severities.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// FindingKind names what a finding is about.
type FindingKind string

// The kinds of finding.
const (
	FindingMissing             FindingKind = "missing"
	FindingWrongValue          FindingKind = "wrong-value"
	FindingUnverified          FindingKind = "unverified-value"
	FindingTTLDrift            FindingKind = "ttl-drift"
	FindingSecondSPF           FindingKind = "spf-multiple"
	FindingSPFLookups          FindingKind = "spf-lookups"
	FindingSecondDMARC         FindingKind = "dmarc-multiple"
	FindingCompetingMX         FindingKind = "mx-competing"
	FindingAutodiscoverAddress FindingKind = "autodiscover-address"
	FindingApexCNAME           FindingKind = "apex-cname"
	FindingVerificationLeft    FindingKind = "verification-mx-leftover"
	FindingMSOID               FindingKind = "msoid-worldwide"
	FindingServersDisagree     FindingKind = "servers-disagree"
	FindingQueryFailed         FindingKind = "query-failed"
)

// Finding is one observation of Check, with what to do about it.
type Finding struct {
	Kind     FindingKind
	Severity Severity
	// Name and Type locate the records concerned.
	Name string
	Type string
	// Servers lists the servers that showed it; empty means all.
	Servers []string
	// Detail says what was seen.
	Detail string
	// Explanation says why it matters.
	Explanation string
	// Fix says what to change.
	Fix string
}

// RecordResult is the outcome for one expected record.
type RecordResult struct {
	Record Record
	Status Status
	// Found lists the values published at the record's name for its type,
	// in presentation form.
	Found []string
	// Findings explain the status and add notes (TTL drift, unverified
	// values).
	Findings []Finding
}

// Verdict answers one practical question about a service.
type Verdict struct {
	// Name is the question: "verification", "mail-flow", "autodiscover",
	// "spf", "federation", "skype-legacy", "mdm", "dkim" or "dmarc".
	Name    string
	Service Service
	OK      bool
	Summary string
}

// Report is the result of Check.
type Report struct {
	Domain string
	// Servers are the servers asked, as host:port.
	Servers []string
	// Queries counts the DNS queries sent, TCP retries included.
	Queries int
	// Results has one entry per expected record, in the set's order.
	Results []RecordResult
	// Findings are conflicts not tied to one expected record (a CNAME at the
	// apex, a leftover verification MX, an msoid CNAME, failed queries).
	Findings []Finding
	Verdicts []Verdict
}

// OK reports whether every verdict is positive.
func (r *Report) OK() bool {
	for _, v := range r.Verdicts {
		if !v.OK {
			return false
		}
	}
	return true
}

// Result returns the result for the record with the given role.
func (r *Report) Result(role Role) (RecordResult, bool) {
	for _, res := range r.Results {
		if res.Record.Role == role {
			return res, true
		}
	}
	return RecordResult{}, false
}

// Verdict returns the verdict with the given name.
func (r *Report) Verdict(name string) (Verdict, bool) {
	for _, v := range r.Verdicts {
		if v.Name == name {
			return v, true
		}
	}
	return Verdict{}, false
}

// AllFindings returns the report's findings followed by every record's.
func (r *Report) AllFindings() []Finding {
	out := append([]Finding(nil), r.Findings...)
	for _, res := range r.Results {
		out = append(out, res.Findings...)
	}
	return out
}

// question is one DNS query.
type question struct {
	name  string // FQDN, lower case
	qtype uint16
}

// answer is the reply of one server to one question.
type answer struct {
	msg *dns.Msg
	err error
}

// planner chooses the questions for a set.
type planner func(set *RecordSet, verified bool) []question

// Check asks the DNS whether the records of set are published, and reports
// per record, per conflict and per service. It asks opts.Server, or every
// authoritative server of the domain. It returns an error only when the
// context ends, when the options are invalid or when no server can be found;
// servers that fail to answer are findings in the report.
func Check(ctx context.Context, set *RecordSet, opts *CheckOptions) (*Report, error) {
	return check(ctx, set, opts, planGrouped)
}

func check(ctx context.Context, set *RecordSet, opts *CheckOptions, plan planner) (*Report, error) {
	if opts == nil {
		opts = &CheckOptions{}
	}
	if set == nil || set.Domain.Name == "" {
		return nil, invalid(opCheck, "", ReasonEmpty, "the record set has no domain")
	}
	c := &checker{set: set, opts: opts, log: opts.Logger, timeout: opts.Timeout, attempts: opts.Attempts}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.timeout <= 0 {
		c.timeout = 2 * time.Second
	}
	if c.attempts <= 0 {
		c.attempts = 2
	}
	servers, err := c.servers(ctx)
	if err != nil {
		return nil, err
	}
	qs := plan(set, opts.Verified)
	answers := c.ask(ctx, servers, qs)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dnsrecords: check %s: %w", set.Domain.Name, err)
	}
	pools := make([]*pool, len(servers))
	for i, srv := range servers {
		pools[i] = newPool(answers[srv])
	}
	// Follow-up: an autodiscover name without a CNAME may hold AAAA records
	// the A query did not show.
	var follow []question
	if r, ok := set.Find(RoleAutodiscover); ok {
		q := question{dns.Fqdn(r.Name), dns.TypeAAAA}
		for _, p := range pools {
			if !p.asked[q] && len(p.rrs(r.Name, dns.TypeCNAME)) == 0 {
				follow = append(follow, q)
				break
			}
		}
	}
	if len(follow) > 0 {
		more := c.ask(ctx, servers, follow)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("dnsrecords: check %s: %w", set.Domain.Name, err)
		}
		for i, srv := range servers {
			pools[i].add(more[srv])
		}
	}
	rep := &Report{Domain: set.Domain.Name, Servers: servers, Queries: int(c.queries.Load())}
	c.evaluate(rep, servers, pools)
	return rep, nil
}

type checker struct {
	set      *RecordSet
	opts     *CheckOptions
	log      *slog.Logger
	timeout  time.Duration
	attempts int
	queries  atomic.Int64
}

// servers returns the servers to ask.
func (c *checker) servers(ctx context.Context) ([]string, error) {
	if c.opts.Server != "" {
		if _, _, err := net.SplitHostPort(c.opts.Server); err != nil {
			return nil, invalid(opCheck, c.opts.Server, ReasonOption, "the server must be host:port: %v", err)
		}
		return []string{c.opts.Server}, nil
	}
	res := c.opts.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	port := c.opts.Port
	if port == 0 {
		port = 53
	}
	const op = "dnsrecords: find name servers"
	name := c.set.Domain.Name
	var nss []*net.NS
	for {
		found, err := res.LookupNS(ctx, dns.Fqdn(name)) // rooted: no search domains
		if ctx.Err() != nil {
			return nil, backend.Wrap(ctx.Err(), backend.Canceled, op, c.set.Domain.Name)
		}
		if err == nil && len(found) > 0 {
			nss = found
			break
		}
		if name == c.set.Domain.Registrable || !strings.Contains(name, ".") {
			if err == nil {
				err = errors.New("no NS records")
			}
			return nil, backend.Wrap(err, backend.Unavailable, op, c.set.Domain.Name)
		}
		name = name[strings.IndexByte(name, '.')+1:]
	}
	var out []string
	for _, ns := range nss {
		addrs, err := res.LookupHost(ctx, dns.Fqdn(ns.Host))
		if err != nil || len(addrs) == 0 {
			c.log.Warn("name server has no address", "ns", ns.Host, "err", err)
			continue
		}
		out = append(out, net.JoinHostPort(pickAddr(addrs), strconv.Itoa(port)))
	}
	if len(out) == 0 {
		return nil, backend.Errorf(backend.Unavailable, op, c.set.Domain.Name, "no address for any name server")
	}
	sort.Strings(out)
	out = slices.Compact(out)
	limit := c.opts.MaxServers
	if limit <= 0 {
		limit = DefaultMaxServers
	}
	if len(out) > limit {
		c.log.Info("asking only the first name servers", "servers", len(out), "asked", limit)
		out = out[:limit]
	}
	return out, nil
}

// pickAddr returns the lowest IPv4 address, or the lowest address if there
// is no IPv4 one, so that the choice is stable.
func pickAddr(addrs []string) string {
	sorted := append([]string(nil), addrs...)
	sort.Strings(sorted)
	for _, a := range sorted {
		if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
			return a
		}
	}
	return sorted[0]
}

// ask sends every question to every server, concurrently.
func (c *checker) ask(ctx context.Context, servers []string, qs []question) map[string]map[question]answer {
	out := make(map[string]map[question]answer, len(servers))
	for _, s := range servers {
		out[s] = make(map[question]answer, len(qs))
	}
	limit := c.opts.Concurrency
	if limit <= 0 {
		limit = 8
	}
	sem := make(chan struct{}, limit)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, srv := range servers {
		for _, q := range qs {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return out
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				msg, err := c.exchange(ctx, srv, q)
				mu.Lock()
				out[srv][q] = answer{msg: msg, err: err}
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return out
}

// exchange sends one question, retrying timeouts over UDP and truncated
// answers over TCP.
func (c *checker) exchange(ctx context.Context, server string, q question) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
	var (
		r   *dns.Msg
		err error
	)
	for attempt := 0; attempt < c.attempts; attempt++ {
		r, err = c.send(ctx, "udp", server, m)
		var ne net.Error
		if err == nil || !(errors.As(err, &ne) && ne.Timeout()) || ctx.Err() != nil {
			break
		}
	}
	if err == nil && r.Truncated {
		r, err = c.send(ctx, "tcp", server, m)
		if err == nil && r.Truncated {
			// A truncated answer over TCP is not the answer: the records
			// cut off are unknown, not missing.
			err = errors.New("the answer over TCP is truncated")
		}
	}
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("server answered %s", dns.RcodeToString[r.Rcode])
	}
	return r, nil
}

func (c *checker) send(ctx context.Context, network, server string, m *dns.Msg) (*dns.Msg, error) {
	qctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cl := &dns.Client{Net: network, Timeout: c.timeout}
	c.queries.Add(1)
	r, rtt, err := cl.ExchangeContext(qctx, m.Copy(), server)
	if err != nil {
		c.log.Debug("dns query failed", "server", server, "net", network, "name", m.Question[0].Name,
			"type", dns.TypeToString[m.Question[0].Qtype], "err", err)
		return nil, err
	}
	c.log.Debug("dns query", "server", server, "net", network, "name", m.Question[0].Name,
		"type", dns.TypeToString[m.Question[0].Qtype], "rcode", dns.RcodeToString[r.Rcode], "truncated", r.Truncated,
		"answers", len(r.Answer), "rtt", rtt)
	return r, nil
}

// planGrouped asks one question per owner name and type, and asks for the A
// type at names where a CNAME is expected: an authoritative server answers
// with the CNAME if there is one, and with the address records that conflict
// with it otherwise. CNAMEs at the apex show up in the MX and TXT answers.
func planGrouped(set *RecordSet, verified bool) []question {
	seen := map[question]bool{}
	var qs []question
	addq := func(name string, t uint16) {
		q := question{strings.ToLower(dns.Fqdn(name)), t}
		if !seen[q] {
			seen[q] = true
			qs = append(qs, q)
		}
	}
	for _, r := range expected(set, verified) {
		switch r.Type {
		case TypeCNAME:
			addq(r.Name, dns.TypeA)
		default:
			addq(r.Name, rrtype(r.Type))
		}
	}
	if verified {
		addq(set.Domain.Name, dns.TypeMX)
	}
	if hasService(set, ServiceMail) || hasService(set, ServiceVerification) {
		addq("msoid."+set.Domain.Name, dns.TypeA)
	}
	return qs
}

// planNaive is the baseline: one query per expected record, of the
// record's own type, plus one query per conflict looked for.
func planNaive(set *RecordSet, verified bool) []question {
	var qs []question
	for _, r := range expected(set, verified) {
		qs = append(qs, question{strings.ToLower(dns.Fqdn(r.Name)), rrtype(r.Type)})
	}
	apex := dns.Fqdn(set.Domain.Name)
	qs = append(qs, question{apex, dns.TypeCNAME})
	if verified {
		qs = append(qs, question{apex, dns.TypeMX})
	}
	if r, ok := set.Find(RoleAutodiscover); ok {
		qs = append(qs, question{dns.Fqdn(r.Name), dns.TypeA}, question{dns.Fqdn(r.Name), dns.TypeAAAA})
	}
	if hasService(set, ServiceMail) || hasService(set, ServiceVerification) {
		qs = append(qs, question{"msoid." + apex, dns.TypeCNAME})
	}
	return qs
}

func hasService(set *RecordSet, s Service) bool {
	for _, r := range set.Records {
		if r.Service == s {
			return true
		}
	}
	return false
}

// expected returns the records to look for.
func expected(set *RecordSet, verified bool) []Record {
	var out []Record
	for _, r := range set.Records {
		if verified && r.Service == ServiceVerification {
			continue
		}
		out = append(out, r)
	}
	return out
}

// pool holds every record one server returned, by owner name.
type pool struct {
	byName map[string][]dns.RR
	failed map[string]error // owner name -> error of a query about it
	asked  map[question]bool
}

func newPool(answers map[question]answer) *pool {
	p := &pool{byName: map[string][]dns.RR{}, failed: map[string]error{}, asked: map[question]bool{}}
	p.add(answers)
	return p
}

func (p *pool) add(answers map[question]answer) {
	// Sorted for a deterministic pool.
	qs := make([]question, 0, len(answers))
	for q := range answers {
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool {
		if qs[i].name != qs[j].name {
			return qs[i].name < qs[j].name
		}
		return qs[i].qtype < qs[j].qtype
	})
	for _, q := range qs {
		a := answers[q]
		p.asked[q] = true
		if a.err != nil {
			p.failed[q.name] = a.err
			continue
		}
		if a.msg == nil {
			continue
		}
		for _, rr := range a.msg.Answer {
			name := strings.ToLower(rr.Header().Name)
			// Only records that answer the question count: the owner is
			// the name asked and the type the one asked, or a CNAME
			// standing at that name. Anything else (extra records a
			// server adds, the records a CNAME leads to) is not evidence
			// of what the name publishes.
			t := rr.Header().Rrtype
			if name != q.name || t != q.qtype && t != dns.TypeCNAME {
				continue
			}
			dup := false
			for _, old := range p.byName[name] {
				if dns.IsDuplicate(old, rr) {
					dup = true
					break
				}
			}
			if !dup {
				p.byName[name] = append(p.byName[name], rr)
			}
		}
	}
}

// rrs returns the records of type t at name.
func (p *pool) rrs(name string, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range p.byName[strings.ToLower(dns.Fqdn(name))] {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}

func rdata(rr dns.RR) string {
	s := rr.String()
	h := rr.Header().String()
	return strings.TrimPrefix(s, h)
}

func host(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) }

// isMicrosoftMX reports whether an MX host belongs to Exchange Online.
func isMicrosoftMX(h string) bool {
	h = host(h)
	for _, suf := range []string{"." + mxLegacySuffix, "." + mxNewSuffix, ".mail.eo.outlook.com", ".mail.protection.outlook.de"} {
		if strings.HasSuffix(h, suf) {
			return true
		}
	}
	return false
}

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

func (c *checker) matchTXT(r Record, p *pool, res *RecordResult) {
	txts := p.rrs(r.Name, dns.TypeTXT)
	var all []string
	for _, rr := range txts {
		all = append(all, txtValue(rr))
	}
	switch r.Role {
	case RoleSPF:
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
	case RoleDMARC:
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
	case RoleVerificationTXT:
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
	default:
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
