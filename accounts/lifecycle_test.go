package accounts_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/state"
)

func TestDisableEnableDeleteFollowToTheCloud(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(2)
	e.bulkCreate(e3)

	require.NoError(t, e.svc.Disable(e.ctx, "user001"))
	assert.False(t, e.user("user001").Enabled)
	assert.False(t, e.online("user001@contoso.com").AccountEnabled)
	assert.Equal(t, 2, e.seatsUsed(e3SKU), "disabling keeps the license and the data")

	require.NoError(t, e.svc.Enable(e.ctx, "user001"))
	assert.True(t, e.online("user001@contoso.com").AccountEnabled)

	require.NoError(t, e.svc.Delete(e.ctx, "user002"))
	_, err := e.dir.GetUserBySAMAccountName(e.ctx, "user002")
	require.ErrorIs(t, err, backend.ErrNotFound)
	_, err = e.tenant.GetUser(e.ctx, "user002@contoso.com")
	require.ErrorIs(t, err, backend.ErrNotFound)
	deleted, err := e.tenant.ListDeletedUsers(e.ctx)
	require.NoError(t, err)
	require.Len(t, deleted, 1)
	_, err = e.tenant.RestoreUser(e.ctx, deleted[0].ID)
	require.NoError(t, err, "the online account stays restorable for 30 days")
}

func TestDeleteRestoresTheCloudWhenTheDirectoryFails(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)
	e.dir.FailNext("DeleteUser", 1, &backend.Error{Kind: backend.PermissionDenied, Msg: "insufficient access"})
	err := e.svc.Delete(e.ctx, "user001")
	require.ErrorIs(t, err, backend.ErrPermissionDenied)
	assert.Equal(t, "user001@contoso.com", e.online("user001@contoso.com").UserPrincipalName, "the online account is back")
}

func TestReconcileFollowsChangesMadeInAD(t *testing.T) {
	e := newEnv(t, 10)
	users := e.addUsers(4)
	e.bulkCreate(e3)
	rep, err := e.svc.Reconcile(e.ctx, nil) // first run: full, sets the watermark
	require.NoError(t, err)
	assert.True(t, rep.Full)
	assert.Empty(t, rep.Disabled)

	// Changes made directly in Active Directory.
	require.NoError(t, e.dir.SetEnabled(e.ctx, users[0].ID, false))
	require.NoError(t, e.dir.DeleteUser(e.ctx, users[1].ID))

	rep, err = e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.False(t, rep.Full)
	assert.Equal(t, 2, rep.Examined, "only the changes since the watermark are read")
	assert.Equal(t, []string{"user001@contoso.com"}, rep.Disabled)
	assert.Equal(t, []string{"user002@contoso.com"}, rep.Deleted)
	assert.False(t, e.online("user001@contoso.com").AccountEnabled)
	_, err = e.tenant.GetUser(e.ctx, "user002@contoso.com")
	require.ErrorIs(t, err, backend.ErrNotFound)

	require.NoError(t, e.dir.SetEnabled(e.ctx, users[0].ID, true))
	rep, err = e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"user001@contoso.com"}, rep.Enabled)

	rep, err = e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.Zero(t, rep.Examined, "nothing changed")
}

func TestReconcileDeletionGuard(t *testing.T) {
	tests := []struct {
		name string
		opt  func(*accounts.Options)
	}{
		{"count", func(o *accounts.Options) { o.Guards.Deletions = accounts.Guard{Max: 2, Percent: -1} }},
		{"percent", func(o *accounts.Options) { o.Guards.Deletions = accounts.Guard{Max: -1, Percent: 50} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 10, tc.opt)
			users := e.addUsers(5)
			e.bulkCreate(e3)
			_, err := e.svc.Reconcile(e.ctx, nil)
			require.NoError(t, err)
			for _, u := range users[:3] {
				require.NoError(t, e.dir.DeleteUser(e.ctx, u.ID))
			}
			rep, err := e.svc.Reconcile(e.ctx, nil)
			require.ErrorIs(t, err, backend.ErrFailedPrecondition)
			assert.Equal(t, accounts.ReasonDeletionGuard, backend.ReasonOf(err))
			assert.True(t, rep.Stopped)
			assert.Len(t, rep.Deleted, 3, "the report lists what would be deleted")
			assert.Equal(t, 5, e.onlineCount(), "nothing was deleted")

			// The watermark did not move: an explicit run deletes them.
			rep, err = e.svc.Reconcile(e.ctx, &accounts.ReconcileOptions{AllowDeletions: true})
			require.NoError(t, err)
			assert.Len(t, rep.Deleted, 3)
			assert.Equal(t, 2, e.onlineCount())
		})
	}
}

func TestReconcileFullFindsOrphans(t *testing.T) {
	e := newEnv(t, 10)
	users := e.addUsers(2)
	e.bulkCreate(e3)
	_, err := e.svc.Reconcile(e.ctx, nil) // first run: records the watermark
	require.NoError(t, err)
	require.NoError(t, e.dir.DeleteUser(e.ctx, users[0].ID))
	plan, err := e.svc.PlanReconcile(e.ctx, &accounts.ReconcileOptions{Full: true})
	require.NoError(t, err)
	require.Len(t, plan.Actions, 1)
	assert.Equal(t, accounts.ReconcileDelete, plan.Actions[0].Type)
	assert.Equal(t, "user001@contoso.com", plan.Actions[0].OnlineID)
	assert.Equal(t, 2, e.onlineCount(), "planning changes nothing")
	rep, err := e.svc.ApplyReconcile(e.ctx, plan, &accounts.ReconcileOptions{Full: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"user001@contoso.com"}, rep.Deleted)
	assert.Equal(t, 1, e.onlineCount())
}

func TestReconcileKeepsWatermarkWhenAChangeFails(t *testing.T) {
	e := newEnv(t, 10)
	users := e.addUsers(1)
	e.bulkCreate()
	_, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	require.NoError(t, e.dir.SetEnabled(e.ctx, users[0].ID, false))
	e.tenant.FailNext("UpdateUser", 1, &backend.Error{Kind: backend.PermissionDenied, Msg: "denied"})
	rep, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	require.Len(t, rep.Failures, 1)
	assert.True(t, e.online("user001@contoso.com").AccountEnabled)
	rep, err = e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"user001@contoso.com"}, rep.Disabled, "the failed change is seen again")
}

func TestPasswordSync(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)

	state, err := e.svc.SetPassword(e.ctx, "user001", "New-Secret-2026")
	require.NoError(t, err)
	assert.Equal(t, accounts.SyncSynced, state)
	require.NoError(t, e.dir.Authenticate(e.ctx, "user001", "New-Secret-2026"))
	assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "New-Secret-2026"))

	// The user changes it a day later: the domain's minimum password age.
	e.clock.Advance(24 * time.Hour)
	state, err = e.svc.ChangePassword(e.ctx, "user001", "New-Secret-2026", "Other-Secret-2027")
	require.NoError(t, err)
	assert.Equal(t, accounts.SyncSynced, state)
	assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "Other-Secret-2027"))

	_, err = e.svc.ChangePassword(e.ctx, "user001", "wrong-old-pw", "Third-Secret-2028")
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, "old-password", string(backend.ReasonOf(err)))
	assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "Other-Secret-2027"), "nothing changed")

	st, err := e.svc.Status(e.ctx, "user001")
	require.NoError(t, err)
	assert.False(t, st.PasswordSyncBroken)
}

func TestPasswordPendingWhenCloudFails(t *testing.T) {
	store := state.NewMemoryStore()
	e := newEnv(t, 10, func(o *accounts.Options) { o.Store = store })
	e.addUsers(1)
	e.bulkCreate(e3)
	e.tenant.FailNext("UpdateUser", 100, &backend.Error{Kind: backend.Unavailable, Msg: "service unavailable"})
	state, err := e.svc.SetPassword(e.ctx, "user001", "Pending-Secret-1")
	require.NoError(t, err)
	assert.Equal(t, accounts.SyncPending, state)
	require.NoError(t, e.dir.Authenticate(e.ctx, "user001", "Pending-Secret-1"), "the network side changed")
	assert.False(t, e.tenant.CheckPassword("user001@contoso.com", "Pending-Secret-1"))

	keys, err := store.List(e.ctx, "")
	require.NoError(t, err)
	for _, k := range keys {
		v, err := store.Get(e.ctx, k)
		require.NoError(t, err)
		assert.False(t, bytes.Contains(v, []byte("Pending-Secret-1")), "the pending password is sealed, never in clear")
	}
	st, err := e.svc.Status(e.ctx, "user001")
	require.NoError(t, err)
	assert.True(t, st.PasswordPending)

	e.tenant.ClearFaults()
	rep, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.PasswordsRetried)
	assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "Pending-Secret-1"), "the pending update went through")
	pending, err := e.svc.PendingPasswords(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)
}

func TestPasswordChangedInPortalBreaksSync(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)
	st, err := e.svc.Status(e.ctx, "user001")
	require.NoError(t, err)
	assert.False(t, st.PasswordSyncBroken)

	e.clock.Advance(time.Hour)
	require.NoError(t, e.tenant.ChangePasswordInPortal(e.ctx, "user001@contoso.com", "Portal-Pw-2026"))
	st, err = e.svc.Status(e.ctx, "user001")
	require.NoError(t, err)
	assert.True(t, st.PasswordSyncBroken)
	assert.Equal(t, accounts.PasswordSyncAdvice, st.Advice)

	all, err := e.svc.ListStatus(e.ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	assert.True(t, all[0].PasswordSyncBroken)

	// Setting the password through the SDK brings both back in step.
	e.clock.Advance(time.Hour)
	_, err = e.svc.SetPassword(e.ctx, "user001", "Fresh-Start-2026")
	require.NoError(t, err)
	st, err = e.svc.Status(e.ctx, "user001")
	require.NoError(t, err)
	assert.False(t, st.PasswordSyncBroken)
}

func TestFileStoreNeedsASealer(t *testing.T) {
	e := newEnv(t, 1)
	fs, err := state.NewFileStore(t.TempDir())
	require.NoError(t, err)
	_, err = accounts.New(e.dir, e.tenant, &accounts.Options{Store: fs})
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonSealerRequired, backend.ReasonOf(err))
}

func TestLicensesAndServices(t *testing.T) {
	e := newEnv(t, 3)
	e.addUsers(1)
	e.bulkCreate(e3)
	lics, err := e.svc.Licenses(e.ctx)
	require.NoError(t, err)
	require.Len(t, lics, 2)
	assert.Equal(t, "ENTERPRISEPACK", lics[0].PartNumber)
	assert.Equal(t, 3, lics[0].Enabled)
	assert.Equal(t, 1, lics[0].Consumed)
	assert.Equal(t, 2, lics[0].Available)

	require.NoError(t, e.svc.SetLicenses(e.ctx, "user001", []accounts.LicenseChoice{{SKU: "EXCHANGESTANDARD"}, {SKU: e3SKU, DisabledServices: []string{"TEAMS1"}}}, nil))
	ou := e.online("user001@contoso.com")
	assert.Len(t, ou.AssignedLicenses, 2)
	assert.Equal(t, 1, e.seatsUsed(e3SKU), "changing services does not take another seat")

	require.NoError(t, e.svc.SetLicenses(e.ctx, "user001", nil, []string{"EXCHANGESTANDARD"}))
	assert.Len(t, e.online("user001@contoso.com").AssignedLicenses, 1)

	err = e.svc.SetLicenses(e.ctx, "user001", []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK", DisabledServices: []string{"NOPE"}}}, nil)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonUnknownServicePlan, backend.ReasonOf(err))
}

func TestAliases(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(2)
	e.bulkCreate(e3)
	require.NoError(t, e.svc.AddAlias(e.ctx, "user001", "sales@contoso.com"))
	require.NoError(t, e.svc.AddAlias(e.ctx, "user001", "Info@Contoso.com"))
	_, err := e.tenant.AddDomain(e.ctx, "unverified.example")
	require.NoError(t, err)
	got, err := e.svc.Aliases(e.ctx, "user001")
	require.NoError(t, err)
	assert.Equal(t, []string{"info@contoso.com", "sales@contoso.com"}, got)

	tests := []struct {
		name, user, addr string
		kind             error
		reason           backend.Reason
	}{
		{"unknown domain", "user001", "sales@fabrikam.com", backend.ErrInvalidArgument, accounts.ReasonDomainUnknown},
		{"unverified domain", "user001", "sales@unverified.example", backend.ErrFailedPrecondition, accounts.ReasonDomainUnverified},
		{"bad syntax", "user001", "no-at-sign", backend.ErrInvalidArgument, accounts.ReasonAliasSyntax},
		{"no domain", "user001", "sales@", backend.ErrInvalidArgument, accounts.ReasonAliasSyntax},
		{"forbidden character", "user001", "ve ntes@contoso.com", backend.ErrInvalidArgument, accounts.ReasonAliasCharacters},
		{"taken by another user", "user002", "sales@contoso.com", backend.ErrAlreadyExists, ""},
		{"another user's primary address", "user002", "user001@contoso.com", backend.ErrAlreadyExists, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.svc.AddAlias(e.ctx, tc.user, tc.addr)
			require.ErrorIs(t, err, tc.kind)
			if tc.reason != "" {
				assert.Equal(t, tc.reason, backend.ReasonOf(err))
			}
		})
	}
	require.NoError(t, e.svc.RemoveAlias(e.ctx, "user001", "sales@contoso.com"))
	require.ErrorIs(t, e.svc.RemoveAlias(e.ctx, "user001", "sales@contoso.com"), backend.ErrNotFound)
	got, err = e.svc.Aliases(e.ctx, "user001")
	require.NoError(t, err)
	assert.Equal(t, []string{"info@contoso.com"}, got)
}
