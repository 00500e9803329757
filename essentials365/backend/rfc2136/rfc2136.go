// Package rfc2136 is the backend.Zone driver for name servers that take
// RFC 2136 dynamic updates signed with TSIG (RFC 8945): BIND, Knot,
// PowerDNS and most self-hosted primaries. It speaks DNS with
// github.com/miekg/dns, over TCP by default.
//
// Reading a name queries the server directly for each record type; reading
// the whole zone is a TSIG-signed zone transfer (AXFR). An update is one
// message, applied atomically by the server. RFC 2136 silently ignores a
// CNAME added beside other data, so the driver reads the names it adds to
// first and refuses such an update itself (backend.ReasonZoneCNAMEConflict).
//
// Writable checks that the server accepts the key by adding and removing a
// probe TXT record of the driver's own, _essentials365-probe.<zone>.
//
// The driver classifies errors and never retries; callers retry through
// essentials365/retry.
package rfc2136

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/internal/dnsrr"
)

// The operations, as the Zone contract words them.
const (
	opList     = "zone: list records"
	opUpdate   = "zone: update records"
	opWritable = "zone: check writable"
)

// ReasonConfig (InvalidArgument): a Config field is missing or malformed.
const ReasonConfig backend.Reason = "zone-config"

// ProbeLabel is the label of the record Writable adds and removes.
const ProbeLabel = "_essentials365-probe"

// Config says where the zone is and how to sign.
type Config struct {
	// Server is the primary's address, host:port.
	Server string
	// Zone is the zone's apex, e.g. contoso.com.
	Zone string
	// KeyName is the TSIG key's name; empty sends unsigned updates (most
	// servers refuse them, as they should).
	KeyName string
	// KeyAlgorithm is the TSIG algorithm, e.g. dns.HmacSHA256
	// ("hmac-sha256."); default hmac-sha256.
	KeyAlgorithm string
	// KeySecret is the key's base64 secret. It is never logged.
	KeySecret string
}

// Options tunes the driver; the zero value (or nil) gives the defaults.
type Options struct {
	// Logger receives debug records of updates (never the key); default
	// discards.
	Logger *slog.Logger
	// Timeout bounds one exchange with the server; default 5 s.
	Timeout time.Duration
	// Net is "tcp" (default) or "udp" for queries and updates; zone
	// transfers always use TCP.
	Net string
	// Now is the clock used to sign; default time.Now.
	Now func() time.Time
}

// Zone is a zone on an RFC 2136 server. It is safe for concurrent use.
type Zone struct {
	cfg  Config
	zone string
	log  *slog.Logger
	opts Options
}

// New returns the zone cfg names. It does not contact the server.
func New(cfg Config, opts *Options) (*Zone, error) {
	const op = "zone: open"
	var o Options
	if opts != nil {
		o = *opts
	}
	if _, _, err := net.SplitHostPort(cfg.Server); err != nil {
		return nil, backend.Invalid(op, cfg.Server, ReasonConfig, "the server must be host:port, e.g. 127.0.0.1:53: %v", err)
	}
	if _, ok := dns.IsDomainName(cfg.Zone); !ok || strings.Trim(cfg.Zone, ".") == "" {
		return nil, backend.Invalid(op, cfg.Zone, ReasonConfig, "the zone must be a domain name such as contoso.com")
	}
	if cfg.KeyName != "" {
		cfg.KeyName = dns.Fqdn(strings.ToLower(cfg.KeyName))
		cfg.KeyAlgorithm = dns.Fqdn(cmp.Or(strings.ToLower(cfg.KeyAlgorithm), dns.HmacSHA256))
		if cfg.KeySecret == "" {
			return nil, backend.Invalid(op, cfg.KeyName, ReasonConfig, "a TSIG key needs its secret")
		}
	}
	o.Timeout = cmp.Or(o.Timeout, 5*time.Second)
	o.Net = cmp.Or(o.Net, "tcp")
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Zone{cfg: cfg, zone: backend.CanonicalDNSName(cfg.Zone), log: cmp.Or(o.Logger, slog.New(slog.DiscardHandler)), opts: o}, nil
}

// Name returns the zone's apex.
func (z *Zone) Name() string { return z.zone }

func (z *Zone) client(network string) *dns.Client {
	c := &dns.Client{Net: network, Timeout: z.opts.Timeout}
	if z.cfg.KeyName != "" {
		c.TsigSecret = map[string]string{z.cfg.KeyName: z.cfg.KeySecret}
	}
	return c
}

func (z *Zone) sign(m *dns.Msg) {
	if z.cfg.KeyName != "" {
		m.SetTsig(z.cfg.KeyName, z.cfg.KeyAlgorithm, 300, z.opts.Now().Unix())
	}
}

// Records lists the records at names, or the whole zone by AXFR.
func (z *Zone) Records(ctx context.Context, names ...string) ([]backend.DNSRecord, error) {
	if err := backend.CtxErr(ctx, opList); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return z.transfer(ctx)
	}
	var out []backend.DNSRecord
	for _, n := range names {
		if !backend.ZoneContains(z.zone, n) {
			return nil, backend.Invalid(opList, n, backend.ReasonZoneOutside, "%s is not in the zone %s", n, z.zone)
		}
		recs, err := z.lookup(ctx, backend.CanonicalDNSName(n))
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// lookup queries name for each handled type; only answers to the question
// count (a CNAME answer to an MX question is not an MX).
func (z *Zone) lookup(ctx context.Context, name string) ([]backend.DNSRecord, error) {
	var out []backend.DNSRecord
	for _, t := range []backend.DNSType{backend.DNSTypeMX, backend.DNSTypeTXT, backend.DNSTypeCNAME, backend.DNSTypeSRV} {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dnsrr.QType(t))
		m.RecursionDesired = false
		r, _, err := z.client(z.opts.Net).ExchangeContext(ctx, m, z.cfg.Server)
		if err != nil {
			return nil, z.netErr(ctx, opList, name, err)
		}
		if r.Truncated {
			// A truncated answer over UDP is not the answer: ask over TCP.
			r, _, err = z.client("tcp").ExchangeContext(ctx, m, z.cfg.Server)
			if err != nil {
				return nil, z.netErr(ctx, opList, name, err)
			}
		}
		switch r.Rcode {
		case dns.RcodeSuccess, dns.RcodeNameError:
		default:
			return nil, z.rcodeErr(opList, name, r)
		}
		for _, rr := range r.Answer {
			rec, ok := dnsrr.FromRR(rr)
			if ok && rec.Name == name && rec.Type == t {
				out = append(out, rec)
			}
		}
	}
	return out, nil
}

// transfer lists the zone by a signed AXFR.
func (z *Zone) transfer(ctx context.Context) ([]backend.DNSRecord, error) {
	m := new(dns.Msg)
	m.SetAxfr(dns.Fqdn(z.zone))
	z.sign(m)
	tr := &dns.Transfer{DialTimeout: z.opts.Timeout, ReadTimeout: z.opts.Timeout, WriteTimeout: z.opts.Timeout}
	if z.cfg.KeyName != "" {
		tr.TsigSecret = map[string]string{z.cfg.KeyName: z.cfg.KeySecret}
	}
	type result struct {
		recs []backend.DNSRecord
		err  error
	}
	done := make(chan result, 1)
	go func() {
		ch, err := tr.In(m, z.cfg.Server)
		if err != nil {
			done <- result{err: err}
			return
		}
		var recs []backend.DNSRecord
		var ferr error
		for env := range ch {
			if env.Error != nil && ferr == nil {
				ferr = env.Error
			}
			for _, rr := range env.RR {
				if rec, ok := dnsrr.FromRR(rr); ok && !slices.ContainsFunc(recs, rec.Same) {
					recs = append(recs, rec)
				}
			}
		}
		done <- result{recs, ferr}
	}()
	select {
	case <-ctx.Done():
		return nil, &backend.Error{Kind: backend.Canceled, Op: opList, Key: z.zone, Err: ctx.Err()}
	case res := <-done:
		if res.err != nil {
			if strings.Contains(res.err.Error(), "refused") || strings.Contains(res.err.Error(), "bad xfr rcode") ||
				errors.Is(res.err, dns.ErrSoa) {
				return nil, &backend.Error{Kind: backend.Unimplemented, Op: opList, Key: z.zone, Reason: backend.ReasonZoneTransferRefused,
					Msg: "the server refuses the zone transfer; list the names you need instead", Err: res.err}
			}
			return nil, z.netErr(ctx, opList, z.zone, res.err)
		}
		return res.recs, nil
	}
}

// Update removes then adds, in one signed message.
func (z *Zone) Update(ctx context.Context, remove, add []backend.DNSRecord) error {
	if err := backend.CtxErr(ctx, opUpdate); err != nil {
		return err
	}
	if len(remove) == 0 && len(add) == 0 {
		return nil
	}
	m := new(dns.Msg)
	m.SetUpdate(dns.Fqdn(z.zone))
	var dels, ins []dns.RR
	for _, r := range slices.Concat(remove, add) {
		if !backend.ZoneContains(z.zone, r.Name) {
			return backend.Invalid(opUpdate, r.Name, backend.ReasonZoneOutside, "%s is not in the zone %s", r.Name, z.zone)
		}
	}
	for _, r := range remove {
		rr, err := dnsrr.ToRR(opUpdate, r.Canonical())
		if err != nil {
			return err
		}
		dels = append(dels, rr)
	}
	for _, r := range add {
		r = r.Canonical()
		if r.TTL == 0 {
			r.TTL = backend.M365TTL
		}
		rr, err := dnsrr.ToRR(opUpdate, r)
		if err != nil {
			return err
		}
		ins = append(ins, rr)
	}
	if err := z.checkCNAME(ctx, remove, add); err != nil {
		return err
	}
	if len(dels) > 0 {
		m.Remove(dels)
	}
	if len(ins) > 0 {
		m.Insert(ins)
	}
	if err := z.send(ctx, opUpdate, m); err != nil {
		return err
	}
	z.log.Debug("rfc2136: zone updated", "zone", z.zone, "server", z.cfg.Server, "removed", len(dels), "added", len(ins))
	return nil
}

// checkCNAME refuses an update that would leave a CNAME beside other data.
func (z *Zone) checkCNAME(ctx context.Context, remove, add []backend.DNSRecord) error {
	byName := map[string][]backend.DNSRecord{}
	for _, r := range add {
		r = r.Canonical()
		byName[r.Name] = append(byName[r.Name], r)
	}
	for name, adds := range byName {
		have, err := z.lookup(ctx, name)
		if err != nil {
			return err
		}
		have = slices.DeleteFunc(have, func(h backend.DNSRecord) bool { return slices.ContainsFunc(remove, h.Same) })
		after := slices.Clone(have)
		for _, a := range adds {
			if !slices.ContainsFunc(after, a.Same) {
				after = append(after, a)
			}
		}
		cname := slices.ContainsFunc(after, func(r backend.DNSRecord) bool { return r.Type == backend.DNSTypeCNAME })
		if cname && len(after) > 1 {
			return &backend.Error{Kind: backend.FailedPrecondition, Op: opUpdate, Key: name, Reason: backend.ReasonZoneCNAMEConflict,
				Msg: "a CNAME cannot share its name with other records; remove the records already at " + name + " first"}
		}
	}
	return nil
}

func (z *Zone) send(ctx context.Context, op string, m *dns.Msg) error {
	z.sign(m)
	r, _, err := z.client("tcp").ExchangeContext(ctx, m, z.cfg.Server)
	if err != nil {
		return z.netErr(ctx, op, z.zone, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return z.rcodeErr(op, z.zone, r)
	}
	return nil
}

// Writable adds and removes the driver's probe record.
func (z *Zone) Writable(ctx context.Context) error {
	if err := backend.CtxErr(ctx, opWritable); err != nil {
		return err
	}
	probe := backend.DNSRecord{Name: ProbeLabel + "." + z.zone, Type: backend.DNSTypeTXT, TTL: 60, Text: "essentials365 write probe"}
	rr, _ := dnsrr.ToRR(opWritable, probe)
	add := new(dns.Msg)
	add.SetUpdate(dns.Fqdn(z.zone))
	add.Insert([]dns.RR{rr})
	if err := z.send(ctx, opWritable, add); err != nil {
		return err
	}
	del := new(dns.Msg)
	del.SetUpdate(dns.Fqdn(z.zone))
	del.Remove([]dns.RR{rr})
	return z.send(ctx, opWritable, del)
}

// rcodeErr classifies a server's answer code.
func (z *Zone) rcodeErr(op, key string, r *dns.Msg) error {
	code := dns.RcodeToString[r.Rcode]
	tsigErr := ""
	if t := r.IsTsig(); t != nil && t.Error != dns.RcodeSuccess {
		tsigErr = dns.RcodeToString[int(t.Error)]
	}
	cause := errors.New("the server answered " + code + " " + tsigErr)
	switch {
	case r.Rcode == dns.RcodeRefused, r.Rcode == dns.RcodeNotAuth && (tsigErr != "" || z.cfg.KeyName == ""):
		return &backend.Error{Kind: backend.PermissionDenied, Op: op, Key: key, Reason: backend.ReasonZoneRefused,
			Msg: "the server refused the update: check the TSIG key name, algorithm and secret and the zone's update policy", Err: cause}
	case r.Rcode == dns.RcodeNotAuth:
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: key, Reason: backend.ReasonZoneNotAuthoritative,
			Msg: "the server is not the primary of the zone " + z.zone + ": give the primary's address", Err: cause}
	case r.Rcode == dns.RcodeNotZone:
		return &backend.Error{Kind: backend.InvalidArgument, Op: op, Key: key, Reason: backend.ReasonZoneOutside,
			Msg: "a record is not in the zone " + z.zone, Err: cause}
	case r.Rcode == dns.RcodeServerFailure:
		return &backend.Error{Kind: backend.Unavailable, Op: op, Key: key, Msg: "the server failed; try again", Err: cause}
	}
	return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: key, Msg: "the server did not apply the update", Err: cause}
}

// netErr classifies a transport or signature failure.
func (z *Zone) netErr(ctx context.Context, op, key string, err error) error {
	if ctx.Err() != nil {
		return &backend.Error{Kind: backend.Canceled, Op: op, Key: key, Err: ctx.Err()}
	}
	if errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrSecret) || errors.Is(err, dns.ErrKeyAlg) || errors.Is(err, dns.ErrAuth) {
		return &backend.Error{Kind: backend.PermissionDenied, Op: op, Key: key, Reason: backend.ReasonZoneRefused,
			Msg: "the server's answer failed the TSIG check: check the key", Err: err}
	}
	return &backend.Error{Kind: backend.Unavailable, Op: op, Key: key, Msg: "the DNS server " + z.cfg.Server + " did not answer", Err: err}
}
