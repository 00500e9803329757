package accounts

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/essentials365/sdk/essentials365/audit"

	"github.com/essentials365/sdk/essentials365/retry"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/state"
)

// Options configure a Service. The zero value is usable: nil fields take
// the defaults documented on each.
type Options struct {
	// Mail is Exchange Online's side, for email aliases: any
	// backend.Exchange driver (memory.Tenant.Exchange, exchangeonline). Without it the
	// alias operations fail with Unimplemented.
	Mail backend.Mail
	// Store keeps the reconcile watermark, the records of the online
	// accounts the SDK manages, last-sync times, password versions and
	// pending password updates, under keys "accounts/...". Default: a
	// state.MemoryStore, lost when the process ends: every start is then a
	// first reconcile (it deletes nothing), and pending password updates
	// do not survive a restart. Use state.NewFileStore in production.
	Store state.Store
	// Sealer encrypts pending password updates before they reach Store.
	// Required when Store is not a *state.MemoryStore; default for the memory
	// store: state.NewEphemeralSealer.
	Sealer state.Sealer
	// Logger receives structured logs; default: discard. Passwords are
	// never logged.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Retry bounds the one retry layer of the SDK (drivers never retry);
	// its zero value takes retry's defaults, and its Logger defaults to
	// Logger.
	Retry retry.Policy
	// UsageLocation is the two-letter country code set on new online
	// accounts; licensing needs one. Default "" (then licensing a new
	// account fails with a clear error unless the call sets one).
	UsageLocation string
	// Guards stop a reconcile that would delete or disable many online
	// accounts at once (defaults: more than 10, or more than 10% of the
	// managed accounts, whichever is smaller; see Guard).
	Guards Guards
	// Audit receives an audit.Event for every write to either side and to
	// the local state (default: none; the events also go to Logger at info
	// level). See the package documentation for the schema.
	Audit audit.Hook
	// SyncSkew is the tolerance between the time a password was synced
	// (by this clock: Now) and the tenant's lastPasswordChangeDateTime
	// before a cloud-side change is reported (default 2 minutes); keep the
	// clock in step with Microsoft's (NTP).
	SyncSkew time.Duration
	// BatchSize is how many items a bulk operation sends to the tenant at a
	// time (default 100).
	BatchSize int
}

// Service manages on-premises users and their online accounts together.
// It is safe for concurrent use, but two bulk operations on the same users
// at once are not coordinated.
type Service struct {
	dir    backend.Directory
	tenant backend.Tenant
	mail   backend.Mail
	store  state.Store
	sealer state.Sealer
	log    *slog.Logger
	now    func() time.Time
	retry  retry.Policy
	trail  *audit.Trail
	opts   Options
	// userLocks serializes the password updates of each user.
	userLocks sync.Map
	// recon is the compact online index reconciles keep between runs.
	recon reconIndex
}

// New returns a Service over a directory and a tenant.
func New(dir backend.Directory, tenant backend.Tenant, opts *Options) (*Service, error) {
	const op = "accounts: new service"
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
	s := &Service{dir: dir, tenant: tenant, mail: o.Mail, store: o.Store, sealer: o.Sealer, log: o.Logger, now: o.Now, retry: o.Retry, opts: o}
	var err error
	if s.store, s.sealer, err = state.Defaults(s.store, s.sealer); err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.retry.Logger == nil {
		s.retry.Logger = s.log
	}
	s.retry = s.retry.WithDefaults()
	s.opts.Guards = s.opts.Guards.withDefaults()
	s.trail = &audit.Trail{Package: "accounts", Hook: o.Audit, Logger: s.log, Now: s.now}
	if s.opts.SyncSkew <= 0 {
		s.opts.SyncSkew = 2 * time.Minute
	}
	if s.opts.BatchSize <= 0 {
		s.opts.BatchSize = 100
	}
	return s, nil
}

// do runs fn through the service's retry policy, the SDK's only retry
// layer.
func (s *Service) do(ctx context.Context, op, key string, fn func() error) error {
	return s.retry.Do(ctx, op, key, fn)
}

// findUser resolves a user given as an objectGUID, a UPN (with "@"), the
// online ID of its online account, or a sAMAccountName.
func (s *Service) findUser(ctx context.Context, op, user string) (backend.DirectoryUser, error) {
	user = strings.TrimSpace(user)
	if user == "" {
		return backend.DirectoryUser{}, backend.Invalid(op, user, ReasonUserRequired, "name a user by sAMAccountName, UPN, online ID or objectGUID")
	}
	if strings.Contains(user, `\`) {
		return backend.DirectoryUser{}, backend.Invalid(op, user, ReasonUserFormat,
			`name a user by sAMAccountName without the domain (not DOMAIN\name), by UPN, online ID or objectGUID`)
	}
	var (
		u   backend.DirectoryUser
		err error
	)
	switch g, gerr := backend.ParseGUID(user); {
	case gerr == nil:
		err = s.do(ctx, op, user, func() (e error) { u, e = s.dir.GetUser(ctx, g); return })
	case strings.Contains(user, "@"):
		err = s.do(ctx, op, user, func() (e error) { u, e = s.dir.GetUserByUPN(ctx, user); return })
		if backend.KindOf(err) == backend.NotFound {
			if byOnline, oerr := s.userOfOnline(ctx, op, user); oerr == nil {
				return byOnline, nil
			}
		}
	default:
		err = s.do(ctx, op, user, func() (e error) { u, e = s.dir.GetUserBySAMAccountName(ctx, user); return })
	}
	if err != nil {
		return backend.DirectoryUser{}, backend.WithOp(err, op, user)
	}
	return u, nil
}

// userOfOnline returns the network user an online account (object id or
// online ID) is anchored to.
func (s *Service) userOfOnline(ctx context.Context, op, onlineID string) (backend.DirectoryUser, error) {
	ou, err := s.getOnline(ctx, op, onlineID)
	if err != nil {
		return backend.DirectoryUser{}, backend.WithOp(err, op, onlineID)
	}
	g, err := backend.GUIDFromImmutableID(ou.ImmutableID)
	if ou.ImmutableID == "" || err != nil {
		return backend.DirectoryUser{}, backend.Errorf(backend.NotFound, op, onlineID,
			"the online account is not linked to a network user: import it (PlanImport) or assign it (Assign)")
	}
	var u backend.DirectoryUser
	err = s.do(ctx, op, onlineID, func() (e error) { u, e = s.dir.GetUser(ctx, g); return })
	if backend.KindOf(err) == backend.NotFound {
		return u, backend.Errorf(backend.NotFound, op, onlineID, "the online account is linked to a user this directory does not have")
	}
	return u, backend.WithOp(err, op, onlineID)
}

// LookupByOnlineID returns the status of the network user whose online
// account is onlineID (the online ID or the object id), or NotFound when
// the account is not linked to a user of this directory.
func (s *Service) LookupByOnlineID(ctx context.Context, onlineID string) (UserStatus, error) {
	const op = "accounts: lookup by online id"
	u, err := s.userOfOnline(ctx, op, strings.TrimSpace(onlineID))
	if err != nil {
		return UserStatus{}, err
	}
	return s.Status(ctx, u.ID.String())
}

// OnlineAccount is an online account no user has, for Assign.
type OnlineAccount struct {
	OnlineUserID string
	OnlineID     string
	DisplayName  string
	Licensed     bool
	SignIn       bool
}

// mappedOnlineIDs lists the directory's users, handing each to each when it
// is not nil, and returns the online user IDs their mapping attributes
// name (an attribute that does not parse names none).
func (s *Service) mappedOnlineIDs(ctx context.Context, op string, each func(backend.DirectoryUser)) (map[string]bool, error) {
	mapped := map[string]bool{}
	for u, err := range s.dir.ListUsers(ctx) {
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		if m, err := ParseMapping(u.OnlineAccount); err == nil && m.ID != "" {
			mapped[m.ID] = true
		}
		if each != nil {
			each(u)
		}
	}
	return mapped, nil
}

// AssignableOnlineAccounts lists the online accounts no user has (no
// anchor, no mapping): those Assign accepts as OnlineChoice.Existing.
func (s *Service) AssignableOnlineAccounts(ctx context.Context) ([]OnlineAccount, error) {
	const op = "accounts: list assignable online accounts"
	mapped, err := s.mappedOnlineIDs(ctx, op, nil)
	if err != nil {
		return nil, err
	}
	var out []OnlineAccount
	for ou, err := range s.tenant.ListUsers(ctx) {
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		if ou.ImmutableID != "" || mapped[ou.ID] {
			continue
		}
		out = append(out, OnlineAccount{OnlineUserID: ou.ID, OnlineID: ou.UserPrincipalName, DisplayName: ou.DisplayName,
			Licensed: ou.Licensed(), SignIn: ou.AccountEnabled})
	}
	return out, nil
}

// onlineOf returns the online account mapped to u: by the recorded mapping,
// else by immutableId. NotFound when there is none.
func (s *Service) onlineOf(ctx context.Context, op string, u backend.DirectoryUser) (backend.OnlineUser, Mapping, error) {
	m, _ := ParseMapping(u.OnlineAccount)
	var (
		ou  backend.OnlineUser
		err error
	)
	if m.ID != "" {
		err = s.do(ctx, op, m.ID, func() (e error) { ou, e = s.tenant.GetUser(ctx, m.ID); return })
		if err == nil {
			return ou, m, nil
		}
		if backend.KindOf(err) != backend.NotFound {
			return ou, m, backend.WithOp(err, op, u.SAMAccountName)
		}
	}
	err = s.do(ctx, op, u.SAMAccountName, func() (e error) { ou, e = s.tenant.GetUserByImmutableID(ctx, u.ID.ImmutableID()); return })
	if err != nil {
		if backend.KindOf(err) == backend.NotFound {
			return ou, m, backend.Errorf(backend.NotFound, op, u.SAMAccountName, "the user has no online account")
		}
		return ou, m, backend.WithOp(err, op, u.SAMAccountName)
	}
	return ou, m, nil
}
