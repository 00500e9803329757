package accounts_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/state"
)

// mappedEnv is a company of n users, each with its managed online account,
// reconciled once (the watermark saved).
func mappedEnv(t *testing.T, n int) *env {
	t.Helper()
	st := state.NewMemoryStore()
	e := newEnv(t, n, func(o *accounts.Options) { o.Store = st })
	e.store = st
	e.addUsers(n)
	e.bulkCreate(e3)
	_, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	return e
}

// ApplyReconcile re-reads the accounts through the tenant's delta query:
// an account re-anchored or deleted in the portal since the plan is left
// alone, the others are changed.
func TestApplyReconcileSeesChangesMadeSinceThePlan(t *testing.T) {
	e := mappedEnv(t, 4)
	for _, sam := range []string{"user001", "user002", "user003"} {
		require.NoError(t, e.dir.SetEnabled(e.ctx, e.user(sam).ID, false))
	}
	plan, err := e.svc.PlanReconcile(e.ctx, &accounts.ReconcileOptions{AllowDisables: true})
	require.NoError(t, err)
	require.Len(t, plan.Actions, 3)

	other := backend.NewGUID().ImmutableID()
	require.NoError(t, e.tenant.UpdateUser(e.ctx, "user001@contoso.com", backend.OnlineUserUpdate{ImmutableID: &other}))
	require.NoError(t, e.tenant.DeleteUser(e.ctx, e.online("user002@contoso.com").ID))
	e.tenant.ResetCalls()
	rep, err := e.svc.ApplyReconcile(e.ctx, plan, &accounts.ReconcileOptions{AllowDisables: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"user003@contoso.com"}, rep.Disabled)
	assert.Equal(t, 1, e.tenant.CountCalls("Changes"), "one delta request re-reads every account")
	assert.Zero(t, e.tenant.CountCalls("GetUser"))
	assert.True(t, e.online("user001@contoso.com").AccountEnabled, "re-anchored since the plan: not ours any more")
	assert.False(t, e.online("user003@contoso.com").AccountEnabled)
}

// A delta token the tenant refuses (expired) costs one full round, and
// the run is still right.
func TestReconcileRefusedDeltaTokenRebuildsTheIndex(t *testing.T) {
	e := mappedEnv(t, 3)
	require.NoError(t, e.dir.SetEnabled(e.ctx, e.user("user002").ID, false))
	e.tenant.FailNext(memory.OpChanges, 1, backend.Invalid("Changes", "", backend.ReasonWatermark, "the delta token expired"))
	e.tenant.ResetCalls()
	rep, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"user002@contoso.com"}, rep.Disabled)
	assert.False(t, e.online("user002@contoso.com").AccountEnabled)
	assert.Zero(t, e.tenant.CountCalls("ListUsers"))
}

// A failure that retrying cannot fix while following the delta fails the
// run; the next run reads the tenant again from scratch.
func TestReconcileDeltaFailureRebuildsNextRun(t *testing.T) {
	e := mappedEnv(t, 3)
	require.NoError(t, e.dir.SetEnabled(e.ctx, e.user("user003").ID, false))
	e.tenant.FailNext(memory.OpChanges, 1, &backend.Error{Kind: backend.PermissionDenied, Op: "Changes", Msg: "denied"})
	_, err := e.svc.Reconcile(e.ctx, nil)
	require.ErrorIs(t, err, backend.ErrPermissionDenied)
	assert.True(t, e.online("user003@contoso.com").AccountEnabled)
	rep, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"user003@contoso.com"}, rep.Disabled)
}

// noDeltaTenant is a tenant without a delta query.
type noDeltaTenant struct{ backend.Tenant }

func (noDeltaTenant) Changes(context.Context, string) (backend.TenantChanges, error) {
	return backend.TenantChanges{}, &backend.Error{Kind: backend.Unimplemented, Op: "tenant: changes", Msg: "no delta query"}
}

// A tenant without a delta query is listed by the plan and each account
// re-read with a GET before it is changed.
func TestReconcileTenantWithoutDeltaQuery(t *testing.T) {
	e := mappedEnv(t, 3)
	svc, err := accounts.New(e.dir, noDeltaTenant{e.tenant}, &accounts.Options{Store: e.store, Now: e.clock.Now})
	require.NoError(t, err)
	require.NoError(t, e.dir.SetEnabled(e.ctx, e.user("user001").ID, false))
	e.tenant.ResetCalls()
	rep, err := svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"user001@contoso.com"}, rep.Disabled)
	assert.Equal(t, 1, e.tenant.CountCalls("ListUsers"))
	assert.Equal(t, 1, e.tenant.CountCalls("GetUser"))
	assert.False(t, e.online("user001@contoso.com").AccountEnabled)
}

// A new Service (a new process) over the same state reads the tenant once
// in full, then follows the delta.
func TestReconcileNewServiceReadsTheTenantOnce(t *testing.T) {
	e := mappedEnv(t, 3)
	svc, err := accounts.New(e.dir, e.tenant, &accounts.Options{Store: e.store, Now: e.clock.Now})
	require.NoError(t, err)
	require.NoError(t, e.dir.SetEnabled(e.ctx, e.user("user002").ID, false))
	rep, err := svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.False(t, rep.Full, "the directory side stays incremental")
	assert.Equal(t, []string{"user002@contoso.com"}, rep.Disabled)
	require.NoError(t, e.dir.SetEnabled(e.ctx, e.user("user002").ID, true))
	e.tenant.ResetCalls()
	rep, err = svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"user002@contoso.com"}, rep.Enabled)
	assert.Equal(t, 2, e.tenant.CountCalls("Changes"))
	assert.Zero(t, e.tenant.CountCalls("ListUsers"))
}
