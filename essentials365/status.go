package essentials365

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
)

// Status is the Essentials dashboard's "Office 365" page as data.
type Status struct {
	// Record is the integration record: State, Since, tenant, domains.
	Record Record
	// Subscriptions are the tenant's subscriptions, by name.
	Subscriptions []Subscription
	// Domains are the tenant's domains, by name.
	Domains []DomainStatus
	// ExchangeOnline reports that a subscription includes Exchange Online.
	ExchangeOnline bool
	// LastReconcile is the outcome of the last reconcile run through
	// Integration.Reconcile; nil when none was recorded.
	LastReconcile *ReconcileOutcome
	// PendingPasswords counts the online password updates waiting to be
	// pushed.
	PendingPasswords int
	// Warnings are the warnings of the last requirements check Integrate
	// ran.
	Warnings []Check
	// TenantError is set when the tenant could not be read; the local
	// parts (Record, LastReconcile, PendingPasswords) are still filled.
	TenantError error
}

// Subscription is one subscribed SKU.
type Subscription struct {
	Name             string // the SKU's part number, e.g. "O365_BUSINESS_PREMIUM"
	SKUID            string
	CapabilityStatus string // Enabled, Warning, Suspended, Deleted, LockedOut
	Total, Used      int
	Free             int
}

// DomainStatus is one domain of the tenant.
type DomainStatus struct {
	Name                       string
	Verified, Default, Initial bool
}

// ReconcileOutcome is the summary of a reconcile, kept in the state store.
type ReconcileOutcome struct {
	At       time.Time `json:"at"`
	Full     bool      `json:"full"`
	Examined int       `json:"examined"`
	Enabled  int       `json:"enabled"`
	Disabled int       `json:"disabled"`
	Deleted  int       `json:"deleted"`
	Failures int       `json:"failures"`
	Stopped  bool      `json:"stopped"`
	// Error is the reconcile's error, "" when it succeeded.
	Error string `json:"error,omitempty"`
}

// Status reads the integration's state and the tenant's subscriptions and
// domains. It fails only when the local state cannot be read; a tenant
// that cannot be reached is reported in Status.TenantError.
func (i *Integration) Status(ctx context.Context) (*Status, error) {
	const op = "essentials365: get status"
	rec, err := i.Record(ctx)
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	st := &Status{Record: rec, Warnings: rec.Warnings}
	if b, err := i.store.Get(ctx, keyLastReconcile); err == nil {
		var out ReconcileOutcome
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: keyLastReconcile, Reason: ReasonStateCorrupt,
				Msg: "the last reconcile's record cannot be read", Err: err}
		}
		st.LastReconcile = &out
	} else if backend.KindOf(err) != backend.NotFound {
		return nil, backend.WithOp(err, op, keyLastReconcile)
	}
	pending, err := i.accounts.PendingPasswords(ctx)
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	st.PendingPasswords = len(pending)

	tenant := i.tenant.get()
	skus, err := retry.Value(ctx, i.retry, op, "", func() ([]backend.SKU, error) { return tenant.SubscribedSKUs(ctx) })
	if err != nil {
		st.TenantError = backend.WithOp(err, op, rec.TenantID)
		return st, nil
	}
	for _, s := range skus {
		st.Subscriptions = append(st.Subscriptions, Subscription{Name: cmp.Or(s.PartNumber, s.SKUID), SKUID: s.SKUID,
			CapabilityStatus: s.CapabilityStatus, Total: s.Enabled, Used: s.Consumed, Free: s.Available()})
		for _, p := range s.ServicePlans {
			if strings.EqualFold(s.CapabilityStatus, "Enabled") && strings.HasPrefix(strings.ToUpper(p.Name), "EXCHANGE") {
				st.ExchangeOnline = true
			}
		}
	}
	slices.SortFunc(st.Subscriptions, func(a, b Subscription) int { return strings.Compare(a.Name, b.Name) })
	doms, err := retry.Value(ctx, i.retry, op, "", func() ([]backend.Domain, error) { return tenant.Domains(ctx) })
	if err != nil {
		st.TenantError = backend.WithOp(err, op, rec.TenantID)
		return st, nil
	}
	for _, d := range doms {
		st.Domains = append(st.Domains, DomainStatus{Name: d.Name, Verified: d.IsVerified, Default: d.IsDefault, Initial: d.IsInitial})
	}
	slices.SortFunc(st.Domains, func(a, b DomainStatus) int { return strings.Compare(a.Name, b.Name) })
	return st, nil
}

// Reconcile runs the accounts service's Reconcile and records its outcome
// for Status. While the integration is not integrated it fails at once
// with FailedPrecondition and records nothing.
func (i *Integration) Reconcile(ctx context.Context, opts *accounts.ReconcileOptions) (*accounts.ReconcileReport, error) {
	const op = "essentials365: reconcile"
	if err := i.gate.check(ctx, op, ""); err != nil {
		return nil, err
	}
	rep, err := i.accounts.Reconcile(ctx, opts)
	out := ReconcileOutcome{At: i.now().UTC()}
	if rep != nil {
		out.Full, out.Examined, out.Stopped = rep.Full, rep.Examined, rep.Stopped
		out.Enabled, out.Disabled, out.Deleted, out.Failures = len(rep.Enabled), len(rep.Disabled), len(rep.Deleted), len(rep.Failures)
	}
	if err != nil {
		out.Error = err.Error()
	}
	b, merr := json.Marshal(out)
	if merr == nil {
		merr = i.store.Put(ctx, keyLastReconcile, b)
	}
	i.trail.Record(ctx, audit.Event{Op: AuditRecordReconcile, Side: audit.SideLocal,
		Detail: map[string]string{"examined": strconv.Itoa(out.Examined), "failures": strconv.Itoa(out.Failures)}}, merr)
	if merr != nil {
		i.log.WarnContext(ctx, "cannot record the reconcile's outcome", "err", merr)
	}
	return rep, err
}
