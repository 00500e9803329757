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
)

// This file asks the DNS: which servers, which questions, and the pool of
// answers that count.

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
