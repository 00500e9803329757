package dnsrecords

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/miekg/dns"
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
		return nil, backend.Wrap(err, backend.Canceled, opCheck, set.Domain.Name)
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
			return nil, backend.Wrap(err, backend.Canceled, opCheck, set.Domain.Name)
		}
		for i, srv := range servers {
			pools[i].add(more[srv])
		}
	}
	rep := &Report{Domain: set.Domain.Name, Servers: servers, Queries: int(c.queries.Load())}
	c.evaluate(rep, servers, pools)
	return rep, nil
}
