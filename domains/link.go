package domains

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/essentials365/sdk/dnsrecords"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
)

// Step is one step of a link.
type Step string

// The steps of a link, in order.
const (
	StepAdd                 Step = "add"                  // add the domain to the tenant
	StepPublishVerification Step = "publish-verification" // publish the MS=ms… TXT record
	StepVerify              Step = "verify"               // ask the tenant to verify
	StepPublishServices     Step = "publish-services"     // publish the service records
	StepCheck               Step = "check"                // check the records in live DNS
)

// Publish says where records go.
type Publish string

// Where records are published.
const (
	PublishZone Publish = "zone" // written to the DNS zone
	PublishFile Publish = "file" // written to NewDNSRecords_(n).txt
)

// LinkPlan is what ApplyLink will do for one domain.
type LinkPlan struct {
	// Domain is the validated name.
	Domain dnsrecords.Domain
	// InTenant and Verified are the tenant's state when planned.
	InTenant, Verified bool
	// Publish is where records will go: PublishZone when a zone holding
	// the domain was given (ApplyLink falls back to PublishFile when the
	// zone refuses updates), PublishFile otherwise.
	Publish Publish
	// Zone is the zone's name when Publish is PublishZone.
	Zone string
	// Steps are the steps still to do.
	Steps []Step
	// Warnings are cautions about the name (dnsrecords.Domain.Warnings: a
	// label mixing scripts, a look-alike of another domain).
	Warnings []string
	// Problems are what will stop a step, found while planning: records
	// already in the zone at names the service records need.
	Problems []Problem
}

// Problem is one thing found while planning that will stop a step unless
// it is fixed first.
type Problem struct {
	Step   Step
	Name   string
	Reason backend.Reason
	Detail string
}

// PlanLink validates name and reads the tenant's state; it never writes.
// A name the policy refuses is InvalidArgument with the dnsrecords reason
// (dnsrecords.ReasonEssentialsSubdomain, ...); a zone that does not hold
// the domain is InvalidArgument (ReasonZoneMismatch).
func (s *Service) PlanLink(ctx context.Context, name string) (*LinkPlan, error) {
	const op = "domains: plan link"
	d, err := s.parse(op, name)
	if err != nil {
		return nil, err
	}
	p := &LinkPlan{Domain: d, Publish: PublishFile, Warnings: d.Warnings}
	if s.zone != nil {
		if !backend.ZoneContains(s.zone.Name(), d.Name) {
			return nil, backend.Invalid(op, d.Name, ReasonZoneMismatch, "the zone %s does not hold %s; give the zone of the domain, or none to write a records file", s.zone.Name(), d.Name)
		}
		p.Publish, p.Zone = PublishZone, s.zone.Name()
	}
	dom, ok, err := s.domain(ctx, op, d.Name)
	if err != nil {
		return nil, err
	}
	p.InTenant, p.Verified = ok, ok && dom.IsVerified
	if s.zone != nil {
		if p.Problems, err = s.cnameProblems(ctx, op, d); err != nil {
			return nil, err
		}
	}
	if !p.InTenant {
		p.Steps = append(p.Steps, StepAdd)
	}
	if !p.Verified {
		p.Steps = append(p.Steps, StepPublishVerification, StepVerify)
	}
	p.Steps = append(p.Steps, StepPublishServices, StepCheck)
	return p, nil
}

// cnameProblems reads the zone at the names where Microsoft 365 wants a
// CNAME and reports other data there: a CNAME cannot stand beside it, and
// the SDK never removes records it does not manage.
func (s *Service) cnameProblems(ctx context.Context, op string, d dnsrecords.Domain) ([]Problem, error) {
	set, err := dnsrecords.Generate(d, &dnsrecords.Options{Services: s.opts.Services})
	if err != nil {
		return nil, backend.WithOp(err, op, d.Name)
	}
	var want []backend.DNSRecord
	var names []string
	for _, r := range set.Records {
		if r.Type == backend.DNSTypeCNAME {
			want = append(want, r.DNSRecord)
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	have, err := retry.Value(ctx, s.retry, op, d.Name, func() ([]backend.DNSRecord, error) { return s.zone.Records(ctx, names...) })
	if err != nil {
		return nil, backend.WithOp(err, op, d.Name)
	}
	var out []Problem
	for _, h := range have {
		if slices.ContainsFunc(want, h.Same) {
			continue
		}
		out = append(out, Problem{Step: StepPublishServices, Name: h.Name, Reason: backend.ReasonZoneCNAMEConflict,
			Detail: fmt.Sprintf("the zone already holds %s where Microsoft 365 needs a CNAME; remove it, or the service records will not be published", h)})
	}
	return out, nil
}

// ApplyOptions tunes ApplyLink; nil means the defaults.
type ApplyOptions struct {
	// Wait makes ApplyLink wait for verification (WaitVerified) instead of
	// asking the tenant once.
	Wait bool
	// Progress receives WaitVerified's rounds when Wait is set.
	Progress func(WaitProgress)
}

// LinkResult is what ApplyLink did.
type LinkResult struct {
	Domain string
	// Verified reports that the tenant verified the domain.
	Verified bool
	// Publish is where the records went; PublishFile with ZoneError set
	// when a zone was given but refused the update.
	Publish   Publish
	ZoneError error
	// Published are the records written to the zone by this run; Replaced
	// the records it removed (an SPF record replaced by the merged one).
	// A rerun finds them in place and leaves them.
	Published, Replaced []backend.DNSRecord
	// RecordsFiles are the NewDNSRecords_(n).txt files written.
	RecordsFiles []string
	// Check is the live check of the service records, once verified.
	Check *dnsrecords.Report
	// Next says what the administrator must do, when something is left.
	Next string
	// Advice is the seed's warning, always given: once verified, never
	// edit the domain's records from the Microsoft 365 portal.
	Advice string
}

// AdviceNoPortalEdits is the warning every link result carries.
const AdviceNoPortalEdits = "Once the domain is verified, do not change its DNS records from the Microsoft 365 portal: this SDK manages them, and the two would overwrite each other."

// ApplyLink runs the plan's steps: add the domain (an existing one is
// kept), publish the verification record, verify, publish the service
// records and check them. It can be run again with the same plan: finished
// steps are skipped. When the tenant does not see the verification record
// yet, the result says so in Next and the error is nil; with Wait, the call
// waits for it instead.
func (s *Service) ApplyLink(ctx context.Context, plan *LinkPlan, opts *ApplyOptions) (*LinkResult, error) {
	const op = "domains: link domain"
	if plan == nil || plan.Domain.Name == "" {
		return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Reason: ReasonPlanStale, Msg: "no plan: call PlanLink first"}
	}
	if opts == nil {
		opts = &ApplyOptions{}
	}
	name := plan.Domain.Name
	res := &LinkResult{Domain: name, Publish: PublishFile, Advice: AdviceNoPortalEdits}
	existed, err := s.addDomain(ctx, op, name)
	if err != nil {
		return res, err
	}
	dom, _, err := s.domain(ctx, op, name)
	if err != nil {
		return res, err
	}
	useZone := s.zone != nil && plan.Publish == PublishZone
	if useZone {
		if err := s.retry.Do(ctx, op, name, func() error { return s.zone.Writable(ctx) }); err != nil {
			if !isRefusal(err) {
				return res, backend.WithOp(err, op, name)
			}
			useZone, res.ZoneError = false, err
			s.log.InfoContext(ctx, "domains: the zone refuses updates; writing a records file", "domain", name, "err", err)
		}
	}
	if useZone {
		res.Publish = PublishZone
	}
	if !dom.IsVerified && existed {
		// A rerun: the record may be visible by now, with nothing to
		// publish again.
		if d, err := s.verify(ctx, op, name); err == nil {
			dom = d
		} else if backend.ReasonOf(err) != backend.ReasonVerificationRecordMissing {
			return res, err
		}
	}
	if !dom.IsVerified {
		verified, err := s.verifyStep(ctx, op, plan, res, useZone, opts)
		if err != nil || !verified {
			return res, err
		}
	}
	res.Verified = true
	return res, s.serviceStep(ctx, op, plan, res, useZone)
}

// isRefusal reports whether a zone error means "this zone cannot be
// written" rather than a passing failure.
func isRefusal(err error) bool {
	k := backend.KindOf(err)
	return k == backend.PermissionDenied || k == backend.FailedPrecondition || k == backend.Unimplemented
}

// addDomain adds the domain; existed reports that the tenant had it.
func (s *Service) addDomain(ctx context.Context, op, name string) (existed bool, err error) {
	_, err = retry.Value(ctx, s.retry, op, name, func() (backend.Domain, error) { return s.admin.AddDomain(ctx, name) })
	if errors.Is(err, backend.ErrAlreadyExists) {
		return true, nil
	}
	s.record(ctx, AuditAddDomain, audit.SideTenant, name, nil, err)
	return false, backend.WithOp(err, op, name)
}

// verifyStep publishes the verification TXT and verifies.
func (s *Service) verifyStep(ctx context.Context, op string, plan *LinkPlan, res *LinkResult, useZone bool, opts *ApplyOptions) (bool, error) {
	name := plan.Domain.Name
	recs, err := retry.Value(ctx, s.retry, op, name, func() ([]backend.DNSRecord, error) { return s.admin.VerificationRecords(ctx, name) })
	if err != nil {
		return false, backend.WithOp(err, op, name)
	}
	i := slices.IndexFunc(recs, func(r backend.DNSRecord) bool { return r.Type == backend.DNSTypeTXT })
	if i < 0 {
		return false, backend.Errorf(backend.FailedPrecondition, op, name, "the tenant offered no TXT verification record")
	}
	txt := recs[i]
	if useZone {
		if err := s.publish(ctx, op, name, res, nil, []backend.DNSRecord{txt}); err != nil {
			return false, err
		}
	} else {
		set, err := dnsrecords.Generate(plan.Domain, &dnsrecords.Options{Services: []dnsrecords.Service{dnsrecords.ServiceVerification}, TenantRecords: recs})
		if err != nil {
			return false, backend.WithOp(err, op, name)
		}
		if err := s.writeFile(ctx, op, name, res, set); err != nil {
			return false, err
		}
	}
	if opts.Wait {
		if _, err := s.WaitVerified(ctx, name, opts.Progress); err != nil {
			return false, err
		}
		return true, nil
	}
	_, err = s.verify(ctx, op, name)
	if backend.ReasonOf(err) == backend.ReasonVerificationRecordMissing {
		where := "the DNS zone " + s.zoneName()
		if !useZone {
			where = "the domain's DNS (see " + lastOf(res.RecordsFiles) + ")"
		}
		res.Next = fmt.Sprintf("publish the TXT record %s at %s in %s if not done yet, wait for DNS to propagate (usually about an hour), then apply the link again or call WaitVerified", txt.Text, name, where)
		return false, nil
	}
	return err == nil, err
}

func (s *Service) verify(ctx context.Context, op, name string) (backend.Domain, error) {
	d, err := retry.Value(ctx, s.retry, op, name, func() (backend.Domain, error) { return s.admin.VerifyDomain(ctx, name) })
	if backend.ReasonOf(err) != backend.ReasonVerificationRecordMissing {
		s.record(ctx, AuditVerifyDomain, audit.SideTenant, name, nil, err)
	}
	return d, backend.WithOp(err, op, name)
}

// serviceStep publishes the service records the tenant reports and checks
// them.
func (s *Service) serviceStep(ctx context.Context, op string, plan *LinkPlan, res *LinkResult, useZone bool) error {
	name := plan.Domain.Name
	recs, err := retry.Value(ctx, s.retry, op, name, func() ([]backend.DNSRecord, error) { return s.admin.ServiceConfigurationRecords(ctx, name) })
	if err != nil {
		return backend.WithOp(err, op, name)
	}
	var apex []backend.DNSRecord
	if useZone {
		apex, err = retry.Value(ctx, s.retry, op, name, func() ([]backend.DNSRecord, error) { return s.zone.Records(ctx, name) })
		if err != nil {
			return backend.WithOp(err, op, name)
		}
	}
	var existingTXT []string
	for _, r := range apex {
		if r.Type == backend.DNSTypeTXT {
			existingTXT = append(existingTXT, r.Text)
		}
	}
	set, err := dnsrecords.Generate(plan.Domain, &dnsrecords.Options{Services: s.opts.Services, TenantRecords: recs, ExistingSPF: existingTXT})
	if err != nil {
		return backend.WithOp(err, op, name)
	}
	set.Records = slices.DeleteFunc(set.Records, func(r dnsrecords.Record) bool {
		return r.Placeholder || r.Source == dnsrecords.SourceDerived || r.Service == dnsrecords.ServiceVerification
	})
	if useZone {
		var add, remove []backend.DNSRecord
		for _, r := range set.Records {
			add = append(add, r.DNSRecord)
			if r.Role == dnsrecords.RoleSPF {
				for _, old := range apex {
					if old.Type == backend.DNSTypeTXT && isSPFText(old.Text) && !old.Same(r.DNSRecord) {
						remove = append(remove, old)
					}
				}
			}
		}
		if err := s.publish(ctx, op, name, res, remove, add); err != nil {
			return err
		}
	} else if err := s.writeFile(ctx, op, name, res, set); err != nil {
		return err
	}
	rep, err := dnsrecords.Check(ctx, set, &dnsrecords.CheckOptions{Server: s.opts.CheckServer, Verified: true})
	if err != nil {
		res.Next = "the records could not be checked in live DNS: " + err.Error()
		return nil
	}
	res.Check = rep
	if !rep.OK() && res.Next == "" {
		res.Next = "some records are not visible in live DNS yet; run Status later (DNS changes can take up to 72 hours)"
		if !useZone {
			res.Next = "publish the records of " + lastOf(res.RecordsFiles) + " in the domain's DNS, then run Status to check them"
		}
	}
	return nil
}

// publish writes add (and removes remove) in one zone update, skipping
// records already in place, and lists what it wrote in res.
func (s *Service) publish(ctx context.Context, op, name string, res *LinkResult, remove, add []backend.DNSRecord) error {
	var names []string
	for _, r := range add {
		if n := backend.CanonicalDNSName(r.Name); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	have, err := retry.Value(ctx, s.retry, op, name, func() ([]backend.DNSRecord, error) { return s.zone.Records(ctx, names...) })
	if err != nil {
		return backend.WithOp(err, op, name)
	}
	var todo []backend.DNSRecord
	for _, r := range add {
		if !slices.ContainsFunc(have, r.Same) && !slices.ContainsFunc(todo, r.Same) {
			r.ID, r.SupportedService, r.Optional = "", "", false
			todo = append(todo, r)
		}
	}
	remove = slices.DeleteFunc(slices.Clone(remove), func(r backend.DNSRecord) bool { return !slices.ContainsFunc(have, r.Same) })
	if len(todo) == 0 && len(remove) == 0 {
		return nil
	}
	err = s.retry.Do(ctx, op, name, func() error { return s.zone.Update(ctx, remove, todo) })
	s.record(ctx, AuditPublishRecords, audit.SideDNS, name, map[string]string{
		"zone": s.zone.Name(), "added": fmt.Sprint(len(todo)), "removed": fmt.Sprint(len(remove)),
	}, err)
	if err != nil {
		return backend.WithOp(err, op, name)
	}
	res.Published = append(res.Published, todo...)
	res.Replaced = append(res.Replaced, remove...)
	return nil
}

func (s *Service) writeFile(ctx context.Context, op, name string, res *LinkResult, set *dnsrecords.RecordSet) error {
	path, err := dnsrecords.WriteFile(s.opts.RecordsDir, set, nil)
	s.record(ctx, AuditWriteRecordsFile, audit.SideLocal, name, map[string]string{"file": path}, err)
	if err != nil {
		return backend.WithOp(err, op, name)
	}
	res.RecordsFiles = append(res.RecordsFiles, path)
	return nil
}

func (s *Service) zoneName() string {
	if s.zone == nil {
		return ""
	}
	return s.zone.Name()
}

func lastOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

func isSPFText(t string) bool {
	l := strings.ToLower(strings.TrimSpace(t))
	return l == "v=spf1" || strings.HasPrefix(l, "v=spf1 ")
}
