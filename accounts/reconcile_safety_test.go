package accounts_test

import (
	"context"
	"encoding/hex"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/state"
)

// foreignAccounts creates online accounts anchored to users of another
// directory (another forest, another sync tool).
func (e *env) foreignAccounts(n int) []string {
	e.t.Helper()
	var upns []string
	for i := range n {
		upn := "synced" + string(rune('a'+i)) + "@contoso.com"
		_, err := e.tenant.CreateUser(e.ctx, backend.NewOnlineUser{UserPrincipalName: upn, DisplayName: "Synced " + upn,
			Password: "Cloud-Pw-2026!", ImmutableID: backend.NewGUID().ImmutableID()})
		require.NoError(e.t, err)
		upns = append(upns, upn)
	}
	return upns
}

// restart returns a new Service over the same drivers and store, as after
// a process restart.
func (e *env) restart(store state.Store, opts ...envOpt) *accounts.Service {
	e.t.Helper()
	o := &accounts.Options{Now: e.clock.Now, UsageLocation: "FR", Store: store}
	if _, mem := store.(*state.MemoryStore); !mem {
		sealer, err := state.NewAESSealer([]byte(strings.Repeat("k", 32)))
		require.NoError(e.t, err)
		o.Sealer = sealer
	}
	for _, f := range opts {
		f(o)
	}
	svc, err := accounts.New(e.dir, e.tenant, o)
	require.NoError(e.t, err)
	return svc
}

func (e *env) tenantWrites() []string {
	var w []string
	for _, c := range e.tenant.Calls() {
		switch c.Op {
		case "CreateUser", "CreateUsers", "UpdateUser", "AssignLicenses", "AssignLicensesMany", "DeleteUser", "RestoreUser":
			w = append(w, c.Op+" "+c.Key)
		}
	}
	return w
}

// Scenario: a reconcile with no saved watermark (a new store, a MemoryStore
// after a restart) deleted every online account anchored to a user this
// directory does not know.
func TestReconcileFirstRunLeavesForeignAccountsAlone(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(3)
	e.bulkCreate(e3)
	foreign := e.foreignAccounts(4)
	before := e.onlineCount()

	for _, full := range []bool{false, true} {
		svc := e.restart(state.NewMemoryStore()) // the state of the last run is gone
		e.tenant.ResetCalls()
		rep, err := svc.Reconcile(e.ctx, &accounts.ReconcileOptions{Full: full, AllowDeletions: true})
		require.NoError(t, err)
		assert.True(t, rep.FirstRun)
		assert.Empty(t, rep.Deleted)
		assert.Empty(t, e.tenantWrites(), "a first run over a healthy company writes nothing")
		assert.Equal(t, before, e.onlineCount())
		var noticed []string
		for _, n := range rep.Notices {
			noticed = append(noticed, n.OnlineID)
			assert.Contains(t, n.Detail, "not managed by this SDK")
		}
		assert.ElementsMatch(t, foreign, noticed, "accounts anchored elsewhere are reported")
	}
	// Even a later full run with every guard opened never deletes them.
	_, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	rep, err := e.svc.Reconcile(e.ctx, &accounts.ReconcileOptions{Full: true, AllowDeletions: true, AllowDisables: true, AcceptDirectory: true})
	require.NoError(t, err)
	assert.Empty(t, rep.Deleted)
	assert.Equal(t, before, e.onlineCount())

	// PlanImport keeps offering them (flagged as linked elsewhere).
	iplan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	var offered []string
	for _, it := range iplan.Items {
		if it.Problem == accounts.ReasonOnlineLinked {
			offered = append(offered, it.OnlineID)
		}
	}
	assert.ElementsMatch(t, foreign, offered)
}

// Scenario: a first run (no watermark) with managed accounts whose users
// are gone holds the deletions back unless asked.
func TestReconcileFirstRunHoldsDeletions(t *testing.T) {
	e := newEnv(t, 10)
	users := e.addUsers(3)
	store := state.NewMemoryStore()
	e.svc = e.restart(store)
	e.bulkCreate(e3)
	require.NoError(t, e.dir.DeleteUser(e.ctx, users[0].ID))

	rep, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.True(t, rep.FirstRun)
	assert.Equal(t, []string{"user001@contoso.com"}, rep.HeldDeletions)
	assert.Empty(t, rep.Deleted)
	assert.Equal(t, 3, e.onlineCount())

	require.NoError(t, e.svc.ResetReconcile(e.ctx))
	rep, err = e.svc.Reconcile(e.ctx, &accounts.ReconcileOptions{AllowFirstRunDeletions: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"user001@contoso.com"}, rep.Deleted)
	assert.Equal(t, 2, e.onlineCount())
}

// Scenario: a watermark entry truncated to 0 bytes (or garbled) made the
// next reconcile a silent first run.
func TestReconcileEmptyOrCorruptWatermarkIsAnError(t *testing.T) {
	for name, value := range map[string]string{"empty": "", "garbled": "\x00\x17not json", "no watermark": `{"v":1,"watermark":""}`} {
		t.Run(name, func(t *testing.T) {
			store := state.NewMemoryStore()
			e := newEnv(t, 10, func(o *accounts.Options) { o.Store = store })
			users := e.addUsers(2)
			e.bulkCreate(e3)
			_, err := e.svc.Reconcile(e.ctx, nil)
			require.NoError(t, err)
			keys, err := store.List(e.ctx, "accounts/watermark/")
			require.NoError(t, err)
			require.Len(t, keys, 1)
			require.NoError(t, store.Put(e.ctx, keys[0], []byte(value)))
			require.NoError(t, e.dir.SetEnabled(e.ctx, users[0].ID, false))
			e.tenant.ResetCalls()

			_, err = e.svc.PlanReconcile(e.ctx, nil)
			require.ErrorIs(t, err, backend.ErrFailedPrecondition)
			assert.Equal(t, accounts.ReasonStateCorrupt, backend.ReasonOf(err))
			_, err = e.svc.Reconcile(e.ctx, nil)
			require.ErrorIs(t, err, backend.ErrFailedPrecondition)
			assert.Contains(t, err.Error(), "nothing was changed")
			assert.Empty(t, e.tenantWrites())
		})
	}
}

// blindDirectory is a directory opened on the wrong partition (the
// Configuration or Schema naming context): it opens, lists no users, and
// finds none.
type blindDirectory struct{ backend.Directory }

func (blindDirectory) ListUsers(context.Context) iter.Seq2[backend.DirectoryUser, error] {
	return func(func(backend.DirectoryUser, error) bool) {}
}
func (blindDirectory) Changes(context.Context, string) (backend.DirectoryChanges, error) {
	return backend.DirectoryChanges{Watermark: "w-config"}, nil
}
func (blindDirectory) GetUser(_ context.Context, id backend.GUID) (backend.DirectoryUser, error) {
	return backend.DirectoryUser{}, backend.Errorf(backend.NotFound, "directory: get user", id.String(), "no such user")
}

// Scenario: a base DN on the Configuration partition listed 0 users and the
// next full reconcile deleted every mapped online account.
func TestReconcileStopsOnAnEmptyDirectory(t *testing.T) {
	store := state.NewMemoryStore()
	e := newEnv(t, 50, func(o *accounts.Options) { o.Store = store })
	e.addUsers(40)
	e.bulkCreate(e3)
	_, err := e.svc.Reconcile(e.ctx, nil) // records the managed accounts
	require.NoError(t, err)

	blind, err := accounts.New(blindDirectory{e.dir}, e.tenant, &accounts.Options{Store: store, Now: e.clock.Now,
		Guards: accounts.Guards{Deletions: accounts.Guard{Max: -1, Percent: -1}}})
	require.NoError(t, err)
	e.tenant.ResetCalls()
	plan, err := blind.PlanReconcile(e.ctx, &accounts.ReconcileOptions{Full: true})
	require.NoError(t, err)
	require.NotEmpty(t, plan.Stops)
	assert.Equal(t, accounts.ReasonDirectorySuspicious, plan.Stops[0].Reason)
	rep, err := blind.ApplyReconcile(e.ctx, plan, &accounts.ReconcileOptions{Full: true, AllowDeletions: true})
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, accounts.ReasonDirectorySuspicious, backend.ReasonOf(err))
	assert.Contains(t, err.Error(), "listed 0 users")
	assert.True(t, rep.Stopped)
	assert.Len(t, rep.Deleted, 40, "the report says what would have gone")
	assert.Empty(t, e.tenantWrites())
	assert.Equal(t, 40, e.onlineCount())
}

// Scenario: deleting 40 AD users deleted 40 of 40 online accounts, the only
// guard being an absolute 500.
func TestReconcileDeletionGuardFiresForASmallCompany(t *testing.T) {
	tests := []struct {
		deleted int
		stops   bool
	}{{40, true}, {5, true}, {4, false}}
	for _, tc := range tests {
		t.Run(strings.Repeat("x", tc.deleted), func(t *testing.T) {
			e := newEnv(t, 50)
			users := e.addUsers(40)
			e.bulkCreate(e3)
			_, err := e.svc.Reconcile(e.ctx, nil)
			require.NoError(t, err)
			for _, u := range users[:tc.deleted] {
				require.NoError(t, e.dir.DeleteUser(e.ctx, u.ID))
			}
			rep, err := e.svc.Reconcile(e.ctx, nil)
			if !tc.stops {
				require.NoError(t, err)
				assert.Len(t, rep.Deleted, tc.deleted)
				assert.Equal(t, 40-tc.deleted, e.onlineCount())
				return
			}
			require.ErrorIs(t, err, backend.ErrFailedPrecondition)
			assert.Equal(t, accounts.ReasonDeletionGuard, backend.ReasonOf(err))
			assert.Contains(t, err.Error(), "of 40 managed online accounts would be deleted (limit 4)")
			assert.Contains(t, err.Error(), "AllowDeletions")
			assert.Equal(t, 40, e.onlineCount())
		})
	}
}

// Scenario: disabling every AD user blocked every online sign-in with no
// guard at all.
func TestReconcileDisableGuard(t *testing.T) {
	e := newEnv(t, 50)
	users := e.addUsers(40)
	e.bulkCreate(e3)
	_, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	for _, u := range users {
		require.NoError(t, e.dir.SetEnabled(e.ctx, u.ID, false))
	}
	e.tenant.ResetCalls()
	rep, err := e.svc.Reconcile(e.ctx, nil)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, accounts.ReasonDisableGuard, backend.ReasonOf(err))
	assert.Contains(t, err.Error(), "40 of 40 managed online accounts would be disabled (limit 4)")
	assert.Contains(t, err.Error(), "AllowDisables")
	assert.Len(t, rep.Disabled, 40)
	assert.Empty(t, e.tenantWrites())

	rep, err = e.svc.Reconcile(e.ctx, &accounts.ReconcileOptions{AllowDisables: true})
	require.NoError(t, err)
	assert.Len(t, rep.Disabled, 40)
	assert.False(t, e.online("user040@contoso.com").AccountEnabled)
}

func TestPlanReconcileWritesNothingAndStalePlansAreRefused(t *testing.T) {
	e := newEnv(t, 10)
	users := e.addUsers(3)
	e.bulkCreate(e3)
	_, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	require.NoError(t, e.dir.SetEnabled(e.ctx, users[0].ID, false))
	e.tenant.ResetCalls()
	p1, err := e.svc.PlanReconcile(e.ctx, nil)
	require.NoError(t, err)
	p2, err := e.svc.PlanReconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, e.tenantWrites(), "planning writes nothing")
	require.Len(t, p1.Actions, 1)
	assert.Equal(t, accounts.ReconcileDisable, p1.Actions[0].Type)
	assert.True(t, e.online("user001@contoso.com").AccountEnabled)

	_, err = e.svc.ApplyReconcile(e.ctx, p1, nil)
	require.NoError(t, err)
	_, err = e.svc.ApplyReconcile(e.ctx, p2, nil)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, accounts.ReasonPlanStale, backend.ReasonOf(err))
	_, err = e.svc.ApplyReconcile(e.ctx, nil, nil)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
}

func TestReconcileAudit(t *testing.T) {
	rec := &audit.Recorder{}
	e := newEnv(t, 10, func(o *accounts.Options) { o.Audit = rec.Hook() })
	users := e.addUsers(2)
	e.bulkCreate(e3)
	_, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	require.NoError(t, e.dir.SetEnabled(e.ctx, users[0].ID, false))
	require.NoError(t, e.dir.DeleteUser(e.ctx, users[1].ID))
	_, err = e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	var ops []string
	for _, ev := range rec.Events() {
		if ev.Op == accounts.AuditBlockSignIn || ev.Op == accounts.AuditDeleteOnline {
			ops = append(ops, ev.Op+" "+ev.OnlineID+" "+string(ev.Outcome))
			assert.Equal(t, audit.SideTenant, ev.Side)
			assert.Equal(t, "accounts", ev.Package)
		}
	}
	assert.ElementsMatch(t, []string{"block-sign-in user001@contoso.com succeeded", "delete-online user002@contoso.com succeeded"}, ops)
}

// Scenario: a watermark file truncated to 0 bytes on disk.
func TestReconcileTruncatedWatermarkFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	fs, err := state.NewFileStore(dir)
	require.NoError(t, err)
	defer fs.Close()
	e := newEnv(t, 10)
	e.svc = e.restart(fs)
	users := e.addUsers(2)
	e.bulkCreate(e3)
	_, err = e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	wm := filepath.Join(dir, hex.EncodeToString([]byte("accounts/watermark/directory"))+".v")
	require.NoError(t, os.Truncate(wm, 0))
	require.NoError(t, e.dir.DeleteUser(e.ctx, users[0].ID))
	e.tenant.ResetCalls()
	_, err = e.svc.Reconcile(e.ctx, &accounts.ReconcileOptions{AllowDeletions: true, AllowFirstRunDeletions: true})
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, state.ReasonStoreCorrupt, backend.ReasonOf(err))
	assert.Empty(t, e.tenantWrites(), "not a silent first run")
	assert.Equal(t, 2, e.onlineCount())
}
