package domains

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/essentials365/sdk/dnsrecords"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
)

// WaitProgress is one round of WaitVerified.
type WaitProgress struct {
	Domain string
	// Round counts the verification attempts, from 1.
	Round int
	// Elapsed is the time since WaitVerified started.
	Elapsed time.Duration
	// Missing says what public DNS still lacks (from the live check of the
	// verification TXT), or why it could not be checked.
	Missing string
	// Next is the wait before the next round.
	Next time.Duration
}

// WaitVerified asks the tenant to verify name until it does, the context
// ends, or Options.MaxWait passes (FailedPrecondition,
// ReasonVerificationTimeout). Between rounds it waits PollInterval,
// doubling up to MaxPollInterval, and calls progress (may be nil) with what
// the live check still misses.
func (s *Service) WaitVerified(ctx context.Context, name string, progress func(WaitProgress)) (backend.Domain, error) {
	const op = "domains: wait for verification"
	d, err := s.parse(op, name)
	if err != nil {
		return backend.Domain{}, err
	}
	start := s.opts.Now()
	wait := s.opts.PollInterval
	for round := 1; ; round++ {
		dom, err := s.verify(ctx, op, d.Name)
		if err == nil {
			return dom, nil
		}
		if backend.ReasonOf(err) != backend.ReasonVerificationRecordMissing {
			return backend.Domain{}, err
		}
		elapsed := s.opts.Now().Sub(start)
		if elapsed+wait > s.opts.MaxWait {
			return backend.Domain{}, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: d.Name, Reason: ReasonVerificationTimeout,
				Msg: fmt.Sprintf("the tenant did not see the verification record after %s; check it is published at the domain's authoritative servers", elapsed.Round(time.Second)), Err: err}
		}
		if progress != nil {
			progress(WaitProgress{Domain: d.Name, Round: round, Elapsed: elapsed, Missing: s.missingVerification(ctx, d), Next: wait})
		}
		if err := s.retry.Sleep(ctx, wait); err != nil {
			return backend.Domain{}, backend.Wrap(err, backend.Canceled, op, d.Name)
		}
		wait = min(wait*2, s.opts.MaxPollInterval)
	}
}

// missingVerification checks the verification TXT in live DNS and says
// what is missing.
func (s *Service) missingVerification(ctx context.Context, d dnsrecords.Domain) string {
	recs, err := s.admin.VerificationRecords(ctx, d.Name)
	if err != nil {
		return "the verification record could not be read: " + err.Error()
	}
	set, err := dnsrecords.Generate(d, &dnsrecords.Options{Services: []dnsrecords.Service{dnsrecords.ServiceVerification}, TenantRecords: recs})
	if err != nil {
		return err.Error()
	}
	rep, err := dnsrecords.Check(ctx, set, &dnsrecords.CheckOptions{Server: s.opts.CheckServer})
	if err != nil {
		return "live DNS could not be checked: " + err.Error()
	}
	r, ok := rep.Result(dnsrecords.RoleVerificationTXT)
	if !ok {
		return ""
	}
	if r.Status == dnsrecords.StatusPresent {
		return "nothing: the record is visible; the tenant has not looked again yet"
	}
	return fmt.Sprintf("TXT %s at %s: %s", r.Record.Text, r.Record.Name, r.Status)
}

// SetDefault makes a verified domain the tenant's default: the accounts
// plans then propose online IDs on it. An unverified domain is
// FailedPrecondition (backend.ReasonDomainUnverified).
func (s *Service) SetDefault(ctx context.Context, name string) (backend.Domain, error) {
	const op = "domains: set default domain"
	d, err := s.parse(op, name)
	if err != nil {
		return backend.Domain{}, err
	}
	dom, ok, err := s.domain(ctx, op, d.Name)
	if err != nil {
		return backend.Domain{}, err
	}
	if !ok {
		return backend.Domain{}, backend.Errorf(backend.NotFound, op, d.Name, "the tenant has no domain %s; link it first", d.Name)
	}
	if !dom.IsVerified {
		return backend.Domain{}, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: d.Name, Reason: backend.ReasonDomainUnverified,
			Msg: "only a verified domain can be the default; finish linking it first"}
	}
	out, err := retry.Value(ctx, s.retry, op, d.Name, func() (backend.Domain, error) { return s.admin.SetDefaultDomain(ctx, d.Name) })
	s.record(ctx, AuditSetDefault, audit.SideTenant, d.Name, nil, err)
	return out, backend.WithOp(err, op, d.Name)
}

// InUse is the cause of a refused removal: the objects that still use the
// domain.
type InUse struct {
	Domain     string
	References []string
}

func (e *InUse) Error() string {
	return fmt.Sprintf("%d object(s) use %s: %s", len(e.References), e.Domain, strings.Join(e.References, ", "))
}

// RemoveOptions tunes Remove; nil means the defaults.
type RemoveOptions struct {
	// ForceRename removes a domain that objects still use, after Microsoft
	// 365 renames them onto the initial onmicrosoft.com domain (Graph's
	// forceDelete). Default false: Remove refuses instead. Use it only when
	// the users are to keep working under their onmicrosoft.com names.
	ForceRename bool
	// DisableUserAccounts disables the users ForceRename renames; Graph's
	// own default is to disable them, this option's default is not to.
	DisableUserAccounts bool
}

// Remove deletes a domain from the tenant. While users, groups or
// addresses use it, it is refused (FailedPrecondition,
// backend.ReasonDomainInUse) with an *InUse cause listing them, unless
// opts.ForceRename asks explicitly for them to be renamed. The domain's
// DNS records are left in place.
func (s *Service) Remove(ctx context.Context, name string, opts *RemoveOptions) error {
	const op = "domains: remove domain"
	if opts == nil {
		opts = &RemoveOptions{}
	}
	d, err := s.parse(op, name)
	if err != nil {
		return err
	}
	refs, err := retry.Value(ctx, s.retry, op, d.Name, func() ([]string, error) { return s.admin.DomainReferences(ctx, d.Name) })
	if err != nil {
		return backend.WithOp(err, op, d.Name)
	}
	if len(refs) > 0 && opts.ForceRename {
		err = s.retry.Do(ctx, op, d.Name, func() error { return s.admin.ForceDeleteDomain(ctx, d.Name, opts.DisableUserAccounts) })
		s.record(ctx, AuditDeleteDomain, audit.SideTenant, d.Name, map[string]string{
			"forced": "true", "renamed": fmt.Sprint(len(refs)), "disabled": fmt.Sprint(opts.DisableUserAccounts),
		}, err)
		return backend.WithOp(err, op, d.Name)
	}
	if len(refs) > 0 {
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: d.Name, Reason: backend.ReasonDomainInUse,
			Msg: "change the user names and addresses on this domain first (the SDK never renames them itself)", Err: &InUse{Domain: d.Name, References: refs}}
	}
	err = s.retry.Do(ctx, op, d.Name, func() error { return s.admin.DeleteDomain(ctx, d.Name) })
	s.record(ctx, AuditDeleteDomain, audit.SideTenant, d.Name, nil, err)
	return backend.WithOp(err, op, d.Name)
}

// DomainStatus is the state of one domain.
type DomainStatus struct {
	Domain     backend.Domain
	Verified   bool
	Default    bool
	Check      *dnsrecords.Report // nil when live DNS could not be asked
	CheckError error
	// Advice is the seed's warning, always given.
	Advice string
}

// Status returns the domain's state in the tenant and a live check of its
// records: the verification record before verification, the service
// records the tenant reports after.
func (s *Service) Status(ctx context.Context, name string) (*DomainStatus, error) {
	const op = "domains: get status"
	d, err := s.parse(op, name)
	if err != nil {
		return nil, err
	}
	dom, ok, err := s.domain(ctx, op, d.Name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, backend.Errorf(backend.NotFound, op, d.Name, "the tenant has no domain %s", d.Name)
	}
	st := &DomainStatus{Domain: dom, Verified: dom.IsVerified, Default: dom.IsDefault, Advice: AdviceNoPortalEdits}
	var recs []backend.DNSRecord
	services := []dnsrecords.Service{dnsrecords.ServiceVerification}
	if dom.IsVerified {
		recs, err = retry.Value(ctx, s.retry, op, d.Name, func() ([]backend.DNSRecord, error) { return s.admin.ServiceConfigurationRecords(ctx, d.Name) })
		services = s.opts.Services
	} else {
		recs, err = retry.Value(ctx, s.retry, op, d.Name, func() ([]backend.DNSRecord, error) { return s.admin.VerificationRecords(ctx, d.Name) })
	}
	if err != nil {
		return nil, backend.WithOp(err, op, d.Name)
	}
	set, err := dnsrecords.Generate(d, &dnsrecords.Options{Services: services, TenantRecords: recs})
	if err != nil {
		return nil, backend.WithOp(err, op, d.Name)
	}
	st.Check, st.CheckError = dnsrecords.Check(ctx, set, &dnsrecords.CheckOptions{Server: s.opts.CheckServer, Verified: dom.IsVerified})
	return st, nil
}
