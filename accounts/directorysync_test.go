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

// changeInDirectory changes a password in the directory only, as a user at
// a domain-joined computer does.
func (e *env) changeInDirectory(sam, pw string) backend.DirectoryUser {
	e.t.Helper()
	u := e.user(sam)
	require.NoError(e.t, e.dir.ResetPassword(e.ctx, u.ID, pw, false))
	return e.user(sam)
}

func TestSyncDirectoryPasswordPushesToTheOnlineAccount(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)

	e.clock.Advance(time.Hour)
	u := e.changeInDirectory("user001", "Changed-At-Desk-1")
	assert.Equal(t, accounts.PasswordSyncModeDetect, e.svc.DirectorySyncMode(e.ctx))
	un, err := e.svc.UnsyncedPasswords(e.ctx)
	require.NoError(t, err)
	require.Len(t, un, 1, "the change made outside the SDK is detected")
	assert.Equal(t, "user001", un[0].SAMAccountName)
	assert.True(t, un[0].NotSynced)
	assert.Equal(t, accounts.PasswordNotSyncedAdvice, un[0].Advice)

	e.clock.Advance(2 * time.Second)
	st, err := e.svc.SyncDirectoryPassword(e.ctx, u.ID.String(), "Changed-At-Desk-1", 3)
	require.NoError(t, err)
	assert.Equal(t, accounts.SyncSynced, st)
	assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "Changed-At-Desk-1"))
	un, err = e.svc.UnsyncedPasswords(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, un, "in step after the push")
}

func TestSyncDirectoryPasswordClearsSyncBroken(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)
	e.clock.Advance(time.Hour)
	require.NoError(t, e.tenant.ChangePasswordInPortal(e.ctx, "user001@contoso.com", "Portal-Pw-2026"))
	st, err := e.svc.Status(e.ctx, "user001")
	require.NoError(t, err)
	require.True(t, st.PasswordSyncBroken)

	e.clock.Advance(time.Hour)
	e.changeInDirectory("user001", "Back-In-Step-2026")
	state, err := e.svc.SyncDirectoryPassword(e.ctx, "user001", "Back-In-Step-2026", 4)
	require.NoError(t, err)
	assert.Equal(t, accounts.SyncSynced, state)
	st, err = e.svc.Status(e.ctx, "user001")
	require.NoError(t, err)
	assert.False(t, st.PasswordSyncBroken, "a new password pushed clears password sync broken")
}

func TestSyncDirectoryPasswordSkips(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(3)
	e.bulkCreate(e3)
	e.addUser("nocloud", "No Cloud")
	require.NoError(t, e.svc.Unassign(e.ctx, "user002"))
	require.NoError(t, e.svc.Disable(e.ctx, "user003"))
	before := e.tenant.Calls()

	for _, tc := range []struct {
		user string
		want accounts.SyncState
	}{
		{"nocloud", accounts.SyncNoOnlineAccount},
		{"user002", accounts.SyncSkippedUnassigned},
		{"user003", accounts.SyncSkippedDisabled},
	} {
		got, err := e.svc.SyncDirectoryPassword(e.ctx, tc.user, "Some-Password-99", 5)
		require.NoError(t, err, tc.user)
		assert.Equal(t, tc.want, got, tc.user)
	}
	assert.Equal(t, len(before), len(e.tenant.Calls()), "nothing was sent to the tenant")
	assert.False(t, e.tenant.CheckPassword("user002@contoso.com", "Some-Password-99"))

	_, err := e.svc.SyncDirectoryPassword(e.ctx, "ghost", "Some-Password-99", 5)
	require.ErrorIs(t, err, backend.ErrNotFound)
	_, err = e.svc.SyncDirectoryPassword(e.ctx, "user001", "", 5)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonPasswordRequired, backend.ReasonOf(err))
}

func TestSyncDirectoryPasswordRejectedByTheCloud(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)
	e.clock.Advance(time.Hour)
	// Seven characters: enough for the domain, too short for Microsoft 365.
	e.changeInDirectory("user001", "Ab1-xyz")
	st, err := e.svc.SyncDirectoryPassword(e.ctx, "user001", "Ab1-xyz", 3)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonOnlinePasswordPolicy, backend.ReasonOf(err))
	assert.NotContains(t, err.Error(), "Ab1-xyz")
	assert.Equal(t, accounts.SyncRejected, st)
	dp, err := e.svc.DirectoryPasswordStatus(e.ctx, "user001")
	require.NoError(t, err)
	assert.True(t, dp.Rejected)
	assert.Contains(t, dp.Advice, "refused")
	pending, err := e.svc.PendingPasswords(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, pending, "a refused password is not retried forever")

	e.clock.Advance(time.Minute)
	e.changeInDirectory("user001", "Long-Enough-2026")
	_, err = e.svc.SyncDirectoryPassword(e.ctx, "user001", "Long-Enough-2026", 4)
	require.NoError(t, err)
	dp, err = e.svc.DirectoryPasswordStatus(e.ctx, "user001")
	require.NoError(t, err)
	assert.False(t, dp.Rejected, "cleared by the next password that goes through")
	assert.False(t, dp.NotSynced)
	assert.Empty(t, dp.Advice)
}

func TestSyncDirectoryPasswordPendingWhenCloudFails(t *testing.T) {
	store := state.NewMemoryStore()
	e := newEnv(t, 10, func(o *accounts.Options) { o.Store = store })
	e.addUsers(1)
	e.bulkCreate(e3)
	e.tenant.FailNext("UpdateUser", 100, &backend.Error{Kind: backend.Unavailable, Msg: "service unavailable"})
	e.changeInDirectory("user001", "Pending-From-Dir-1")
	st, err := e.svc.SyncDirectoryPassword(e.ctx, "user001", "Pending-From-Dir-1", 3)
	require.NoError(t, err)
	assert.Equal(t, accounts.SyncPending, st)
	keys, err := store.List(e.ctx, "")
	require.NoError(t, err)
	for _, k := range keys {
		v, err := store.Get(e.ctx, k)
		require.NoError(t, err)
		assert.False(t, bytes.Contains(v, []byte("Pending-From-Dir-1")), "sealed, never in clear: %s", k)
	}
	un, err := e.svc.UnsyncedPasswords(e.ctx)
	require.NoError(t, err)
	require.Len(t, un, 1)
	assert.True(t, un[0].Pending)

	e.tenant.ClearFaults()
	n, err := e.svc.RetryPendingPasswords(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "Pending-From-Dir-1"))
}

func TestDirectorySyncModeFollowsTheAgentHeartbeat(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)
	assert.Equal(t, accounts.PasswordSyncModeDetect, e.svc.DirectorySyncMode(e.ctx))
	require.NoError(t, e.svc.DirectorySyncHeartbeat(e.ctx))
	assert.Equal(t, accounts.PasswordSyncModeAgent, e.svc.DirectorySyncMode(e.ctx))

	e.clock.Advance(time.Hour)
	require.NoError(t, e.svc.DirectorySyncHeartbeat(e.ctx))
	e.changeInDirectory("user001", "In-Flight-2026")
	dp, err := e.svc.DirectoryPasswordStatus(e.ctx, "user001")
	require.NoError(t, err)
	assert.True(t, dp.NotSynced)
	assert.Equal(t, accounts.PasswordSyncModeAgent, dp.Mode)
	assert.Equal(t, accounts.PasswordSyncAgentAdvice, dp.Advice)

	e.clock.Advance(accounts.DirectorySyncAgentTimeout + time.Second)
	assert.Equal(t, accounts.PasswordSyncModeDetect, e.svc.DirectorySyncMode(e.ctx), "a silent agent no longer counts")
}

func TestUnsyncedPasswordsIgnoresMustChangeAndUnmapped(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(2)
	e.bulkCreate(e3) // must change at next logon: nothing to sync yet
	e.clock.Advance(time.Hour)
	e.addUser("nocloud", "No Cloud")
	un, err := e.svc.UnsyncedPasswords(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, un)
	e.changeInDirectory("user002", "First-Logon-2026")
	un, err = e.svc.UnsyncedPasswords(e.ctx)
	require.NoError(t, err)
	require.Len(t, un, 1)
	assert.Equal(t, "user002", un[0].SAMAccountName)
	assert.True(t, un[0].PasswordLastSet.After(un[0].LastSync))
}
