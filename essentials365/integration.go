package essentials365

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
	"github.com/essentials365/sdk/essentials365/state"
)

// Options configure an Integration. The zero value (or nil) is usable:
// every field documents its default.
type Options struct {
	// Mail is Exchange Online's side (aliases). Default none: the features
	// that need it fail with Unimplemented and Check warns.
	Mail backend.Mail
	// Store keeps the integration record and the feature services' state.
	// Default: a state.MemoryStore (lost when the process ends).
	Store state.Store
	// Sealer seals secrets (pending passwords, a stored credential) before
	// they reach Store. Required when Store is not a *state.MemoryStore;
	// default for the memory store: state.NewEphemeralSealer.
	Sealer state.Sealer
	// Logger receives structured logs; default discard. Secrets are never
	// logged.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Retry is the retry policy of every driver call (the SDK's one retry
	// layer); zero fields take retry's defaults; its Logger defaults to
	// Logger.
	Retry retry.Policy
	// Audit receives one event per write (state records, discarded
	// passwords, credential changes, secrets added or removed); default
	// none. Events never hold a secret.
	Audit audit.Hook
	// Accounts holds the accounts service's own settings (UsageLocation,
	// thresholds, BatchSize). Its Mail, Store, Sealer, Logger, Now and
	// Retry are replaced by the integration's. Default: accounts' defaults.
	Accounts *accounts.Options
	// Features are the features whose Graph permissions must be granted:
	// a missing one fails the check. The others are checked too, and a
	// missing permission only warns. Default: FeatureAccounts,
	// FeaturePasswords, FeatureLicenses.
	Features []Feature
	// AllowMultipleDomainControllers turns the one-domain-controller rule
	// (Windows Server Essentials supported only a single-DC domain) into a
	// warning, for domains where the program talks to one DC of several.
	// Default false: a second domain controller fails the check.
	AllowMultipleDomainControllers bool
	// ClockTolerance is the largest difference allowed between this
	// machine's clock and the domain controller's or the tenant's; default
	// 5 minutes (Kerberos' default skew).
	ClockTolerance time.Duration
}

// State is where the integration stands.
type State string

// The states of an integration.
const (
	// StateNotIntegrated: no integration is recorded in the state store.
	StateNotIntegrated State = "not-integrated"
	// StateIntegrated: the integration is on; the feature services write.
	StateIntegrated State = "integrated"
	// StateDisabled: the integration was disabled; the feature services
	// write nothing until Integrate runs again.
	StateDisabled State = "disabled"
)

// Record is the integration as recorded in the state store.
type Record struct {
	State State     `json:"state"`
	Since time.Time `json:"since"`
	// TenantID and TenantName identify the Microsoft 365 organization.
	TenantID   string `json:"tenantId"`
	TenantName string `json:"tenantName,omitempty"`
	// InitialDomain is the tenant's onmicrosoft.com domain, DefaultDomain
	// its default domain, when integrated.
	InitialDomain string `json:"initialDomain,omitempty"`
	DefaultDomain string `json:"defaultDomain,omitempty"`
	// ClientID is the application (client) id of the credential, when the
	// driver reports it.
	ClientID string `json:"clientId,omitempty"`
	// Domain is the Active Directory domain's DNS name; Server the domain
	// controller the integration was made on.
	Domain string `json:"domain,omitempty"`
	Server string `json:"server,omitempty"`
	// IntegratedAt is when the integration was first made (kept across
	// Integrate calls and re-enabling); CredentialChangedAt when the
	// credential last changed.
	IntegratedAt        time.Time `json:"integratedAt"`
	CredentialChangedAt time.Time `json:"credentialChangedAt,omitzero"`
	// Warnings are the warnings of the last requirements check Integrate
	// ran.
	Warnings []Check `json:"warnings,omitempty"`
	// DiscardedPasswords counts the pending password updates the last
	// Disable discarded.
	DiscardedPasswords int `json:"discardedPasswords,omitempty"`
}

// Keys of the state store.
const (
	keyRecord        = "essentials365/integration"
	keyCredential    = "essentials365/credential"
	keyLastReconcile = "essentials365/last-reconcile"
)

// Audit operations of this package.
const (
	AuditIntegrate        = "integrate"
	AuditDisable          = "disable"
	AuditDiscardPasswords = "discard-pending-passwords"
	AuditChangeCredential = "change-credential"
	AuditStoreCredential  = "store-credential"
	AuditAddSecret        = "add-secret"
	AuditRemoveSecret     = "remove-secret"
	AuditRecordReconcile  = "record-reconcile"
)

// Integration is the Office 365 integration of one Active Directory domain
// with one Microsoft 365 tenant. It is safe for concurrent use.
type Integration struct {
	dir    backend.Directory
	tenant *tenantRef // the caller's tenant driver, swapped by ChangeCredential
	opts   Options
	store  state.Store
	sealer state.Sealer
	log    *slog.Logger
	now    func() time.Time
	retry  retry.Policy
	trail  *audit.Trail
	gate   *gate

	mu       sync.Mutex // serializes lifecycle operations
	accounts *accounts.Service
}

// Open opens the integration of dir with tenant. It reads the integration
// record from the state store and makes no network call; a record that
// cannot be read is an error (FailedPrecondition, ReasonStateCorrupt),
// never a fresh start.
func Open(ctx context.Context, dir backend.Directory, tenant backend.Tenant, opts *Options) (*Integration, error) {
	const op = "essentials365: open integration"
	if dir == nil {
		return nil, backend.Invalid(op, "", ReasonDirectoryRequired, "a directory is required")
	}
	if tenant == nil {
		return nil, backend.Invalid(op, "", ReasonTenantRequired, "a tenant is required")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	i := &Integration{dir: dir, tenant: newTenantRef(tenant), opts: o, store: o.Store, sealer: o.Sealer, log: o.Logger, now: o.Now, retry: o.Retry}
	var err error
	if i.store, i.sealer, err = state.Defaults(i.store, i.sealer); err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	if i.now == nil {
		i.now = time.Now
	}
	if i.retry.Logger == nil {
		i.retry.Logger = i.log
	}
	i.retry = i.retry.WithDefaults()
	if i.opts.ClockTolerance <= 0 {
		i.opts.ClockTolerance = 5 * time.Minute
	}
	if len(i.opts.Features) == 0 {
		i.opts.Features = []Feature{FeatureAccounts, FeaturePasswords, FeatureLicenses}
	}
	i.trail = &audit.Trail{Package: "essentials365", Hook: o.Audit, Logger: i.log, Now: i.now}
	rec, err := i.Record(ctx)
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	i.gate = &gate{state: rec.State, read: i.Record}

	var ao accounts.Options
	if o.Accounts != nil {
		ao = *o.Accounts
	}
	ao.Store, ao.Sealer, ao.Logger, ao.Now, ao.Retry = i.store, i.sealer, i.log, i.now, i.retry
	if o.Mail != nil {
		ao.Mail = &gatedMail{g: i.gate, m: o.Mail}
	} else {
		ao.Mail = nil
	}
	svc, err := accounts.New(&gatedDirectory{Directory: dir, g: i.gate}, i.tenant.gated(i.gate), &ao)
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	i.accounts = svc
	return i, nil
}

// Accounts returns the accounts service of this integration, built over
// the same drivers, state, retry policy and logger, behind the gate: while
// the integration is not integrated its writes fail with
// FailedPrecondition (ReasonNotIntegrated, ReasonIntegrationDisabled).
func (i *Integration) Accounts() *accounts.Service { return i.accounts }

// State returns the integration's state as last read from the state store
// (at Open, by a lifecycle operation or by a feature write).
func (i *Integration) State() State { return i.gate.get() }

// Record reads the integration record from the state store; with none,
// a Record in StateNotIntegrated.
func (i *Integration) Record(ctx context.Context) (Record, error) {
	const op = "essentials365: read record"
	b, err := i.store.Get(ctx, keyRecord)
	if backend.KindOf(err) == backend.NotFound {
		return Record{State: StateNotIntegrated}, nil
	}
	if err != nil {
		return Record{}, backend.WithOp(err, op, keyRecord)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil || (r.State != StateIntegrated && r.State != StateDisabled) {
		return Record{}, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: keyRecord, Reason: ReasonStateCorrupt,
			Msg: "the integration record cannot be read; restore it from a backup, or delete it and run Integrate again", Err: err}
	}
	return r, nil
}

// putRecord writes the record and reports the write to the audit trail.
func (i *Integration) putRecord(ctx context.Context, auditOp string, r Record) error {
	b, err := json.Marshal(r)
	if err == nil {
		err = i.store.Put(ctx, keyRecord, b)
	}
	i.trail.Record(ctx, audit.Event{Op: auditOp, Side: audit.SideLocal, Target: r.TenantID,
		Detail: map[string]string{"state": string(r.State)}}, err)
	if err != nil {
		return backend.WithOp(err, "essentials365: write record", keyRecord)
	}
	return nil
}
