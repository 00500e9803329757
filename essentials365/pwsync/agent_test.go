package pwsync_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/pwsync"
	"github.com/essentials365/sdk/essentials365/retry"
	"github.com/essentials365/sdk/essentials365/state"
)

// syncEnv is a memory directory and tenant, an accounts Service and an
// Agent over them, sharing one Store.
type syncEnv struct {
	t      *testing.T
	ctx    context.Context
	dir    *memory.Directory
	tenant *memory.Tenant
	svc    *accounts.Service
	agent  *pwsync.Agent
	store  *state.MemoryStore
	audit  *audit.Recorder
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newSyncEnv(t *testing.T, opts *pwsync.Options) *syncEnv {
	t.Helper()
	e := &syncEnv{t: t, ctx: t.Context(), store: state.NewMemoryStore(), audit: &audit.Recorder{}, logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.dir = memory.NewDirectory(&memory.DirectoryOptions{DNSName: "contoso.local"})
	e.tenant = memory.NewTenant(nil)
	require.NoError(t, e.tenant.AddVerifiedDomain("contoso.com", true))
	var err error
	e.svc, err = accounts.New(e.dir, e.tenant, &accounts.Options{Store: e.store, Logger: log,
		Retry: retry.Policy{MaxAttempts: 2, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}})
	require.NoError(t, err)
	var o pwsync.Options
	if opts != nil {
		o = *opts
	}
	o.Store, o.Audit, o.Logger = e.store, e.audit.Hook(), log
	e.agent, err = pwsync.New(e.svc, &o)
	require.NoError(t, err)
	return e
}

// addMapped creates a directory user with an assigned online account.
func (e *syncEnv) addMapped(sam string) backend.DirectoryUser {
	e.t.Helper()
	ou, err := e.tenant.CreateUser(e.ctx, backend.NewOnlineUser{UserPrincipalName: sam + "@contoso.com", DisplayName: sam, Password: "Cloud-Initial-1", UsageLocation: "FR"})
	require.NoError(e.t, err)
	u, err := e.dir.CreateUser(e.ctx, backend.NewDirectoryUser{SAMAccountName: sam, UserPrincipalName: sam + "@contoso.local", DisplayName: sam,
		Password: "Initial-Pw-2026", OnlineAccount: accounts.Mapping{ID: ou.ID, UPN: ou.UserPrincipalName, State: accounts.MappingAssigned}.String()})
	require.NoError(e.t, err)
	return u
}

// change sets pw in the directory and returns the record syncpasswords
// would hand the hook.
func (e *syncEnv) change(u backend.DirectoryUser, pw string, kvno int, uac int) pwsync.Change {
	e.t.Helper()
	require.NoError(e.t, e.dir.ResetPassword(e.ctx, u.ID, pw, false))
	return ldif(e.t, u, pw, kvno, uac)
}

func ldif(t *testing.T, u backend.DirectoryUser, pw string, kvno, uac int) pwsync.Change {
	t.Helper()
	c, err := pwsync.ParseLDIF(strings.NewReader(ldifText(u, pw, kvno, uac)))
	require.NoError(t, err)
	return c
}

func ldifText(u backend.DirectoryUser, pw string, kvno, uac int) string {
	s := fmt.Sprintf("dn: CN=%s,CN=Users,DC=contoso,DC=local\nobjectGUID: %s\nsAMAccountName: %s\nuserAccountControl: %d\npwdLastSet: 134408932079248360\nmsDS-KeyVersionNumber: %d\n",
		u.SAMAccountName, u.ID, u.SAMAccountName, uac, kvno)
	if pw != "" {
		s += "virtualClearTextUTF8:: " + base64.StdEncoding.EncodeToString([]byte(pw)) + "\n"
	}
	return s + "\n"
}

func (e *syncEnv) noLeak(pws ...string) {
	e.t.Helper()
	for _, pw := range pws {
		assert.NotContains(e.t, e.logs.String(), pw, "a password reached the logs")
		for _, ev := range e.audit.Events() {
			assert.NotContains(e.t, fmt.Sprintf("%+v", ev), pw, "a password reached the audit trail")
		}
		keys, err := e.store.List(e.ctx, "")
		require.NoError(e.t, err)
		for _, k := range keys {
			v, _ := e.store.Get(e.ctx, k)
			assert.False(e.t, bytes.Contains(v, []byte(pw)), "a password reached the store in clear (%s)", k)
		}
	}
}

func TestHandlePushesOnceAndSkips(t *testing.T) {
	e := newSyncEnv(t, nil)
	ann := e.addMapped("ann")
	res, err := e.agent.Handle(e.ctx, e.change(ann, "Desk-Change-01", 3, 512))
	require.NoError(t, err)
	assert.Equal(t, pwsync.OutcomePushed, res.Outcome)
	assert.True(t, e.tenant.CheckPassword("ann@contoso.com", "Desk-Change-01"))
	ev := e.audit.Events()
	require.Len(t, ev, 1)
	assert.Equal(t, pwsync.AuditPushPassword, ev[0].Op)
	assert.Equal(t, audit.OutcomeSucceeded, ev[0].Outcome)
	assert.Equal(t, "ann", ev[0].User)
	assert.Equal(t, "3", ev[0].Detail["keyVersion"])

	updates := e.tenant.CountCalls("UpdateUser")
	// A disable replays the same password with the same key version; a
	// rename or a restart too.
	for _, tc := range []struct {
		c    pwsync.Change
		want pwsync.Outcome
	}{
		{ldif(t, ann, "Desk-Change-01", 3, 512), pwsync.OutcomeSkippedDuplicate},
		{ldif(t, ann, "Desk-Change-01", 3, 514), pwsync.OutcomeSkippedDisabled},
		{ldif(t, ann, "", 4, 512), pwsync.OutcomeSkippedNoPassword},
		{pwsync.Change{DN: "CN=gone", ID: ann.ID, Deleted: true}, pwsync.OutcomeSkippedDeleted},
	} {
		res, err := e.agent.Handle(e.ctx, tc.c)
		require.NoError(t, err)
		assert.Equal(t, tc.want, res.Outcome)
	}
	assert.Equal(t, updates, e.tenant.CountCalls("UpdateUser"), "nothing pushed again")
	assert.Len(t, e.audit.Events(), 1)

	// After the deletion record the user's state was dropped; a new key
	// version is pushed.
	res, err = e.agent.Handle(e.ctx, e.change(ann, "Desk-Change-02", 4, 512))
	require.NoError(t, err)
	assert.Equal(t, pwsync.OutcomePushed, res.Outcome)
	assert.True(t, e.tenant.CheckPassword("ann@contoso.com", "Desk-Change-02"))
	e.noLeak("Desk-Change-01", "Desk-Change-02")
}

func TestHandleUsersWithoutAnAssignedAccount(t *testing.T) {
	e := newSyncEnv(t, nil)
	bob, err := e.dir.CreateUser(e.ctx, backend.NewDirectoryUser{SAMAccountName: "bob", UserPrincipalName: "bob@contoso.local", DisplayName: "Bob", Password: "Initial-Pw-2026"})
	require.NoError(t, err)
	res, err := e.agent.Handle(e.ctx, e.change(bob, "Second-User-01", 3, 512))
	require.NoError(t, err)
	assert.Equal(t, pwsync.OutcomeSkippedNoOnline, res.Outcome)

	cy := e.addMapped("cy")
	require.NoError(t, e.dir.SetOnlineAccount(e.ctx, cy.ID, strings.Replace(e.userOf("cy").OnlineAccount, "state=assigned", "state=unassigned", 1)))
	res, err = e.agent.Handle(e.ctx, e.change(cy, "Third-User-01", 3, 512))
	require.NoError(t, err)
	assert.Equal(t, pwsync.OutcomeSkippedUnassigned, res.Outcome)
	assert.False(t, e.tenant.CheckPassword("cy@contoso.com", "Third-User-01"))
	assert.Empty(t, e.audit.Events(), "no write, no audit event")
}

func (e *syncEnv) userOf(sam string) backend.DirectoryUser {
	u, err := e.dir.GetUserBySAMAccountName(e.ctx, sam)
	require.NoError(e.t, err)
	return u
}

func TestHandleRejectedPasswordDoesNotStopTheOthers(t *testing.T) {
	e := newSyncEnv(t, nil)
	ann, bob := e.addMapped("ann"), e.addMapped("bob")
	res, err := e.agent.Handle(e.ctx, e.change(ann, "Ab1-xyz", 3, 512))
	require.NoError(t, err, "acknowledged: delivering it again would not help")
	assert.Equal(t, pwsync.OutcomeRejected, res.Outcome)
	assert.Equal(t, accounts.ReasonOnlinePasswordPolicy, backend.ReasonOf(res.Err))
	ev := e.audit.Events()
	require.Len(t, ev, 1)
	assert.Equal(t, audit.OutcomeFailed, ev[0].Outcome)
	assert.Equal(t, accounts.ReasonOnlinePasswordPolicy, ev[0].Reason)

	res, err = e.agent.Handle(e.ctx, e.change(bob, "Second-User-01", 3, 512))
	require.NoError(t, err)
	assert.Equal(t, pwsync.OutcomePushed, res.Outcome)
	dp, err := e.svc.DirectoryPasswordStatus(e.ctx, "ann")
	require.NoError(t, err)
	assert.True(t, dp.Rejected)
	e.noLeak("Ab1-xyz", "Second-User-01")
}

func TestHandleCloudDownKeepsAPendingUpdate(t *testing.T) {
	e := newSyncEnv(t, nil)
	ann := e.addMapped("ann")
	e.tenant.FailNext("UpdateUser", 100, &backend.Error{Kind: backend.Unavailable, Msg: "service unavailable"})
	res, err := e.agent.Handle(e.ctx, e.change(ann, "While-Down-01", 3, 512))
	require.NoError(t, err, "kept: the hook acknowledges it")
	assert.Equal(t, pwsync.OutcomePending, res.Outcome)
	assert.Equal(t, audit.OutcomeDeferred, e.audit.Events()[0].Outcome)
	// Still down: a transient failure leaves the update pending (it is not
	// an error of the retry), and nothing was pushed.
	n, err := e.agent.RetryPending(e.ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	pending, err := e.svc.PendingPasswords(e.ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, ann.ID, pending[0].UserID)

	e.tenant.ClearFaults()
	n, err = e.agent.RetryPending(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.True(t, e.tenant.CheckPassword("ann@contoso.com", "While-Down-01"))
	ev := e.audit.Events()
	require.Len(t, ev, 2)
	assert.Equal(t, audit.OutcomeSucceeded, ev[1].Outcome, "the retried push is audited")
	assert.Equal(t, "true", ev[1].Detail["retried"])
	assert.Equal(t, ann.ID.String(), ev[1].Target)
	e.noLeak("While-Down-01")
}

func TestHandleDirectoryDownAsksForTheChangeAgain(t *testing.T) {
	e := newSyncEnv(t, &pwsync.Options{MaxAttempts: 3})
	ann := e.addMapped("ann")
	c := e.change(ann, "Dir-Down-01", 3, 512)
	e.dir.FailNext("GetUser", 100, &backend.Error{Kind: backend.Unavailable, Msg: "the DC does not answer"})
	for range 2 {
		_, err := e.agent.Handle(e.ctx, c)
		require.ErrorIs(t, err, backend.ErrUnavailable, "neither pushed nor kept: deliver it again")
	}
	res, err := e.agent.Handle(e.ctx, c)
	require.NoError(t, err, "after MaxAttempts the change is given up so the others go on")
	assert.Equal(t, pwsync.OutcomeFailed, res.Outcome)

	e.dir.ClearFaults()
	res, err = e.agent.Handle(e.ctx, c)
	require.NoError(t, err)
	assert.Equal(t, pwsync.OutcomePushed, res.Outcome, "a later delivery (a restart replays it) still pushes it")
	e.noLeak("Dir-Down-01")
}

// slowPusher takes its time and reports whether its context ended.
type slowPusher struct {
	delay  time.Duration
	ctxErr error
}

func (p *slowPusher) SyncDirectoryPassword(ctx context.Context, _, _ string, _ int) (accounts.SyncState, error) {
	select {
	case <-time.After(p.delay):
		return accounts.SyncSynced, nil
	case <-ctx.Done():
		p.ctxErr = ctx.Err()
		return "", backend.Wrap(ctx.Err(), backend.Canceled, "test", "")
	}
}
func (p *slowPusher) RetryPendingPasswords(context.Context) (int, error) { return 0, nil }
func (p *slowPusher) PendingPasswords(context.Context) ([]accounts.PendingPassword, error) {
	return nil, nil
}
func (p *slowPusher) DirectorySyncHeartbeat(context.Context) error { return nil }

func TestAChangeUnderWayFinishesWhenTheAgentStops(t *testing.T) {
	p := &slowPusher{delay: 200 * time.Millisecond}
	a, err := pwsync.New(p, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	u := backend.DirectoryUser{ID: backend.NewGUID(), SAMAccountName: "ann"}
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	res, err := a.Handle(ctx, ldif(t, u, "Finish-It-01", 3, 512))
	require.NoError(t, err)
	assert.Equal(t, pwsync.OutcomePushed, res.Outcome, "finished within the shutdown grace")
	assert.NoError(t, p.ctxErr)

	p = &slowPusher{delay: time.Hour}
	a, err = pwsync.New(p, &pwsync.Options{ChangeTimeout: 50 * time.Millisecond})
	require.NoError(t, err)
	_, err = a.Handle(t.Context(), ldif(t, u, "Finish-It-02", 4, 512))
	require.Error(t, err, "past ChangeTimeout the change is refused, to be delivered again")
	assert.ErrorIs(t, p.ctxErr, context.DeadlineExceeded)
}
