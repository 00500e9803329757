package accounts_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

// Scenario: a user who already has an online account under another online
// ID got a second account and a second licence.
func TestPlanBulkCreateFlagsProbableDuplicates(t *testing.T) {
	e := newEnv(t, 10)
	mk := func(sam, given, surname, mail string) {
		_, err := e.dir.CreateUser(e.ctx, backend.NewDirectoryUser{SAMAccountName: sam, UserPrincipalName: sam + "@contoso.local",
			GivenName: given, Surname: surname, DisplayName: given + " " + surname, Password: "Initial-Pw-Kq7x"})
		require.NoError(t, err)
		if mail != "" {
			// The memory directory has no mail attribute to set: the UPN
			// carries the address instead.
			u := e.user(sam)
			require.NoError(t, e.dir.DeleteUser(e.ctx, u.ID))
			_, err := e.dir.CreateUser(e.ctx, backend.NewDirectoryUser{SAMAccountName: sam, UserPrincipalName: mail,
				GivenName: given, Surname: surname, DisplayName: given + " " + surname, Password: "Initial-Pw-Kq7x"})
			require.NoError(t, err)
		}
	}
	mk("tom", "Tom", "Hardy", "")                    // rule 3 (display) and 4 (given.surname)
	mk("jdoe", "Jane", "Doe", "")                    // rule 2 (mailNickname)
	mk("mlee", "Mia", "Lee", "mia.work@contoso.com") // rule 1 (address)
	mk("ravi", "Ravi", "Shah", "")                   // an anchored account is never a candidate
	mk("zoe", "Zoe", "Martin", "")                   // no match
	cloud := []backend.NewOnlineUser{
		{UserPrincipalName: "tom.hardy@contoso.com", DisplayName: "Tom Hardy"},
		{UserPrincipalName: "jane@contoso.com", DisplayName: "J. D.", MailNickname: "jdoe"},
		{UserPrincipalName: "mia.work@contoso.com", DisplayName: "Mia (work)"},
		{UserPrincipalName: "ravi.shah@contoso.com", DisplayName: "Ravi Shah", ImmutableID: backend.NewGUID().ImmutableID()},
	}
	for _, c := range cloud {
		c.Password = "Cloud-Pw-2026!"
		_, err := e.tenant.CreateUser(e.ctx, c)
		require.NoError(t, err)
	}
	plan, err := e.svc.PlanBulkCreate(e.ctx, &accounts.PlanOptions{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	got := map[string]accounts.PlanItem{}
	for _, it := range plan.Items {
		got[it.SAMAccountName] = it
	}
	for sam, want := range map[string][]string{"tom": {"tom.hardy@contoso.com"}, "jdoe": {"jane@contoso.com"}, "mlee": {"mia.work@contoso.com"}} {
		it := got[sam]
		assert.Equal(t, accounts.ReasonProbableDuplicate, it.Problem, sam)
		assert.False(t, it.Selected, "%s starts unselected", sam)
		assert.Equal(t, want, it.Candidates, sam)
		assert.Contains(t, it.Detail, "Assign")
	}
	for _, sam := range []string{"ravi", "zoe"} {
		assert.Empty(t, got[sam].Problem, sam)
		assert.True(t, got[sam].Selected, sam)
	}
	res, err := e.svc.ApplyBulkCreate(e.ctx, plan, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Done)
	assert.Equal(t, 2, e.seatsUsed(e3SKU), "no second licence for a probable duplicate")

	// The admin assigns the existing account instead.
	st, err := e.svc.Assign(e.ctx, "tom", accounts.OnlineChoice{Existing: "tom.hardy@contoso.com", Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	assert.Equal(t, "tom.hardy@contoso.com", st.OnlineID)
}

// Scenario: a disabled user got an online account that could sign in.
func TestDisabledUserGetsABlockedOnlineAccount(t *testing.T) {
	e := newEnv(t, 10)
	u := e.addUser("ivan", "Ivan")
	require.NoError(t, e.dir.SetEnabled(e.ctx, u.ID, false))
	st, err := e.svc.Assign(e.ctx, "ivan", accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	assert.False(t, st.SignIn)
	assert.Equal(t, accounts.AccountInactive, st.State)
	assert.False(t, e.online("ivan@contoso.com").AccountEnabled, "created with sign-in blocked")
	require.NoError(t, e.svc.Enable(e.ctx, "ivan"))
	assert.True(t, e.online("ivan@contoso.com").AccountEnabled)

	// An existing account given to a disabled user is blocked too.
	v := e.addUser("vera", "Vera")
	require.NoError(t, e.dir.SetEnabled(e.ctx, v.ID, false))
	e.cloudUsers("vera@contoso.com")
	_, err = e.svc.Assign(e.ctx, "vera", accounts.OnlineChoice{Existing: "vera@contoso.com", NoLicense: true})
	require.NoError(t, err)
	assert.False(t, e.online("vera@contoso.com").AccountEnabled)
}

// Scenario: online accounts were created with no licence, silently, when
// no licence was chosen.
func TestNoLicenceNeedsAnExplicitChoice(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(2)
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	require.Len(t, plan.Warnings, 1)
	assert.Contains(t, plan.Warnings[0], "no licence chosen")
	_, err = e.svc.ApplyBulkCreate(e.ctx, plan, nil)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonLicenseChoiceRequired, backend.ReasonOf(err))
	assert.Zero(t, e.onlineCount(), "refused before any change")
	_, err = e.svc.Assign(e.ctx, "user001", accounts.OnlineChoice{})
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonLicenseChoiceRequired, backend.ReasonOf(err))
	assert.Zero(t, e.onlineCount())

	plan, err = e.svc.PlanBulkCreate(e.ctx, &accounts.PlanOptions{NoLicense: true})
	require.NoError(t, err)
	require.Len(t, plan.Warnings, 1)
	assert.Contains(t, plan.Warnings[0], "2 online accounts will be created without a licence")
	res, err := e.svc.ApplyBulkCreate(e.ctx, plan, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Done)

	few := newEnv(t, 2)
	few.addUsers(3)
	plan, err = few.svc.PlanBulkCreate(few.ctx, &accounts.PlanOptions{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	assert.Equal(t, []string{"ENTERPRISEPACK: 3 selected, 2 seats free: buy 1 more or select fewer users"}, plan.Warnings)
}

// Scenario: a ResultsDir that did not exist failed ApplyBulkCreate after
// all the work was done.
func TestResultsAndPasswordDirectoriesAreReadyBeforeAnyChange(t *testing.T) {
	t.Run("missing results dir is created 0700", func(t *testing.T) {
		e := newEnv(t, 10)
		e.addUsers(2)
		plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
		require.NoError(t, err)
		plan.Items[1].OnlineID = "bad name@contoso.com"
		dir := filepath.Join(t.TempDir(), "results", "today")
		res, err := e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{NoLicense: true, ResultsDir: dir})
		require.NoError(t, err)
		require.Len(t, res.ResultsFiles, 2)
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	})
	t.Run("results dir is a file", func(t *testing.T) {
		e := newEnv(t, 10)
		e.addUsers(1)
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, nil, 0o600))
		plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
		require.NoError(t, err)
		_, err = e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{NoLicense: true, ResultsDir: file})
		require.ErrorIs(t, err, backend.ErrFailedPrecondition)
		assert.Equal(t, accounts.ReasonUnsafeDirectory, backend.ReasonOf(err))
		assert.Zero(t, e.onlineCount(), "nothing was changed")
	})
	t.Run("password dir others can write", func(t *testing.T) {
		e := newEnv(t, 10)
		e.cloudUsers("bob@contoso.com")
		dir := filepath.Join(t.TempDir(), "pw")
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, 0o777))
		plan, err := e.svc.PlanImport(e.ctx)
		require.NoError(t, err)
		_, err = e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordDir: dir})
		require.ErrorIs(t, err, backend.ErrFailedPrecondition)
		assert.Equal(t, accounts.ReasonUnsafeDirectory, backend.ReasonOf(err))
		assert.Contains(t, err.Error(), "chmod 700")
		_, gerr := e.dir.GetUserBySAMAccountName(e.ctx, "bob")
		assert.ErrorIs(t, gerr, backend.ErrNotFound, "nothing was changed")
	})
}

// Scenario: Delete said "restorable for 30 days" but there was no Restore;
// restoring through the tenant left the account tied to the deleted user,
// and the next reconcile deleted it again.
func TestRestoreRelinksTheOnlineAccount(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(3)
	e.bulkCreate(e3)
	_, err := e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)

	require.NoError(t, e.svc.Delete(e.ctx, "user001"))
	e.clock.Advance(10 * 24 * time.Hour)
	_, err = e.svc.Restore(e.ctx, "user001@contoso.com", nil)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, accounts.ReasonRestoreTarget, backend.ReasonOf(err))
	e.addUser("newhire", "New Hire")
	st, err := e.svc.Restore(e.ctx, "user001@contoso.com", &accounts.RestoreOptions{User: "newhire"})
	require.NoError(t, err)
	assert.Equal(t, "user001@contoso.com", st.OnlineID)
	assert.Equal(t, accounts.MappingAssigned, st.Mapping)
	assert.Equal(t, e.user("newhire").ID.ImmutableID(), e.online("user001@contoso.com").ImmutableID)
	assert.True(t, e.user("newhire").MustChangePassword, "the new owner's next password reaches the account")

	// An account deleted in the portal comes back to its user.
	require.NoError(t, e.tenant.DeleteUser(e.ctx, "user002@contoso.com"))
	st, err = e.svc.Restore(e.ctx, "user002@contoso.com", nil)
	require.NoError(t, err)
	assert.Equal(t, accounts.AccountActive, st.State)

	rep, err := e.svc.Reconcile(e.ctx, &accounts.ReconcileOptions{Full: true, AllowDeletions: true})
	require.NoError(t, err)
	assert.Empty(t, rep.Deleted, "the next reconcile keeps what was restored")
	assert.Equal(t, 3, e.onlineCount())

	_, err = e.svc.Restore(e.ctx, "nobody@contoso.com", nil)
	require.ErrorIs(t, err, backend.ErrNotFound)
}

func TestRestoreAfterThirtyDaysIsRefused(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)
	require.NoError(t, e.tenant.DeleteUser(e.ctx, "user001@contoso.com"))
	e.clock.Advance(31 * 24 * time.Hour)
	_, err := e.svc.Restore(e.ctx, "user001@contoso.com", nil)
	require.Error(t, err)
	assert.True(t, backend.KindOf(err) == backend.NotFound || backend.ReasonOf(err) == accounts.ReasonRestoreExpired, "%v", err)
}

// Scenario: Assign after Unassign returned a stale status.
func TestAssignReturnsTheFreshStatus(t *testing.T) {
	e := newEnv(t, 10)
	e.addUser("hank", "Hank")
	_, err := e.svc.Assign(e.ctx, "hank", accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	require.NoError(t, e.svc.Unassign(e.ctx, "hank"))
	st, err := e.svc.Assign(e.ctx, "hank", accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	assert.True(t, st.Licensed)
	assert.True(t, st.SignIn)
	assert.Equal(t, accounts.AccountActive, st.State)
	fresh, err := e.svc.Status(e.ctx, "hank")
	require.NoError(t, err)
	assert.Equal(t, fresh, st)
}
