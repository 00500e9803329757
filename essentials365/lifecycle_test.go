package essentials365_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/state"
)

func accountsUser(sam string) accounts.NewUser {
	return accounts.NewUser{SAMAccountName: sam, GivenName: strings.ToUpper(sam[:1]) + sam[1:], DisplayName: sam,
		Password: "Tr0ub4dor&3!Zq", Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}}}}
}

func TestIntegrateRecordsAndIsIdempotent(t *testing.T) {
	c := newCompany(t, nil)
	i := c.open()
	assert.Equal(t, essentials365.StateNotIntegrated, i.State())
	res, err := i.Integrate(c.ctx)
	require.NoError(t, err)
	rec := res.Record
	assert.Equal(t, essentials365.StateIntegrated, rec.State)
	assert.Equal(t, tenantID, rec.TenantID)
	assert.Equal(t, "Contoso", rec.TenantName)
	assert.Equal(t, "contoso.onmicrosoft.com", rec.InitialDomain)
	assert.Equal(t, "contoso.com", rec.DefaultDomain)
	assert.Equal(t, "contoso.local", rec.Domain)
	assert.Equal(t, c.clock.Now(), rec.IntegratedAt)
	assert.Nil(t, res.Import, "nothing to import in an empty tenant")

	// A second process sees the record.
	again := c.open()
	assert.Equal(t, essentials365.StateIntegrated, again.State())
	c.clock.Advance(time.Hour)
	res2, err := again.Integrate(c.ctx)
	require.NoError(t, err)
	assert.Equal(t, rec.IntegratedAt, res2.Record.IntegratedAt, "integrating again keeps the first date")
	assert.Equal(t, rec.Since, res2.Record.Since)

	// The features work.
	st, err := i.Accounts().CreateUser(c.ctx, accountsUser("ann"))
	require.NoError(t, err)
	assert.Equal(t, accounts.AccountActive, st.State)

	var ops []string
	for _, e := range c.audit.Events() {
		ops = append(ops, e.Op)
		assert.Equal(t, audit.SideLocal, e.Side)
	}
	assert.Equal(t, []string{essentials365.AuditIntegrate, essentials365.AuditIntegrate}, ops)
}

func TestIntegrateWithExistingAccountsProposesImport(t *testing.T) {
	c := newCompany(t, nil)
	for _, upn := range []string{"bob@contoso.com", "eve@contoso.com"} {
		_, err := c.tenant.CreateUser(c.ctx, backend.NewOnlineUser{UserPrincipalName: upn, DisplayName: upn, Password: "Xy9!long-enough"})
		require.NoError(t, err)
	}
	res, err := c.open().Integrate(c.ctx)
	require.NoError(t, err)
	require.NotNil(t, res.Import)
	require.Len(t, res.Import.Items, 2)
	assert.Equal(t, "bob", res.Import.Items[0].SAMAccountName)
	assert.Equal(t, 2, res.Report.ImportCandidates)
}

func TestIntegrateRefusesAnotherTenant(t *testing.T) {
	c := newCompany(t, nil)
	c.integrated()
	other := memory.NewTenant(&memory.TenantOptions{TenantID: "0c8a4a4e-0000-4000-8000-000000000001", Now: c.clock.Now})
	_, err := other.AddSKU(backend.SKU{SKUID: e3SKU, PartNumber: "ENTERPRISEPACK", Enabled: 1,
		ServicePlans: []backend.ServicePlan{{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE"}}})
	require.NoError(t, err)
	_, err = c.openWith(other).Integrate(c.ctx)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, essentials365.ReasonOtherTenant, backend.ReasonOf(err))
	rec, err := c.open().Record(c.ctx)
	require.NoError(t, err)
	assert.Equal(t, tenantID, rec.TenantID, "the record is unchanged")
}

// TestDisableOffline disables with a tenant that refuses every call, then
// proves that no feature writes to the cloud (or to the directory), that the
// cloud was left as it was, and that integrating again adopts the same
// accounts.
func TestDisableOffline(t *testing.T) {
	c := newCompany(t, nil)
	i := c.integrated()
	acc := i.Accounts()
	_, err := acc.CreateUser(c.ctx, accountsUser("ann"))
	require.NoError(t, err)
	_, err = acc.CreateUser(c.ctx, accountsUser("bob"))
	require.NoError(t, err)
	require.NoError(t, acc.AddAlias(c.ctx, "ann", "anna@contoso.com"))
	_, err = c.dir.CreateUser(c.ctx, backend.NewDirectoryUser{SAMAccountName: "dan", UserPrincipalName: "dan@contoso.com",
		DisplayName: "Dan", Password: "Tr0ub4dor&3!Zq"})
	require.NoError(t, err)

	// Two password updates the cloud did not take.
	c.tenant.AddFault("UpdateUser", unavailable)
	for _, u := range []string{"ann", "bob"} {
		s, err := acc.SetPassword(c.ctx, u, "N3w-Passw0rd!Zq")
		require.NoError(t, err)
		require.Equal(t, accounts.SyncPending, s)
	}

	// The tenant now refuses everything.
	c.tenant.ClearFaults()
	before := snapshot(t, c)
	c.tenant.AddFault("*", unavailable)
	c.tenant.ResetCalls()
	c.dir.ResetCalls()
	keysBefore, err := c.store.List(c.ctx, "")
	require.NoError(t, err)

	res, err := i.Disable(c.ctx)
	require.NoError(t, err, "Disable never fails because the cloud is down")
	assert.Equal(t, 2, res.DiscardedPasswords)
	assert.Equal(t, essentials365.StateDisabled, res.Record.State)
	assert.Equal(t, c.clock.Now(), res.Record.Since)
	assert.Empty(t, c.tenant.Calls(), "Disable makes no call to the tenant")
	var ops []string
	for _, e := range c.audit.Events() {
		ops = append(ops, e.Op)
		if e.Op == essentials365.AuditDiscardPasswords {
			assert.Equal(t, "2", e.Detail["count"])
		}
	}
	assert.Equal(t, []string{essentials365.AuditIntegrate, essentials365.AuditDisable, essentials365.AuditDiscardPasswords, essentials365.AuditDisable}, ops,
		"the record is disabled before the pending updates are discarded, then counts them")
	assert.Empty(t, c.dir.Calls(), "nor to the directory")
	pending, err := acc.PendingPasswords(c.ctx)
	require.NoError(t, err)
	assert.Empty(t, pending, "pending updates are discarded")
	keysAfter, err := c.store.List(c.ctx, "")
	require.NoError(t, err)
	assert.Len(t, keysAfter, len(keysBefore)-2, "their two sealed values are gone from the store")

	// Every feature write is refused before it reaches either side.
	c.tenant.ClearFaults()
	disabled := func(err error) {
		t.Helper()
		require.ErrorIs(t, err, backend.ErrFailedPrecondition)
		assert.Equal(t, essentials365.ReasonIntegrationDisabled, backend.ReasonOf(err))
	}
	_, err = acc.SetPassword(c.ctx, "ann", "An0ther-Passw0rd!")
	disabled(err)
	disabled(acc.Disable(c.ctx, "ann"))
	disabled(acc.Delete(c.ctx, "bob"))
	disabled(acc.Unassign(c.ctx, "bob"))
	disabled(acc.AddAlias(c.ctx, "ann", "a2@contoso.com"))
	disabled(acc.RemoveAlias(c.ctx, "ann", "anna@contoso.com"))
	disabled(acc.SetLicenses(c.ctx, "ann", nil, []string{"ENTERPRISEPACK"}))
	_, err = acc.CreateUser(c.ctx, accountsUser("cid"))
	disabled(err)
	_, err = i.Reconcile(c.ctx, &accounts.ReconcileOptions{Full: true})
	disabled(err)
	plan, err := acc.PlanBulkCreate(c.ctx, nil)
	require.NoError(t, err, "reads still work")
	require.NotEmpty(t, plan.Items, "dan has no online account yet")
	if r, _ := acc.ApplyBulkCreate(c.ctx, plan, nil); r != nil {
		for _, it := range r.Items {
			assert.NotEqual(t, accounts.StatusDone, it.Status)
		}
	}
	n, err := acc.RetryPendingPasswords(c.ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	// A user disabled in AD directly (not through the SDK) does not follow.
	ann, err := c.dir.GetUserBySAMAccountName(c.ctx, "ann")
	require.NoError(t, err)
	require.NoError(t, c.dir.SetEnabled(c.ctx, ann.ID, false))
	_, err = acc.Reconcile(c.ctx, &accounts.ReconcileOptions{Full: true, AllowDeletions: true})
	_ = err // the reconcile may report failures; what matters is the cloud
	assert.Empty(t, tenantWrites(c.tenant), "no cloud write through any feature service")
	assert.Equal(t, before, snapshot(t, c), "the cloud is exactly as it was")

	// Mappings stay in AD; integrating again adopts the same accounts.
	ann, err = c.dir.GetUserBySAMAccountName(c.ctx, "ann")
	require.NoError(t, err)
	assert.NotEmpty(t, ann.OnlineAccount)
	require.NoError(t, c.dir.SetEnabled(c.ctx, ann.ID, true))
	res2, err := i.Integrate(c.ctx)
	require.NoError(t, err)
	assert.Equal(t, essentials365.StateIntegrated, res2.Record.State)
	assert.Nil(t, res2.Import, "the mapped accounts are not proposed for import")
	st, err := acc.Status(c.ctx, "ann")
	require.NoError(t, err)
	assert.Equal(t, "ann@contoso.com", st.OnlineID)
	_, err = acc.SetPassword(c.ctx, "ann", "Back-0n-Line!x")
	require.NoError(t, err)
}

// snapshot is the tenant's users with their sign-in state and licences.
func snapshot(t *testing.T, c *company) map[string]string {
	t.Helper()
	out := map[string]string{}
	for u, err := range c.tenant.ListUsers(c.ctx) {
		if err != nil {
			return map[string]string{"error": "unreachable"}
		}
		aliases, _ := c.tenant.Mail().ListAliases(c.ctx, u.UserPrincipalName)
		out[u.UserPrincipalName] = strings.Join([]string{boolStr(u.AccountEnabled), licenseStr(u), strings.Join(aliases, ","), u.LastPasswordChange.String()}, "|")
	}
	return out
}

func boolStr(b bool) string {
	if b {
		return "enabled"
	}
	return "blocked"
}

func licenseStr(u backend.OnlineUser) string {
	var s []string
	for _, l := range u.AssignedLicenses {
		s = append(s, l.SKUID)
	}
	return strings.Join(s, ",")
}

func TestDisableNeedsAnIntegration(t *testing.T) {
	c := newCompany(t, nil)
	_, err := c.open().Disable(c.ctx)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, essentials365.ReasonNotIntegrated, backend.ReasonOf(err))
}

func TestStatus(t *testing.T) {
	c := newCompany(t, nil)
	i := c.integrated()
	_, err := i.Accounts().CreateUser(c.ctx, accountsUser("ann"))
	require.NoError(t, err)
	rep, err := i.Reconcile(c.ctx, &accounts.ReconcileOptions{Full: true})
	require.NoError(t, err)
	c.tenant.AddFault("UpdateUser", unavailable)
	_, err = i.Accounts().SetPassword(c.ctx, "ann", "N3w-Passw0rd!x")
	require.NoError(t, err)
	c.tenant.ClearFaults()

	st, err := i.Status(c.ctx)
	require.NoError(t, err)
	assert.Equal(t, essentials365.StateIntegrated, st.Record.State)
	assert.Equal(t, []essentials365.Subscription{{Name: "ENTERPRISEPACK", SKUID: e3SKU, CapabilityStatus: "Enabled", Total: 10, Used: 1, Free: 9}}, st.Subscriptions)
	assert.Equal(t, []essentials365.DomainStatus{
		{Name: "contoso.com", Verified: true, Default: true},
		{Name: "contoso.onmicrosoft.com", Verified: true, Initial: true},
	}, st.Domains)
	assert.True(t, st.ExchangeOnline)
	require.NotNil(t, st.LastReconcile)
	assert.Equal(t, rep.Examined, st.LastReconcile.Examined)
	assert.True(t, st.LastReconcile.Full)
	assert.Equal(t, 1, st.PendingPasswords)
	assert.Nil(t, st.TenantError)

	// Unreachable tenant: the local parts are still there.
	c.tenant.AddFault("*", unavailable)
	st, err = i.Status(c.ctx)
	require.NoError(t, err)
	require.ErrorIs(t, st.TenantError, backend.ErrUnavailable)
	assert.Equal(t, essentials365.StateIntegrated, st.Record.State)
	assert.Equal(t, 1, st.PendingPasswords)
}

func TestOpenRefusesACorruptRecord(t *testing.T) {
	c := newCompany(t, nil)
	require.NoError(t, c.store.Put(c.ctx, "essentials365/integration", []byte("{")))
	_, err := essentials365.Open(c.ctx, c.dir, c.tenant, c.opts)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, essentials365.ReasonStateCorrupt, backend.ReasonOf(err))

	_, err = essentials365.Open(c.ctx, nil, c.tenant, nil)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	fs, err := state.NewFileStore(t.TempDir())
	require.NoError(t, err)
	_, err = essentials365.Open(c.ctx, c.dir, c.tenant, &essentials365.Options{Store: fs})
	assert.Equal(t, essentials365.ReasonSealerRequired, backend.ReasonOf(err))
}

func TestChangeCredential(t *testing.T) {
	c := newCompany(t, nil)
	dir := t.TempDir()
	fs, err := state.NewFileStore(dir)
	require.NoError(t, err)
	sealer, err := state.NewAESSealer([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	c.opts.Store, c.opts.Sealer, c.store = fs, sealer, fs
	i := c.integrated()

	// Same tenant, but the new credential lacks a permission: refused.
	weak := memory.NewTenant(&memory.TenantOptions{TenantID: tenantID, Now: c.clock.Now})
	weak.SetGrantedRoles("User.Read.All")
	_, err = i.ChangeCredential(c.ctx, weak, nil)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, essentials365.ReasonRequirementsNotMet, backend.ReasonOf(err))

	// Expired secret: refused, the old one stays.
	expired := memory.NewTenant(&memory.TenantOptions{TenantID: tenantID, Now: c.clock.Now})
	expired.AddFault("*", func(context.Context, string, string) error {
		return &backend.Error{Kind: backend.PermissionDenied, Reason: backend.ReasonSecretExpired}
	})
	rep, err := i.ChangeCredential(c.ctx, expired, nil)
	require.Error(t, err)
	ch, _ := rep.Get(essentials365.CheckTenantReachable)
	assert.Equal(t, backend.ReasonSecretExpired, ch.Reason)

	// Another tenant: refused.
	other := memory.NewTenant(&memory.TenantOptions{TenantID: "0c8a4a4e-0000-4000-8000-000000000001", Now: c.clock.Now})
	_, err = i.ChangeCredential(c.ctx, other, nil)
	assert.Equal(t, essentials365.ReasonOtherTenant, backend.ReasonOf(err))

	// The old credential is still in use.
	c.tenant.ResetCalls()
	_, err = i.Accounts().CreateUser(c.ctx, accountsUser("ann"))
	require.NoError(t, err)
	assert.NotEmpty(t, tenantWrites(c.tenant))

	// A good one replaces it, and its secret is stored sealed.
	good := memory.NewTenant(&memory.TenantOptions{TenantID: tenantID, Now: c.clock.Now})
	good.SetClientID("11111111-2222-4333-8444-555555555555")
	_, err = i.ChangeCredential(c.ctx, good, &essentials365.CredentialOptions{StoreSecret: "s3cr3t-Value~"})
	require.NoError(t, err)
	rec, err := i.Record(c.ctx)
	require.NoError(t, err)
	assert.Equal(t, "11111111-2222-4333-8444-555555555555", rec.ClientID)
	assert.Equal(t, c.clock.Now(), rec.CredentialChangedAt)
	secret, err := i.StoredSecret(c.ctx)
	require.NoError(t, err)
	assert.Equal(t, "s3cr3t-Value~", secret)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		assert.NotContains(t, string(b), "s3cr3t-Value~", "never written in clear")
	}
	for _, e := range c.audit.Events() {
		assert.NotContains(t, e.Error+e.Target+e.User+e.OnlineID, "s3cr3t")
		for _, v := range e.Detail {
			assert.NotContains(t, v, "s3cr3t")
		}
	}
	c.tenant.ResetCalls()
	good.ResetCalls()
	_, err = i.Accounts().Status(c.ctx, "ann")
	require.NoError(t, err)
	assert.NotEmpty(t, good.Calls(), "the new tenant driver is in use")
	assert.Empty(t, c.tenant.Calls(), "the old driver is no longer called")

	// Changing again without storing removes the stored secret.
	_, err = i.ChangeCredential(c.ctx, good, nil)
	require.NoError(t, err)
	_, err = i.StoredSecret(c.ctx)
	require.ErrorIs(t, err, backend.ErrNotFound)
}

// TestDisableReachesAnotherProcess disables from a second Integration on
// the same state store (an admin's tool next to the sync service): the
// first one's features stop writing at once.
func TestDisableReachesAnotherProcess(t *testing.T) {
	c := newCompany(t, nil)
	service := c.integrated()
	_, err := service.Accounts().CreateUser(c.ctx, accountsUser("ann"))
	require.NoError(t, err)

	_, err = c.open().Disable(c.ctx)
	require.NoError(t, err)
	c.tenant.ResetCalls()
	err = service.Accounts().Disable(c.ctx, "ann")
	assert.Equal(t, essentials365.ReasonIntegrationDisabled, backend.ReasonOf(err))
	assert.Equal(t, essentials365.StateDisabled, service.State())
	assert.Empty(t, tenantWrites(c.tenant))

	// A record that cannot be read refuses writes too.
	require.NoError(t, c.store.Put(c.ctx, "essentials365/integration", []byte("garbage")))
	err = service.Accounts().Enable(c.ctx, "ann")
	assert.Equal(t, essentials365.ReasonStateCorrupt, backend.ReasonOf(err))
	assert.Empty(t, tenantWrites(c.tenant))
}
