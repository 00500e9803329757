package accounts_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

// cloudUsers creates online accounts that have no network user.
func (e *env) cloudUsers(upns ...string) {
	e.t.Helper()
	for _, upn := range upns {
		_, err := e.tenant.CreateUser(e.ctx, backend.NewOnlineUser{UserPrincipalName: upn, DisplayName: "Cloud " + upn, Password: "Cloud-Pw-2026!", UsageLocation: "FR"})
		require.NoError(e.t, err)
	}
}

func TestPlanImport(t *testing.T) {
	e := newEnv(t, 10)
	e.addUser("alice", "Alice Existing")
	e.cloudUsers("bob@contoso.com", "alice@contoso.com", "very.long.name.of.carol@contoso.com", "o'brien@contoso.onmicrosoft.com")
	_, err := e.tenant.CreateUser(e.ctx, backend.NewOnlineUser{UserPrincipalName: "synced@contoso.com", DisplayName: "Synced",
		Password: "Cloud-Pw-2026!", ImmutableID: backend.NewGUID().ImmutableID()})
	require.NoError(t, err)

	plan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	got := map[string]accounts.ImportItem{}
	for _, it := range plan.Items {
		got[it.OnlineID] = it
	}
	tests := []struct {
		onlineID, sam string
		problem       backend.Reason
	}{
		{"bob@contoso.com", "bob", ""},
		{"alice@contoso.com", "alice", accounts.ReasonSAMTaken},
		{"very.long.name.of.carol@contoso.com", "very.long.name.of.ca", ""},
		{"synced@contoso.com", "synced", accounts.ReasonOnlineLinked},
		{"o'brien@contoso.onmicrosoft.com", "o'brien", ""},
	}
	for _, tc := range tests {
		t.Run(tc.onlineID, func(t *testing.T) {
			it, ok := got[tc.onlineID]
			require.True(t, ok)
			assert.Equal(t, tc.sam, it.SAMAccountName)
			assert.Equal(t, tc.problem, it.Problem)
			assert.Equal(t, tc.problem == "", it.Selected)
		})
	}
}

func TestApplyImportWritesPasswordFiles(t *testing.T) {
	e := newEnv(t, 10)
	e.cloudUsers("bob@contoso.com", "carol@contoso.com")
	plan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "passwords")
	res, err := e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordDir: dir})
	require.NoError(t, err)
	require.Equal(t, 2, res.Done)

	for _, sam := range []string{"bob", "carol"} {
		u := e.user(sam)
		assert.True(t, u.MustChangePassword)
		m, err := accounts.ParseMapping(u.OnlineAccount)
		require.NoError(t, err)
		assert.Equal(t, sam+"@contoso.com", m.UPN)
		assert.Equal(t, u.ID.ImmutableID(), e.online(m.ID).ImmutableID, "the mapping is recorded on both sides")

		p := filepath.Join(dir, sam+".txt")
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		pw := extractPassword(t, string(b))
		// The temporary password is the real one, and must be changed.
		err = e.dir.Authenticate(e.ctx, sam, pw)
		require.ErrorIs(t, err, backend.ErrPermissionDenied)
		assert.Equal(t, "password-must-change", string(backend.ReasonOf(err)))
		assert.ErrorIs(t, e.dir.Authenticate(e.ctx, sam, pw+"x"), backend.ErrPermissionDenied)
	}
	// Run again: nothing is created twice.
	plan2, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, plan2.Items)
}

func TestApplyImportCarriesGivenNameAndSurname(t *testing.T) {
	e := newEnv(t, 10)
	_, err := e.tenant.CreateUser(e.ctx, backend.NewOnlineUser{UserPrincipalName: "dana@contoso.com", DisplayName: "Dana Weiss",
		GivenName: "Dana", Surname: "Weiss", Password: "Cloud-Pw-2026!", UsageLocation: "FR"})
	require.NoError(t, err)
	e.cloudUsers("erin@contoso.com")
	plan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	res, err := e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordSink: func(context.Context, string, string, string) error { return nil }})
	require.NoError(t, err)
	require.Equal(t, 2, res.Done)

	dana := e.user("dana")
	assert.Equal(t, "Dana", dana.GivenName)
	assert.Equal(t, "Weiss", dana.Surname)
	assert.Equal(t, "Dana Weiss", dana.DisplayName)
	erin := e.user("erin")
	assert.Empty(t, erin.GivenName, "an online account without a given name gives a user without one")
	assert.Empty(t, erin.Surname)
}

func extractPassword(t *testing.T, body string) string {
	t.Helper()
	const marker = "Temporary password: "
	i := indexOf(body, marker)
	require.GreaterOrEqual(t, i, 0, "the file names the temporary password")
	rest := body[i+len(marker):]
	j := indexOf(rest, "\n")
	return rest[:j]
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestApplyImportSinkFailureLeavesNoUser(t *testing.T) {
	e := newEnv(t, 10)
	e.cloudUsers("bob@contoso.com", "carol@contoso.com")
	plan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	got := map[string]string{}
	res, err := e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordSink: func(_ context.Context, user, onlineID, pw string) error {
		if user == "carol" {
			return errors.New("printer on fire")
		}
		got[user] = pw
		return nil
	}})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Done)
	assert.Equal(t, 1, res.Failed)
	assert.Len(t, got["bob"], 16)
	_, err = e.dir.GetUserBySAMAccountName(e.ctx, "carol")
	assert.ErrorIs(t, err, backend.ErrNotFound, "a user whose password could not be handed over is removed")
	assert.Empty(t, e.online("carol@contoso.com").ImmutableID)
}

func TestApplyImportBadInput(t *testing.T) {
	e := newEnv(t, 10)
	e.cloudUsers("bob@contoso.com", "carol@contoso.com")
	plan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)

	_, err = e.svc.ApplyImport(e.ctx, plan, nil)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonPasswordDestination, backend.ReasonOf(err))

	plan.Items[0].SAMAccountName = "this-name-is-far-too-long"
	plan.Items[1].SAMAccountName = "a/b"
	res, err := e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordDir: t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Failed)
	for _, it := range res.Items {
		assert.Equal(t, accounts.ReasonSAMInvalid, it.Reason)
	}
}

func TestApplyImportResumesHalfDoneUser(t *testing.T) {
	e := newEnv(t, 10)
	e.cloudUsers("bob@contoso.com")
	plan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	// The tenant refuses the link the first time: the new user is undone.
	e.tenant.FailNext("UpdateUser", 1, &backend.Error{Kind: backend.PermissionDenied, Msg: "denied"})
	dir := t.TempDir()
	res, err := e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordDir: dir})
	require.NoError(t, err)
	require.Equal(t, 1, res.Failed)
	_, err = e.dir.GetUserBySAMAccountName(e.ctx, "bob")
	require.ErrorIs(t, err, backend.ErrNotFound)
	_, err = os.Stat(filepath.Join(dir, "bob.txt"))
	require.ErrorIs(t, err, os.ErrNotExist, "no password file for a user that does not exist")

	res, err = e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordDir: dir})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Done)
	_, err = os.Stat(filepath.Join(dir, "bob.txt"))
	require.NoError(t, err)
}

// Scenario: an import killed after the AD user was created was never
// proposed again.
func TestPlanImportReproposesAnInterruptedImport(t *testing.T) {
	e := newEnv(t, 10)
	e.cloudUsers("bob@contoso.com")
	plan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	// The link fails and so does the undo, as when the process dies there.
	e.tenant.FailNext("UpdateUser", 1, &backend.Error{Kind: backend.PermissionDenied, Msg: "denied"})
	e.dir.FailNext("DeleteUser", 1, &backend.Error{Kind: backend.PermissionDenied, Msg: "no right to delete"})
	dir := filepath.Join(t.TempDir(), "pw")
	res, err := e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordDir: dir})
	require.NoError(t, err)
	require.Equal(t, 1, res.Failed)
	require.True(t, e.user("bob").MustChangePassword, "the half-made user is there")

	plan, err = e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	require.Len(t, plan.Items, 1)
	it := plan.Items[0]
	assert.True(t, it.Interrupted)
	assert.True(t, it.Selected)
	assert.Equal(t, "bob", it.SAMAccountName)
	assert.Empty(t, it.Problem)
	res, err = e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordDir: dir})
	require.NoError(t, err)
	require.Equal(t, 1, res.Done)
	b, err := os.ReadFile(filepath.Join(dir, "bob.txt"))
	require.NoError(t, err)
	err = e.dir.Authenticate(e.ctx, "bob", extractPassword(t, string(b)))
	assert.Equal(t, "password-must-change", string(backend.ReasonOf(err)), "a new temporary password, in its file")
	assert.Equal(t, e.user("bob").ID.ImmutableID(), e.online("bob@contoso.com").ImmutableID)
}
