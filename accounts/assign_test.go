package accounts_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

func TestCreateUserWithNewOnlineAccount(t *testing.T) {
	e := newEnv(t, 10)
	st, err := e.svc.CreateUser(e.ctx, accounts.NewUser{SAMAccountName: "dave", GivenName: "Dave", Surname: "Lee", DisplayName: "Dave Lee",
		Password: "Sunny-Day-42", Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}}})
	require.NoError(t, err)
	assert.Equal(t, accounts.AccountActive, st.State)
	assert.Equal(t, "dave@contoso.com", st.OnlineID)
	assert.True(t, e.tenant.CheckPassword("dave@contoso.com", "Sunny-Day-42"), "the online account has the same password")
	require.NoError(t, e.dir.Authenticate(e.ctx, "dave", "Sunny-Day-42"))
	assert.Equal(t, "dave@contoso.local", e.user("dave").UserPrincipalName)
}

func TestCreateUserWithExistingOnlineAccount(t *testing.T) {
	e := newEnv(t, 10)
	e.cloudUsers("erin@contoso.com")
	st, err := e.svc.CreateUser(e.ctx, accounts.NewUser{SAMAccountName: "erin", DisplayName: "Erin", Password: "Sunny-Day-42",
		Online: &accounts.OnlineChoice{Existing: "erin@contoso.com", Licenses: []accounts.LicenseChoice{e3}}})
	require.NoError(t, err)
	assert.Equal(t, accounts.AccountActive, st.State)
	ou := e.online("erin@contoso.com")
	assert.Equal(t, e.user("erin").ID.ImmutableID(), ou.ImmutableID)
	assert.True(t, e.tenant.CheckPassword("erin@contoso.com", "Sunny-Day-42"))
}

func TestCreateUserBadInputChangesNothing(t *testing.T) {
	tests := []struct {
		name   string
		user   accounts.NewUser
		seats  int
		kind   error
		reason backend.Reason
	}{
		{"user name too long", accounts.NewUser{SAMAccountName: "abcdefghijklmnopqrstu", Password: "Sunny-Day-42"}, 5, backend.ErrInvalidArgument, accounts.ReasonSAMInvalid},
		{"forbidden character in user name", accounts.NewUser{SAMAccountName: "a*b", Password: "Sunny-Day-42"}, 5, backend.ErrInvalidArgument, accounts.ReasonSAMInvalid},
		{"weak network password", accounts.NewUser{SAMAccountName: "frank", Password: "abc"}, 5, backend.ErrInvalidArgument, "password-length"},
		{"password too short for Microsoft 365", accounts.NewUser{SAMAccountName: "frank", Password: "Ab1-xyz", Online: &accounts.OnlineChoice{}}, 5, backend.ErrInvalidArgument, accounts.ReasonOnlinePasswordPolicy},
		{"forbidden online ID character", accounts.NewUser{SAMAccountName: "frank", Password: "Sunny-Day-42", Online: &accounts.OnlineChoice{NewOnlineID: "fr ank@contoso.com"}}, 5, backend.ErrInvalidArgument, accounts.ReasonOnlineIDCharacters},
		{"unicode online ID", accounts.NewUser{SAMAccountName: "zoe", Password: "Sunny-Day-42", Online: &accounts.OnlineChoice{NewOnlineID: "zoë@contoso.com"}}, 5, backend.ErrInvalidArgument, accounts.ReasonOnlineIDCharacters},
		{"unknown domain", accounts.NewUser{SAMAccountName: "frank", Password: "Sunny-Day-42", Online: &accounts.OnlineChoice{NewOnlineID: "frank@fabrikam.com"}}, 5, backend.ErrInvalidArgument, accounts.ReasonDomainUnknown},
		{"unverified domain", accounts.NewUser{SAMAccountName: "frank", Password: "Sunny-Day-42", Online: &accounts.OnlineChoice{NewOnlineID: "frank@unverified.example"}}, 5, backend.ErrFailedPrecondition, accounts.ReasonDomainUnverified},
		{"duplicate online ID", accounts.NewUser{SAMAccountName: "frank", Password: "Sunny-Day-42", Online: &accounts.OnlineChoice{NewOnlineID: "taken@contoso.com"}}, 5, backend.ErrAlreadyExists, accounts.ReasonOnlineIDTaken},
		{"no free license", accounts.NewUser{SAMAccountName: "frank", Password: "Sunny-Day-42", Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}}}, 1, backend.ErrFailedPrecondition, accounts.ReasonNoFreeLicense},
		{"both new and existing", accounts.NewUser{SAMAccountName: "frank", Password: "Sunny-Day-42", Online: &accounts.OnlineChoice{NewOnlineID: "f@contoso.com", Existing: "taken@contoso.com"}}, 5, backend.ErrInvalidArgument, accounts.ReasonOnlineChoice},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.seats)
			_, err := e.tenant.CreateUser(e.ctx, backend.NewOnlineUser{UserPrincipalName: "taken@contoso.com", DisplayName: "Taken", Password: "Cloud-Pw-2026!", UsageLocation: "FR"})
			require.NoError(t, err)
			_, err = e.tenant.AddDomain(e.ctx, "unverified.example")
			require.NoError(t, err)
			_, err = e.tenant.AssignLicenses(e.ctx, "taken@contoso.com", []backend.LicenseAssignment{{SKUID: e3SKU}}, nil)
			require.NoError(t, err)
			before := e.onlineCount()

			_, err = e.svc.CreateUser(e.ctx, tc.user)
			require.ErrorIs(t, err, tc.kind)
			assert.Equal(t, tc.reason, backend.ReasonOf(err), "%v", err)
			_, gerr := e.dir.GetUserBySAMAccountName(e.ctx, tc.user.SAMAccountName)
			assert.ErrorIs(t, gerr, backend.ErrNotFound, "no network user is left behind")
			assert.Equal(t, before, e.onlineCount(), "no online account is left behind")
		})
	}
}

func TestCreateUserInterruptedIsFinishedByARerun(t *testing.T) {
	e := newEnv(t, 10)
	e.tenant.FailNext("AssignLicenses", 1, &backend.Error{Kind: backend.PermissionDenied, Msg: "Insufficient privileges"})
	nu := accounts.NewUser{SAMAccountName: "gina", Password: "Sunny-Day-42", Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}}}
	_, err := e.svc.CreateUser(e.ctx, nu)
	require.ErrorIs(t, err, backend.ErrPermissionDenied)
	assert.Equal(t, accounts.ReasonInterrupted, backend.ReasonOf(err))
	assert.Contains(t, err.Error(), "run the same CreateUser again")
	m, err := accounts.ParseMapping(e.user("gina").OnlineAccount)
	require.NoError(t, err)
	assert.Equal(t, accounts.MappingCreating, m.State)

	st, err := e.svc.CreateUser(e.ctx, nu)
	require.NoError(t, err)
	assert.Equal(t, accounts.AccountActive, st.State)
	assert.Equal(t, 1, e.onlineCount(), "nothing created twice")
	assert.True(t, e.tenant.CheckPassword("gina@contoso.com", "Sunny-Day-42"))
}

func TestCreateUserRollsBackARefusal(t *testing.T) {
	e := newEnv(t, 10)
	e.tenant.FailNext("AssignLicenses", 1, &backend.Error{Kind: backend.FailedPrecondition, Reason: accounts.ReasonNoFreeLicense, Msg: "no seat"})
	_, err := e.svc.CreateUser(e.ctx, accounts.NewUser{SAMAccountName: "gina", Password: "Sunny-Day-42",
		Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}}})
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	_, gerr := e.dir.GetUserBySAMAccountName(e.ctx, "gina")
	assert.ErrorIs(t, gerr, backend.ErrNotFound)
	assert.Zero(t, e.onlineCount())
	deleted, err := e.tenant.ListDeletedUsers(e.ctx)
	require.NoError(t, err)
	assert.Len(t, deleted, 1, "the online account created for the user was deleted again")
}

func TestAssignUnassignReassign(t *testing.T) {
	e := newEnv(t, 1)
	e.addUser("hank", "Hank")
	st, err := e.svc.Assign(e.ctx, "hank", accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	assert.Equal(t, accounts.AccountActive, st.State)
	assert.True(t, e.user("hank").MustChangePassword, "the user must change password so it reaches the online account")
	assert.Equal(t, 1, e.seatsUsed(e3SKU))

	again, err := e.svc.Assign(e.ctx, "hank", accounts.OnlineChoice{})
	require.NoError(t, err, "assigning the same account again is a no-op")
	assert.Equal(t, st, again)
	_, err = e.svc.Assign(e.ctx, "hank", accounts.OnlineChoice{NewOnlineID: "henry@contoso.com"})
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonAlreadyMapped, backend.ReasonOf(err))

	require.NoError(t, e.svc.Unassign(e.ctx, "hank"))
	assert.Zero(t, e.seatsUsed(e3SKU), "unassigning frees the license")
	ou := e.online("hank@contoso.com")
	assert.False(t, ou.AccountEnabled, "sign-in is blocked")
	m, err := accounts.ParseMapping(e.user("hank").OnlineAccount)
	require.NoError(t, err)
	assert.Equal(t, accounts.Mapping{ID: ou.ID, UPN: "hank@contoso.com", State: accounts.MappingUnassigned}, m, "the mapping is kept")
	st, err = e.svc.Status(e.ctx, "hank")
	require.NoError(t, err)
	assert.Equal(t, accounts.AccountInactive, st.State)

	// The freed seat can go to someone else, and back.
	st, err = e.svc.Assign(e.ctx, "hank", accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	assert.Equal(t, accounts.AccountActive, st.State)
	assert.Equal(t, ou.ID, st.OnlineUserID, "the kept account is given back")
}

func TestAssignExistingAccountOfAnotherUserFails(t *testing.T) {
	e := newEnv(t, 5)
	e.addUsers(2)
	_, err := e.svc.Assign(e.ctx, "user001", accounts.OnlineChoice{NoLicense: true})
	require.NoError(t, err)
	_, err = e.svc.Assign(e.ctx, "user002", accounts.OnlineChoice{Existing: "user001@contoso.com", NoLicense: true})
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonOnlineLinked, backend.ReasonOf(err))
	assert.Empty(t, e.user("user002").OnlineAccount)
}

func TestUnknownUser(t *testing.T) {
	e := newEnv(t, 5)
	for _, ref := range []string{"nobody", "nobody@contoso.local", backend.NewGUID().String()} {
		_, err := e.svc.Status(e.ctx, ref)
		assert.ErrorIs(t, err, backend.ErrNotFound, ref)
	}
	_, err := e.svc.Status(e.ctx, "  ")
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
}
