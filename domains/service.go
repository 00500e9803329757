package domains

import (
	"cmp"
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/essentials365/sdk/dnsrecords"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
)

// The reasons this package declares; the tenant's and the zone's own
// reasons (backend.ReasonDomainInUse, backend.ReasonZoneRefused, ...) pass
// through unchanged.
const (
	// ReasonNoDomainAdmin (Unimplemented): the tenant driver cannot manage
	// domains (it does not implement backend.DomainAdmin).
	ReasonNoDomainAdmin backend.Reason = "no-domain-admin"
	// ReasonZoneMismatch (InvalidArgument): the zone given does not hold
	// the domain.
	ReasonZoneMismatch backend.Reason = "zone-mismatch"
	// ReasonVerificationTimeout (FailedPrecondition): WaitVerified's limit
	// passed before the tenant saw the verification record.
	ReasonVerificationTimeout backend.Reason = "verification-timeout"
	// ReasonPlanStale (FailedPrecondition): the plan is for another domain
	// or was not made by PlanLink.
	ReasonPlanStale backend.Reason = "plan-stale"
)

// The audit ops of the writes this package makes.
const (
	AuditAddDomain        = "add-domain"
	AuditPublishRecords   = "publish-records"
	AuditWriteRecordsFile = "write-records-file"
	AuditVerifyDomain     = "verify-domain"
	AuditSetDefault       = "set-default-domain"
	AuditDeleteDomain     = "delete-domain"
)

// Options configures a Service; nil or the zero value gives the defaults.
type Options struct {
	// Zone is the DNS zone of the domains to link. Nil: the records are
	// written to a records file. A zone that refuses updates is used for
	// reading only, and the records file is written instead.
	Zone backend.Zone
	// RecordsDir is where NewDNSRecords_(n).txt files are written; default
	// "." (the working directory).
	RecordsDir string
	// Policy decides which names can be linked; default
	// dnsrecords.PolicyModern (subdomains allowed). PolicyEssentials
	// accepts second-level domains only, as the Essentials wizard did.
	Policy dnsrecords.Policy
	// Services are the services whose records are published after
	// verification; default mail, federation, legacy Skype and MDM: the
	// records the tenant reports. DKIM and DMARC need values from Exchange
	// Online and are left to dnsrecords.
	Services []dnsrecords.Service
	// CheckServer is the DNS server (host:port) the live checks ask;
	// default: the domain's authoritative servers, found through NS
	// records.
	CheckServer string
	// PollInterval is WaitVerified's first wait between rounds; it doubles
	// up to MaxPollInterval. Defaults 30 s and 10 min.
	PollInterval, MaxPollInterval time.Duration
	// MaxWait bounds WaitVerified; default 72 h, the delay Microsoft gives
	// for DNS changes.
	MaxWait time.Duration
	// Retry runs every tenant and zone call (and sleeps between
	// WaitVerified rounds with its Sleep); zero value: retry's defaults.
	Retry retry.Policy
	// Audit receives one event per write; nil sends events to Logger only.
	Audit audit.Hook
	// Logger receives the audit records and debug lines; default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service links and manages a tenant's custom domains.
type Service struct {
	tenant backend.Tenant
	admin  backend.DomainAdmin
	zone   backend.Zone
	opts   Options
	retry  retry.Policy
	trail  *audit.Trail
	log    *slog.Logger
}

// New returns a Service over tenant, which must implement
// backend.DomainAdmin (Unimplemented, ReasonNoDomainAdmin, otherwise).
func New(tenant backend.Tenant, opts *Options) (*Service, error) {
	const op = "domains: new service"
	var o Options
	if opts != nil {
		o = *opts
	}
	admin, ok := tenant.(backend.DomainAdmin)
	if !ok {
		return nil, &backend.Error{Kind: backend.Unimplemented, Op: op, Reason: ReasonNoDomainAdmin,
			Msg: "the tenant driver cannot add or verify domains; use the Graph driver or the memory tenant"}
	}
	o.RecordsDir = cmp.Or(o.RecordsDir, ".")
	if len(o.Services) == 0 {
		o.Services = []dnsrecords.Service{dnsrecords.ServiceMail, dnsrecords.ServiceFederation, dnsrecords.ServiceSkypeLegacy, dnsrecords.ServiceMDM}
	}
	o.PollInterval = cmp.Or(o.PollInterval, 30*time.Second)
	o.MaxPollInterval = cmp.Or(o.MaxPollInterval, 10*time.Minute)
	o.MaxWait = cmp.Or(o.MaxWait, 72*time.Hour)
	if o.Now == nil {
		o.Now = time.Now
	}
	log := cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	r := o.Retry
	if r.Logger == nil {
		r.Logger = log
	}
	return &Service{
		tenant: tenant, admin: admin, zone: o.Zone, opts: o, retry: r.WithDefaults(), log: log,
		trail: &audit.Trail{Package: "domains", Hook: o.Audit, Logger: log, Now: o.Now},
	}, nil
}

// domain returns the tenant's domain named name, and whether it exists.
func (s *Service) domain(ctx context.Context, op, name string) (backend.Domain, bool, error) {
	ds, err := retry.Value(ctx, s.retry, op, name, func() ([]backend.Domain, error) { return s.tenant.Domains(ctx) })
	if err != nil {
		return backend.Domain{}, false, backend.WithOp(err, op, name)
	}
	for _, d := range ds {
		if strings.EqualFold(d.Name, name) {
			return d, true, nil
		}
	}
	return backend.Domain{}, false, nil
}

// parse validates name under the service's policy.
func (s *Service) parse(op, name string) (dnsrecords.Domain, error) {
	d, err := dnsrecords.ParseDomain(name, s.opts.Policy)
	if err != nil {
		return dnsrecords.Domain{}, backend.WithOp(err, op, name)
	}
	return d, nil
}

// record sends one audit event.
func (s *Service) record(ctx context.Context, op string, side audit.Side, target string, detail map[string]string, err error) {
	s.trail.Record(ctx, audit.Event{Op: op, Side: side, Target: target, Detail: detail}, err)
}
