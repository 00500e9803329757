package memory_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/internal/testclock"
)

func TestDirectoryPolicyDefaults(t *testing.T) {
	d := memory.NewDirectory(nil)
	p, err := d.PasswordPolicy(t.Context())
	require.NoError(t, err)
	assert.Equal(t, backend.DefaultPasswordPolicy(), p)
	assert.Equal(t, 24*time.Hour, p.MinAge, "Windows' default minimum password age")
	assert.Equal(t, 24, p.HistoryLength)
	assert.Equal(t, 7, p.MinLength)
	assert.True(t, p.Complexity)
}

func TestDirectoryMinimumAge(t *testing.T) {
	ctx := t.Context()
	clock := testclock.New()
	d := memory.NewDirectory(&memory.DirectoryOptions{Now: clock.Now})
	u, err := d.CreateUser(ctx, dirNewUser("age"))
	require.NoError(t, err)

	clock.Advance(23 * time.Hour)
	err = d.ChangePassword(ctx, u.ID, dirGoodPassword, "Second#Pw1")
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, backend.ReasonPasswordMinAge, backend.ReasonOf(err))
	when := testclock.Start.Add(24 * time.Hour).Format(time.RFC3339)
	assert.Contains(t, err.Error(), "from "+when, "the error says when the change becomes possible")
	assert.Contains(t, err.Error(), "1 day")
	assert.NoError(t, d.Authenticate(ctx, "age", dirGoodPassword), "the refused change did not take")

	clock.Advance(time.Hour)
	require.NoError(t, d.ChangePassword(ctx, u.ID, dirGoodPassword, "Second#Pw1"), "a change is possible after exactly one day")

	t.Run("an administrator's reset is not held", func(t *testing.T) {
		require.NoError(t, d.ResetPassword(ctx, u.ID, "Third#Pw11", false))
		require.NoError(t, d.ResetPassword(ctx, u.ID, "Fourth#Pw1", false))
	})
	t.Run("must change lifts it", func(t *testing.T) {
		err := d.ChangePassword(ctx, u.ID, "Fourth#Pw1", "Fifth#Pw11")
		assert.Equal(t, backend.ReasonPasswordMinAge, backend.ReasonOf(err))
		require.NoError(t, d.SetMustChangePassword(ctx, u.ID, true))
		require.NoError(t, d.ChangePassword(ctx, u.ID, "Fourth#Pw1", "Fifth#Pw11"))
	})
	t.Run("the old password comes first", func(t *testing.T) {
		err := d.ChangePassword(ctx, u.ID, "wrong", "Sixth#Pw11")
		assert.Equal(t, backend.ReasonOldPassword, backend.ReasonOf(err))
	})
}

func TestDirectoryPolicyOptions(t *testing.T) {
	ctx := t.Context()
	p := backend.PasswordPolicy{MinLength: 10, HistoryLength: 2}
	d := memory.NewDirectory(&memory.DirectoryOptions{PasswordPolicy: &p})
	got, err := d.PasswordPolicy(ctx)
	require.NoError(t, err)
	assert.Equal(t, p, got)

	nu := dirNewUser("opts")
	nu.Password = "simplepw12" // no complexity asked
	u, err := d.CreateUser(ctx, nu)
	require.NoError(t, err)
	err = d.ResetPassword(ctx, u.ID, "short", false)
	assert.Equal(t, backend.ReasonPasswordLength, backend.ReasonOf(err))
	assert.Contains(t, err.Error(), "at least 10 characters")

	// A history of 2: the current password and the one before.
	require.NoError(t, d.ChangePassword(ctx, u.ID, "simplepw12", "secondpw12"))
	err = d.ChangePassword(ctx, u.ID, "secondpw12", "simplepw12")
	assert.Equal(t, backend.ReasonPasswordHistory, backend.ReasonOf(err))
	require.NoError(t, d.ChangePassword(ctx, u.ID, "secondpw12", "thirdpw123"))
	require.NoError(t, d.ChangePassword(ctx, u.ID, "thirdpw123", "simplepw12"), "the third-last password is forgotten")

	t.Run("no history", func(t *testing.T) {
		d := memory.NewDirectory(&memory.DirectoryOptions{PasswordPolicy: &backend.PasswordPolicy{MinLength: 1}})
		u, err := d.CreateUser(ctx, dirNewUser("nohist"))
		require.NoError(t, err)
		require.NoError(t, d.ChangePassword(ctx, u.ID, dirGoodPassword, dirGoodPassword))
	})
}

func TestDirectoryFineGrainedPolicy(t *testing.T) {
	ctx := t.Context()
	d := memory.NewDirectory(nil)
	u, err := d.CreateUser(ctx, dirNewUser("pso"))
	require.NoError(t, err)
	other, err := d.CreateUser(ctx, dirNewUser("nopso"))
	require.NoError(t, err)

	pso := backend.PasswordPolicy{MinLength: 14, Complexity: true, HistoryLength: 1}
	require.NoError(t, d.SetFineGrainedPolicy(ctx, u.ID, &pso))
	got, err := d.UserPasswordPolicy(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, "CN=PSO,CN=Password Settings Container,CN=System,DC=contoso,DC=local", got.Source)
	got.Source = ""
	assert.Equal(t, pso, got)

	dom, err := d.UserPasswordPolicy(ctx, other.ID)
	require.NoError(t, err)
	assert.Equal(t, backend.DefaultPasswordPolicy(), dom, "other users keep the domain's policy")

	err = d.ResetPassword(ctx, u.ID, "Short#Pw1234", false)
	assert.Equal(t, backend.ReasonPasswordLength, backend.ReasonOf(err), "the PSO's length applies")
	require.NoError(t, d.ResetPassword(ctx, other.ID, "Short#Pw1234", false), "not to other users")
	require.NoError(t, d.ResetPassword(ctx, u.ID, "Long-Enough#Pw1", false))
	require.NoError(t, d.ChangePassword(ctx, u.ID, "Long-Enough#Pw1", "Longer-Still#Pw2"), "the PSO has no minimum age")

	require.NoError(t, d.SetFineGrainedPolicy(ctx, u.ID, nil))
	back, err := d.UserPasswordPolicy(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, backend.DefaultPasswordPolicy(), back)

	_, err = d.UserPasswordPolicy(ctx, backend.NewGUID())
	assert.ErrorIs(t, err, backend.ErrNotFound)
	assert.ErrorIs(t, d.SetFineGrainedPolicy(ctx, backend.NewGUID(), &pso), backend.ErrNotFound)
}

func TestDirectorySeed(t *testing.T) {
	clock := testclock.New()
	d := memory.NewDirectory(&memory.DirectoryOptions{Now: clock.Now, Users: []backend.NewDirectoryUser{
		dirNewUser("ann"),
		{SAMAccountName: "bob", DisplayName: "User ann", Password: dirGoodPassword, MustChangePassword: true},
	}})
	assert.Empty(t, d.Calls(), "seeding is not a call")
	ann, err := d.GetUserBySAMAccountName(t.Context(), "ann")
	require.NoError(t, err)
	assert.Equal(t, testclock.Start, ann.PasswordLastSet)
	require.NoError(t, d.Authenticate(t.Context(), "ann@contoso.local", dirGoodPassword))
	bob, err := d.GetUserBySAMAccountName(t.Context(), "bob")
	require.NoError(t, err)
	assert.True(t, bob.MustChangePassword)
	assert.Equal(t, "CN=User ann (bob),CN=Users,DC=contoso,DC=local", bob.DN, "the seeds follow the naming rules")

	assert.PanicsWithValue(t, `memory: NewDirectory: seed user "weak": directory: create user ("weak"): a password has at least 7 characters [rule password-length]`, func() {
		memory.NewDirectory(&memory.DirectoryOptions{Users: []backend.NewDirectoryUser{{SAMAccountName: "weak", Password: "x"}}})
	})
}

func TestDirectoryUnknownFaultOp(t *testing.T) {
	d := memory.NewDirectory(nil)
	for name, f := range map[string]func(){
		"FailNext":   func() { d.FailNext("CreatUser", 1, backend.ErrUnavailable) },
		"AddFault":   func() { d.AddFault("Creat", func(context.Context, string, string) error { return nil }) },
		"CountCalls": func() { d.CountCalls("PasswordPolicies") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "an unknown operation is refused")
				assert.Contains(t, r, "not an operation of the Directory")
				assert.Contains(t, r, "CreateUser", "the message lists the operations")
			}()
			f()
		})
	}
	d.FailNext(memory.OpPasswordPolicy, 1, backend.Errorf(backend.Unavailable, "test", "", "down"))
	_, err := d.PasswordPolicy(t.Context())
	assert.ErrorIs(t, err, backend.ErrUnavailable)
	assert.Equal(t, 1, d.CountCalls(memory.OpPasswordPolicy))
}

// TestDirectoryOps checks that errors carry the contract's op wording,
// the one the LDAP driver uses.
func TestDirectoryOps(t *testing.T) {
	ctx := t.Context()
	d := memory.NewDirectory(nil)
	missing := backend.NewGUID()
	tests := []struct {
		op   string
		call func() error
	}{
		{backend.OpDirectoryGetUser, func() error { _, err := d.GetUser(ctx, missing); return err }},
		{backend.OpDirectoryGetUserBySAM, func() error { _, err := d.GetUserBySAMAccountName(ctx, "nobody"); return err }},
		{backend.OpDirectoryGetUserByUPN, func() error { _, err := d.GetUserByUPN(ctx, "no@body"); return err }},
		{backend.OpDirectoryCreateUser, func() error { _, err := d.CreateUser(ctx, backend.NewDirectoryUser{}); return err }},
		{backend.OpDirectorySetEnabled, func() error { return d.SetEnabled(ctx, missing, true) }},
		{backend.OpDirectoryDeleteUser, func() error { return d.DeleteUser(ctx, missing) }},
		{backend.OpDirectoryResetPassword, func() error { return d.ResetPassword(ctx, missing, "x", false) }},
		{backend.OpDirectoryChangePassword, func() error { return d.ChangePassword(ctx, missing, "x", "y") }},
		{backend.OpDirectorySetMustChangePassword, func() error { return d.SetMustChangePassword(ctx, missing, true) }},
		{backend.OpDirectorySetOnlineAccount, func() error { return d.SetOnlineAccount(ctx, missing, "x") }},
		{backend.OpDirectoryUserPasswordPolicy, func() error { _, err := d.UserPasswordPolicy(ctx, missing); return err }},
		{backend.OpDirectoryChanges, func() error { _, err := d.Changes(ctx, "bad"); return err }},
		{backend.OpDirectoryAuthenticate, func() error { return d.Authenticate(ctx, "nobody", "x") }},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			err := tc.call()
			var e *backend.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.op, e.Op)
			assert.True(t, strings.HasPrefix(e.Op, "directory: "))
		})
	}
}

func TestDirectoryPasswordExpiry(t *testing.T) {
	ctx := t.Context()
	clock := testclock.New()
	d := memory.NewDirectory(&memory.DirectoryOptions{Now: clock.Now})
	u, err := d.CreateUser(ctx, dirNewUser("old"))
	require.NoError(t, err)
	clock.Advance(42*24*time.Hour - time.Second)
	require.NoError(t, d.Authenticate(ctx, "old", dirGoodPassword), "valid until the maximum age")
	clock.Advance(time.Second)
	err = d.Authenticate(ctx, "old", dirGoodPassword)
	require.ErrorIs(t, err, backend.ErrPermissionDenied)
	assert.Equal(t, backend.ReasonPasswordExpired, backend.ReasonOf(err))
	assert.Equal(t, backend.ReasonInvalidCredentials, backend.ReasonOf(d.Authenticate(ctx, "old", "wrong")), "a wrong password says nothing more")

	require.NoError(t, d.ChangePassword(ctx, u.ID, dirGoodPassword, "Renewed#Pw1"), "an expired password can be changed")
	require.NoError(t, d.Authenticate(ctx, "old", "Renewed#Pw1"))

	never := backend.DefaultPasswordPolicy()
	never.MaxAge = 0
	require.NoError(t, d.SetFineGrainedPolicy(ctx, u.ID, &never))
	clock.Advance(10 * 365 * 24 * time.Hour)
	require.NoError(t, d.Authenticate(ctx, "old", "Renewed#Pw1"), "a policy without a maximum age never expires")
}
