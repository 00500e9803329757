package groups

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
)

// Reasons this package names, each with its kind.
const (
	// ReasonNoExchangeOnline (FailedPrecondition): the tenant's
	// subscriptions include no Exchange Online plan, so there are no
	// distribution groups to manage.
	ReasonNoExchangeOnline = backend.ReasonNoExchangeOnline
	// ReasonGroupCycle (InvalidArgument): the change would nest a group in
	// itself, directly or through other groups.
	ReasonGroupCycle backend.Reason = "group-cycle"
	// ReasonMemberInactive (FailedPrecondition): the user has no active
	// online account (it is blocked from signing in or holds no license).
	ReasonMemberInactive backend.Reason = "member-inactive"
	// ReasonMemberNoMailbox (FailedPrecondition): the user's licenses give
	// no Exchange Online mailbox.
	ReasonMemberNoMailbox backend.Reason = "member-no-mailbox"
	// ReasonNameRequired (InvalidArgument): a group needs a name and an
	// email alias.
	ReasonNameRequired backend.Reason = "group-name-required"
)

// Audit ops of the writes this package makes (audit.Event.Op).
const (
	AuditCreateGroup   = "create-group"
	AuditUpdateGroup   = "update-group"
	AuditDeleteGroup   = "delete-group"
	AuditAddMember     = "add-member"
	AuditRemoveMember  = "remove-member"
	AuditAddAddress    = "add-address"
	AuditRemoveAddress = "remove-address"
)

// Options configure a [Service]. The zero value is usable: every field
// documents its default.
type Options struct {
	// Logger receives structured logs; default discard.
	Logger *slog.Logger
	// Now is the clock of audit events; default time.Now.
	Now func() time.Time
	// Retry bounds the one retry layer (throttled and unavailable calls,
	// honouring Retry-After); its zero value takes retry's defaults and
	// its Logger defaults to Logger.
	Retry retry.Policy
	// Audit receives one event per write to Exchange Online; default none
	// (events still go to Logger at info level).
	Audit audit.Hook
}

// Service manages Exchange Online distribution groups and recipients'
// email addresses as the seed's dashboard did, over a tenant (to check
// subscriptions, domains and online accounts) and an Exchange driver.
// It is safe for concurrent use.
type Service struct {
	tenant backend.Tenant
	exo    backend.Exchange
	log    *slog.Logger
	retry  retry.Policy
	trail  *audit.Trail
}

// New returns a Service over a tenant and its Exchange Online.
func New(tenant backend.Tenant, exo backend.Exchange, opts *Options) (*Service, error) {
	const op = "groups: new service"
	if tenant == nil {
		return nil, backend.Errorf(backend.InvalidArgument, op, "", "a tenant driver is required")
	}
	if exo == nil {
		return nil, backend.Errorf(backend.InvalidArgument, op, "", "an Exchange driver is required (memory.Tenant.Exchange, or exchangeonline.New)")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	s := &Service{tenant: tenant, exo: exo, log: o.Logger, retry: o.Retry}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.retry.Logger == nil {
		s.retry.Logger = s.log
	}
	s.retry = s.retry.WithDefaults()
	s.trail = &audit.Trail{Package: "groups", Hook: o.Audit, Logger: s.log, Now: o.Now}
	return s, nil
}

// do runs fn through the retry policy.
func (s *Service) do(ctx context.Context, op, key string, fn func() error) error {
	return s.retry.Do(ctx, op, key, fn)
}

// write runs a write through the retry policy and records it once in the
// audit trail.
func (s *Service) write(ctx context.Context, e audit.Event, op, key string, fn func() error) error {
	e.Side = audit.SideExchange
	err := s.do(ctx, op, key, fn)
	s.trail.Record(ctx, e, err)
	return err
}

// Available reports whether the tenant can have distribution groups: nil
// when a subscription includes an Exchange Online plan, FailedPrecondition
// (ReasonNoExchangeOnline) otherwise. Every operation of the Service
// checks it first, as the dashboard showed its distribution-groups tab
// only with an Exchange Online subscription.
func (s *Service) Available(ctx context.Context) error {
	const op = "groups: check exchange online"
	var skus []backend.SKU
	if err := s.do(ctx, op, "", func() (e error) { skus, e = s.tenant.SubscribedSKUs(ctx); return }); err != nil {
		return backend.WithOp(err, op, "")
	}
	for _, sku := range skus {
		if st := strings.ToLower(sku.CapabilityStatus); st != "" && st != "enabled" && st != "warning" {
			continue
		}
		if sku.Enabled <= 0 {
			continue
		}
		for _, p := range sku.ServicePlans {
			if backend.ExchangeMailboxPlan(p.Name) {
				return nil
			}
		}
	}
	return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Reason: ReasonNoExchangeOnline,
		Msg: "the subscription includes no Exchange Online: add a subscription with Exchange Online to manage distribution groups and email addresses"}
}

// domains returns the tenant's domains by lower-cased name.
func (s *Service) domains(ctx context.Context, op string) (map[string]backend.Domain, error) {
	var ds []backend.Domain
	if err := s.do(ctx, op, "", func() (e error) { ds, e = s.tenant.Domains(ctx); return }); err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	m := make(map[string]backend.Domain, len(ds))
	for _, d := range ds {
		m[strings.ToLower(d.Name)] = d
	}
	return m, nil
}

// checkNewAddress validates an address about to be given to a recipient:
// syntax, a verified domain of the tenant, and unused by any recipient.
func (s *Service) checkNewAddress(ctx context.Context, op, key, addr string, doms map[string]backend.Domain) error {
	if backend.ExchangeAddressRule(addr) != "" {
		return backend.Invalid(op, key, backend.ReasonAliasSyntax, "%q is not a valid email address: use name@domain with letters, digits and . - _ ' ! # ^ ~ before the @", addr)
	}
	_, domain, _ := strings.Cut(addr, "@")
	d, ok := doms[strings.ToLower(domain)]
	if !ok {
		return backend.Invalid(op, key, backend.ReasonAliasDomainUnverified, "%s is not a domain of the tenant: add and verify it first", domain)
	}
	if !d.IsVerified {
		return backend.Invalid(op, key, backend.ReasonAliasDomainUnverified, "%s is not verified yet: verify it before using it in addresses", domain)
	}
	var r backend.Recipient
	err := s.do(ctx, op, addr, func() (e error) { r, e = s.exo.GetRecipient(ctx, addr); return })
	switch {
	case err == nil:
		return backend.Errorf(backend.AlreadyExists, op, key, "%s is already used by %s (%s): choose another address", addr, cmpOr(r.DisplayName, r.Name), r.PrimaryAddress)
	case backend.KindOf(err) != backend.NotFound:
		return backend.WithOp(err, op, key)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
