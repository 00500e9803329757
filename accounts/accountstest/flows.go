package accountstest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/essentials365/sdk/essentials365/retry"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
)

// fixture is one flow's world.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	dir    backend.Directory
	tf     backendtest.TenantFixture
	svc    *accounts.Service
	auth   backendtest.Authenticator
	prefix string
}

func setup(t *testing.T, dh backendtest.DirectoryHarness, th backendtest.TenantHarness) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{t: t, ctx: ctx, dir: dh.MakeDirectory(ctx, t), tf: th.MakeTenant(ctx, t)}
	f.auth, _ = dh.(backendtest.Authenticator)
	// Short prefix: sAMAccountNames hold at most 20 characters.
	f.prefix = strings.ToLower(backendtest.UniqueName("f"))
	var err error
	f.svc, err = accounts.New(f.dir, f.tf.Tenant, &accounts.Options{
		UsageLocation: "FR",
		Retry:         retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 50 * time.Millisecond},
		// A shared directory may hold other users: never let a flow delete
		// more than it made.
		DeletionThreshold: 5,
	})
	require.NoError(t, err)
	return f
}

// user creates a directory user named prefix+suffix with a known password.
func (f *fixture) user(suffix string) backend.DirectoryUser {
	f.t.Helper()
	sam := f.prefix + suffix
	u, err := f.dir.CreateUser(f.ctx, backend.NewDirectoryUser{SAMAccountName: sam, UserPrincipalName: sam + "@flows.example",
		DisplayName: "Member " + suffix, Password: "Begin-Pass-2026"})
	require.NoError(f.t, err)
	f.t.Cleanup(func() { _ = f.dir.DeleteUser(context.Background(), u.ID) })
	return u
}

func (f *fixture) get(id backend.GUID) backend.DirectoryUser {
	f.t.Helper()
	u, err := f.dir.GetUser(f.ctx, id)
	require.NoError(f.t, err)
	return u
}

// onlyMine keeps the plan items of this flow's users.
func (f *fixture) onlyMine(plan *accounts.BulkPlan) int {
	n := 0
	for i := range plan.Items {
		mine := strings.HasPrefix(plan.Items[i].SAMAccountName, f.prefix)
		plan.Items[i].Selected = mine && plan.Items[i].Problem == ""
		if mine {
			n++
		}
	}
	return n
}

// RunFlows runs the account flows over the drivers the harnesses make:
// bulk create, import, reconcile of disable and delete, password change,
// and must-change-at-next-logon.
func RunFlows(t *testing.T, dh backendtest.DirectoryHarness, th backendtest.TenantHarness) {
	t.Run("BulkCreate", func(t *testing.T) { testBulkCreate(t, setup(t, dh, th)) })
	t.Run("Import", func(t *testing.T) { testImport(t, setup(t, dh, th)) })
	t.Run("ReconcileDisableAndDelete", func(t *testing.T) { testReconcile(t, setup(t, dh, th)) })
	t.Run("PasswordChange", func(t *testing.T) { testPassword(t, setup(t, dh, th)) })
}

func testBulkCreate(t *testing.T, f *fixture) {
	users := []backend.DirectoryUser{f.user("a"), f.user("b"), f.user("c")}
	plan, err := f.svc.PlanBulkCreate(f.ctx, &accounts.PlanOptions{Domain: f.tf.VerifiedDomain})
	require.NoError(t, err)
	require.Equal(t, 3, f.onlyMine(plan))
	res, err := f.svc.ApplyBulkCreate(f.ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{{SKU: f.tf.SKU.SKUID}}})
	require.NoError(t, err)
	require.Equal(t, 3, res.Done, "failures: %+v", res.Failures())
	for _, u := range users {
		u = f.get(u.ID)
		assert.True(t, u.MustChangePassword, "must change password at next logon")
		m, err := accounts.ParseMapping(u.OnlineAccount)
		require.NoError(t, err)
		assert.Equal(t, strings.ToLower(u.SAMAccountName+"@"+f.tf.VerifiedDomain), strings.ToLower(m.UPN))
		ou, err := f.tf.Tenant.GetUser(f.ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, u.ID.ImmutableID(), ou.ImmutableID)
		assert.True(t, ou.Licensed())
		if f.auth != nil {
			err := f.auth.Authenticate(f.ctx, u.SAMAccountName, "Begin-Pass-2026")
			require.ErrorIs(t, err, backend.ErrPermissionDenied)
			assert.Equal(t, "password-must-change", string(backend.ReasonOf(err)))
		}
	}
	// Licenses are all used: a fourth user is refused before any change.
	f.user("d")
	plan, err = f.svc.PlanBulkCreate(f.ctx, &accounts.PlanOptions{Domain: f.tf.VerifiedDomain})
	require.NoError(t, err)
	require.Equal(t, 1, f.onlyMine(plan))
	_, err = f.svc.ApplyBulkCreate(f.ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{{SKU: f.tf.SKU.SKUID}}})
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, accounts.RuleNoFreeLicense, string(backend.ReasonOf(err)))
}

func testImport(t *testing.T, f *fixture) {
	upn := f.prefix + "x@" + f.tf.VerifiedDomain
	ou, err := f.tf.Tenant.CreateUser(f.ctx, backend.NewOnlineUser{UserPrincipalName: upn, DisplayName: "Imported Member", Password: "Cloud-Start-2026!", UsageLocation: "FR"})
	require.NoError(t, err)
	plan, err := f.svc.PlanImport(f.ctx)
	require.NoError(t, err)
	var found bool
	for i := range plan.Items {
		plan.Items[i].Selected = plan.Items[i].OnlineUserID == ou.ID
		found = found || plan.Items[i].Selected
	}
	require.True(t, found, "the online account is proposed")
	pwDir := t.TempDir()
	res, err := f.svc.ApplyImport(f.ctx, plan, &accounts.ImportOptions{PasswordDir: pwDir})
	require.NoError(t, err)
	require.Equal(t, 1, res.Done, "failures: %+v", res.Failures())
	u, err := f.dir.GetUserBySAMAccountName(f.ctx, f.prefix+"x")
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.dir.DeleteUser(context.Background(), u.ID) })
	assert.True(t, u.MustChangePassword)
	b, err := os.ReadFile(filepath.Join(pwDir, u.SAMAccountName+".txt"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "Temporary password: ")
	ou, err = f.tf.Tenant.GetUser(f.ctx, ou.ID)
	require.NoError(t, err)
	assert.Equal(t, u.ID.ImmutableID(), ou.ImmutableID, "the mapping is recorded on both sides")
}

func testReconcile(t *testing.T, f *fixture) {
	a, b := f.user("a"), f.user("b")
	plan, err := f.svc.PlanBulkCreate(f.ctx, &accounts.PlanOptions{Domain: f.tf.VerifiedDomain})
	require.NoError(t, err)
	f.onlyMine(plan)
	res, err := f.svc.ApplyBulkCreate(f.ctx, plan, nil)
	require.NoError(t, err)
	require.Equal(t, 2, res.Done)
	_, err = f.svc.Reconcile(f.ctx, nil) // sets the watermark
	require.NoError(t, err)

	require.NoError(t, f.dir.SetEnabled(f.ctx, a.ID, false))
	require.NoError(t, f.dir.DeleteUser(f.ctx, b.ID))
	rep, err := f.svc.Reconcile(f.ctx, nil)
	require.NoError(t, err)
	upnA := strings.ToLower(a.SAMAccountName + "@" + f.tf.VerifiedDomain)
	upnB := strings.ToLower(b.SAMAccountName + "@" + f.tf.VerifiedDomain)
	assert.Equal(t, []string{upnA}, lower(rep.Disabled))
	assert.Equal(t, []string{upnB}, lower(rep.Deleted))
	ou, err := f.tf.Tenant.GetUser(f.ctx, upnA)
	require.NoError(t, err)
	assert.False(t, ou.AccountEnabled)
	_, err = f.tf.Tenant.GetUser(f.ctx, upnB)
	require.ErrorIs(t, err, backend.ErrNotFound)
}

func testPassword(t *testing.T, f *fixture) {
	u := f.user("p")
	_, err := f.svc.Assign(f.ctx, u.SAMAccountName, accounts.OnlineChoice{NewOnlineID: u.SAMAccountName + "@" + f.tf.VerifiedDomain})
	require.NoError(t, err)
	require.True(t, f.get(u.ID).MustChangePassword)
	// An administrator sets a password; the user then changes it.
	state, err := f.svc.SetPassword(f.ctx, u.SAMAccountName, "Admin-Set-2026x")
	require.NoError(t, err)
	assert.Equal(t, accounts.Synced, state)
	// ... and ticks "must change password at next logon", which lets the
	// user change it at once despite the domain's minimum password age.
	require.NoError(t, f.dir.SetMustChangePassword(f.ctx, u.ID, true))
	state, err = f.svc.ChangePassword(f.ctx, u.SAMAccountName, "Admin-Set-2026x", "User-Chose-2027y")
	require.NoError(t, err)
	assert.Equal(t, accounts.Synced, state)
	assert.False(t, f.get(u.ID).MustChangePassword)
	if f.auth != nil {
		require.NoError(t, f.auth.Authenticate(f.ctx, u.SAMAccountName, "User-Chose-2027y"))
	}
	st, err := f.svc.Status(f.ctx, u.SAMAccountName)
	require.NoError(t, err)
	assert.False(t, st.PasswordSyncBroken)
	if f.tf.PortalPasswordChange != nil && f.tf.AdvanceClock != nil {
		f.tf.AdvanceClock(time.Hour)
		require.NoError(t, f.tf.PortalPasswordChange(f.ctx, st.OnlineUserID, "In-Portal-2028z"))
		st, err = f.svc.Status(f.ctx, u.SAMAccountName)
		require.NoError(t, err)
		assert.True(t, st.PasswordSyncBroken, "a password changed in the cloud is detected")
	}
}

func lower(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}
