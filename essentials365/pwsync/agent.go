package pwsync

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/state"
)

// Pusher is the side the agent pushes passwords through:
// *accounts.Service.
type Pusher interface {
	SyncDirectoryPassword(ctx context.Context, user, password string, keyVersion int) (accounts.SyncState, error)
	RetryPendingPasswords(ctx context.Context) (int, error)
	PendingPasswords(ctx context.Context) ([]accounts.PendingPassword, error)
	DirectorySyncHeartbeat(ctx context.Context) error
}

var _ Pusher = (*accounts.Service)(nil)

// AuditPushPassword is the audit op of a password pushed from the
// directory to an online account.
const AuditPushPassword = "push-directory-password"

// Outcome says what the agent did with a change.
type Outcome string

// The outcomes of a change.
const (
	OutcomePushed  Outcome = "pushed"  // the online account has the password
	OutcomePending Outcome = "pending" // the cloud failed; the update is kept sealed and retried
	// OutcomeRejected: Microsoft 365's rules refuse the password; the
	// user's status says so.
	OutcomeRejected Outcome = "rejected"
	// OutcomeFailed: the change could not be pushed after MaxAttempts
	// deliveries; it is acknowledged so that the other accounts go on, and
	// the user shows up in accounts' UnsyncedPasswords.
	OutcomeFailed            Outcome = "failed"
	OutcomeSkippedDeleted    Outcome = "skipped-deleted"
	OutcomeSkippedDisabled   Outcome = "skipped-disabled"
	OutcomeSkippedNoPassword Outcome = "skipped-no-password"
	OutcomeSkippedDuplicate  Outcome = "skipped-duplicate"
	OutcomeSkippedNoOnline   Outcome = "skipped-no-online-account"
	OutcomeSkippedUnassigned Outcome = "skipped-unassigned"
	OutcomeSkippedNotUser    Outcome = "skipped-not-a-user-account"
)

// Options configure an Agent. Zero fields take the documented defaults.
type Options struct {
	// Store keeps the key version last handled per user, so that a
	// replayed password (a disable, a rename, a restart) is not pushed
	// twice. Use the same durable store as the accounts Service. Default: a
	// state.MemoryStore.
	Store state.Store
	// Audit receives an audit.Event per push (succeeded, deferred or
	// failed); default none (the slog record is still written).
	Audit audit.Hook
	// Logger receives structured logs, never a password; default discard.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ChangeTimeout bounds the handling of one change (default 2 min);
	// past it the change is refused and delivered again later.
	ChangeTimeout time.Duration
	// MaxAttempts is how many deliveries of the same change may fail with
	// a transient error before the agent gives up on it and lets the
	// others go on (default 5).
	MaxAttempts int
	// RetryInterval is how often Run retries pending online updates
	// (default 30 s); HeartbeatInterval how often it reports itself to
	// the Pusher (default 1 min).
	RetryInterval     time.Duration
	HeartbeatInterval time.Duration
}

// Agent receives the password changes of the directory and pushes them to
// the online accounts. Handle processes one change; Serve receives them
// from the hook; Run does both and supervises syncpasswords. The changes
// are handled one at a time.
type Agent struct {
	pusher Pusher
	store  state.Store
	trail  *audit.Trail
	log    *slog.Logger
	now    func() time.Time
	opts   Options

	mu       sync.Mutex // one change (or pending retry) at a time
	failures map[string]int
}

// New returns an Agent pushing through p.
func New(p Pusher, opts *Options) (*Agent, error) {
	if p == nil {
		return nil, backend.Invalid("pwsync: new agent", "", ReasonPusherRequired, "a Pusher (an accounts.Service) is required")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Store == nil {
		o.Store = state.NewMemoryStore()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ChangeTimeout <= 0 {
		o.ChangeTimeout = 2 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = 30 * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = time.Minute
	}
	return &Agent{
		pusher: p, store: o.Store, log: o.Logger, now: o.Now, opts: o,
		trail:    &audit.Trail{Package: "pwsync", Hook: o.Audit, Logger: o.Logger, Now: o.Now},
		failures: map[string]int{},
	}, nil
}

// Result is what Handle did.
type Result struct {
	Outcome Outcome
	// User is the account's sAMAccountName (or objectGUID).
	User       string
	KeyVersion int
	// Err is the reason of a rejected or failed push.
	Err error
}

const keyHandled = "pwsync/handled/"

type handled struct {
	KeyVersion      int   `json:"keyVersion"`
	PasswordLastSet int64 `json:"pwdLastSet"`
}

// Handle processes one change. It returns an error only when the change
// was neither pushed nor kept: syncpasswords must then deliver it again
// (the hook answers without DONE-EXIT). Deletions, disabled accounts,
// records without a password and replays of a password already handled
// are skipped.
func (a *Agent) Handle(ctx context.Context, c Change) (Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	const op = "pwsync: handle change"
	res := Result{User: c.Key(), KeyVersion: c.KeyVersion}
	skip := func(o Outcome) (Result, error) {
		res.Outcome = o
		a.log.InfoContext(ctx, "password change skipped", "user", res.User, "keyVersion", c.KeyVersion, "outcome", string(o))
		return res, nil
	}
	if o, ok := skippedOutright(c); ok {
		if o == OutcomeSkippedDeleted {
			_ = a.store.Delete(ctx, keyHandled+c.ID.String())
		}
		return skip(o)
	}
	mark := handled{KeyVersion: c.KeyVersion}
	if !c.PasswordLastSet.IsZero() {
		mark.PasswordLastSet = c.PasswordLastSet.UnixNano()
	}
	last, seen, err := a.lastHandled(ctx, c.ID)
	if err != nil {
		return res, backend.WithOp(err, op, res.User)
	}
	if seen && (c.KeyVersion > 0 && c.KeyVersion <= last.KeyVersion || c.KeyVersion == 0 && last == mark) {
		return skip(OutcomeSkippedDuplicate)
	}

	// A change under way is finished (or kept as pending) when the agent
	// is asked to stop, within ShutdownGrace.
	cctx, cancel := graceContext(ctx, a.opts.ChangeTimeout, ShutdownGrace)
	st, perr := a.pusher.SyncDirectoryPassword(cctx, c.ID.String(), c.Password.Reveal(), c.KeyVersion)
	cancel()
	attemptKey := c.ID.String() + "/" + strconv.Itoa(c.KeyVersion)
	switch st {
	case accounts.SyncNoOnlineAccount:
		return skip(OutcomeSkippedNoOnline)
	case accounts.SyncSkippedUnassigned:
		return skip(OutcomeSkippedUnassigned)
	case accounts.SyncSkippedDisabled:
		return skip(OutcomeSkippedDisabled)
	case accounts.SyncSynced, accounts.SyncPending, accounts.SyncRejected:
		res.Outcome = map[accounts.SyncState]Outcome{accounts.SyncSynced: OutcomePushed, accounts.SyncPending: OutcomePending, accounts.SyncRejected: OutcomeRejected}[st]
		res.Err = perr
		delete(a.failures, attemptKey)
		a.record(ctx, c, res)
		if err := a.putHandled(ctx, c.ID, mark); err != nil {
			// Pushed (or kept) all the same: a replay would push it again,
			// which is harmless.
			a.log.WarnContext(ctx, "cannot record the key version handled", "user", res.User, "err", err)
		}
		return res, nil
	}
	if perr == nil {
		perr = backend.Errorf(backend.Unknown, op, res.User, "unexpected sync state %q", st)
	}
	return a.notPushed(ctx, op, c, res, perr, attemptKey)
}

// skippedOutright says whether a change is skipped whatever the state:
// a deletion, an object that is not a normal user account, a disabled
// account (not recorded: when it is enabled again, its current password
// is pushed), a change without a password.
func skippedOutright(c Change) (Outcome, bool) {
	switch {
	case c.Deleted:
		return OutcomeSkippedDeleted, true
	case c.UserAccountControl != 0 && c.UserAccountControl&uacNormalAccount == 0:
		return OutcomeSkippedNotUser, true
	case c.Disabled():
		return OutcomeSkippedDisabled, true
	case c.Password.IsZero():
		return OutcomeSkippedNoPassword, true
	}
	return "", false
}

// notPushed ends a change the pusher failed with perr: a failure that
// delivering it again would not fix, or the MaxAttempts-th, is recorded as
// failed; otherwise the error asks syncpasswords to deliver it again.
func (a *Agent) notPushed(ctx context.Context, op string, c Change, res Result, perr error, attemptKey string) (Result, error) {
	res.Err = perr
	if !backend.Retryable(perr) && backend.KindOf(perr) != backend.Canceled && backend.KindOf(perr) != backend.Unknown {
		// NotFound (deleted since), InvalidArgument, PermissionDenied...:
		// delivering it again would not help.
		res.Outcome = OutcomeFailed
		a.record(ctx, c, res)
		return res, nil
	}
	a.failures[attemptKey]++
	if a.failures[attemptKey] >= a.opts.MaxAttempts {
		delete(a.failures, attemptKey)
		res.Outcome = OutcomeFailed
		a.record(ctx, c, res)
		return res, nil
	}
	a.log.WarnContext(ctx, "password change not handled; syncpasswords will deliver it again", "user", res.User, "keyVersion", c.KeyVersion, "err", perr)
	return res, backend.WithOp(perr, op, res.User)
}

func (a *Agent) record(ctx context.Context, c Change, res Result) {
	e := audit.Event{
		Op: AuditPushPassword, Side: audit.SideTenant, User: c.SAMAccountName, Target: c.ID.String(),
		Detail: map[string]string{"keyVersion": strconv.Itoa(c.KeyVersion), "outcome": string(res.Outcome)},
	}
	if c.UserPrincipalName != "" {
		e.Detail["userPrincipalName"] = c.UserPrincipalName
	}
	switch res.Outcome {
	case OutcomePending:
		e.Outcome = audit.OutcomeDeferred
	case OutcomeRejected, OutcomeFailed:
		e.Outcome = audit.OutcomeFailed
		if res.Err == nil {
			res.Err = backend.Errorf(backend.Unknown, "pwsync: push password", res.User, "not pushed")
		}
	}
	a.trail.Record(ctx, e, res.Err)
}

func (a *Agent) lastHandled(ctx context.Context, id backend.GUID) (handled, bool, error) {
	b, err := a.store.Get(ctx, keyHandled+id.String())
	if backend.KindOf(err) == backend.NotFound {
		return handled{}, false, nil
	}
	if err != nil {
		return handled{}, false, err
	}
	var h handled
	if err := json.Unmarshal(b, &h); err != nil {
		return handled{}, false, backend.Wrap(err, backend.FailedPrecondition, "pwsync: read state", keyHandled+id.String())
	}
	return h, true, nil
}

func (a *Agent) putHandled(ctx context.Context, id backend.GUID, h handled) error {
	b, _ := json.Marshal(h)
	return a.store.Put(ctx, keyHandled+id.String(), b)
}

// RetryPending pushes the pending online updates (between changes, never
// at the same time as one); each one that goes through is an audit event
// (detail "retried": "true").
func (a *Agent) RetryPending(ctx context.Context) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	before, err := a.pusher.PendingPasswords(ctx)
	if err != nil || len(before) == 0 {
		return 0, err
	}
	n, err := a.pusher.RetryPendingPasswords(ctx)
	if n == 0 {
		return n, err
	}
	a.log.InfoContext(ctx, "pending online password updates pushed", "count", n)
	after, aerr := a.pusher.PendingPasswords(ctx)
	if aerr != nil {
		return n, err
	}
	still := map[backend.GUID]bool{}
	for _, p := range after {
		still[p.UserID] = true
	}
	for _, p := range before {
		if id := p.UserID; !still[id] {
			a.trail.Record(ctx, audit.Event{Op: AuditPushPassword, Side: audit.SideTenant, User: p.User, OnlineID: p.OnlineID, Target: id.String(),
				Detail: map[string]string{"outcome": string(OutcomePushed), "retried": "true"}}, nil)
		}
	}
	return n, err
}

// ShutdownGrace is how long a change under way may go on after the
// agent's context ends.
const ShutdownGrace = 10 * time.Second

// graceContext returns a context that ends timeout from now, or grace
// after parent ends, whichever comes first.
func graceContext(parent context.Context, timeout, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), timeout)
	stop := context.AfterFunc(parent, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(ctx, func() { t.Stop() })
	})
	return ctx, func() { stop(); cancel() }
}
