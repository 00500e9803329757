package graphtenant_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/essentials365/retry"
	"github.com/essentials365/sdk/essentials365/state"
	"github.com/essentials365/sdk/internal/sambatest"
)

const (
	lcTenant = "5b7e9a1c-2d3f-4a5b-8c6d-7e8f9a0b1c2d"
	lcClient = "a1b2c3d4-0000-4000-8000-0000000000c1"
)

// cloudSide is a Microsoft 365 tenant reached as in production: an
// app-only client secret signs in at the emulator's Authority (TLS) and
// the Graph driver calls the emulator.
type cloudSide struct {
	mem    *memory.Tenant
	auth   *m365emulator.Authority
	login  *httptest.Server
	graph  *httptest.Server
	emu    *m365emulator.Server
	secret backend.ClientSecret
}

func newCloud(t *testing.T) *cloudSide {
	t.Helper()
	c := &cloudSide{mem: memory.NewTenant(&memory.TenantOptions{TenantID: lcTenant, DisplayName: "Contoso"})}
	require.NoError(t, c.mem.AddVerifiedDomain("contoso.com", true))
	_, err := c.mem.AddSKU(backend.SKU{SKUID: "6fd2c87f-b296-42f0-b197-1e91e994b900", PartNumber: "ENTERPRISEPACK", Enabled: 5,
		ServicePlans: []backend.ServicePlan{{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE"}}})
	require.NoError(t, err)
	c.auth = m365emulator.NewAuthority(lcTenant, &m365emulator.AuthorityOptions{TenantNames: []string{"contoso.onmicrosoft.com"}})
	c.auth.RegisterApp(lcClient, memory.DefaultRoles()...)
	c.secret, err = c.auth.AddClientSecret(lcClient, time.Time{})
	require.NoError(t, err)
	c.login = httptest.NewTLSServer(c.auth)
	t.Cleanup(c.login.Close)
	c.emu = m365emulator.New(c.mem, &m365emulator.Options{Authority: c.auth, Mail: c.mem.Mail()})
	c.graph = httptest.NewServer(c.emu)
	t.Cleanup(c.graph.Close)
	return c
}

// driver is the Graph driver signing in as client with secret at tenant.
func (c *cloudSide) driver(t *testing.T, tenant, client, secret string) *graphtenant.Tenant {
	t.Helper()
	return driverAt(t, c.login, c.graph.URL, tenant, client, secret)
}

func driverAt(t *testing.T, login *httptest.Server, graphURL, tenant, client, secret string) *graphtenant.Tenant {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenant, client, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: login.URL + "/"},
			Transport: login.Client(),
			Retry:     policyNoRetry,
		},
		DisableInstanceDiscovery: true,
	})
	require.NoError(t, err)
	d, err := graphtenant.New(graphtenant.Config{Credential: cred, BaseURL: graphURL + "/v1.0"})
	require.NoError(t, err)
	return d
}

// fastRetry keeps the SDK's retries but without waiting.
var fastRetry = retry.Policy{MaxAttempts: 2, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}

func tenantCheck(t *testing.T, dir backend.Directory, tenant backend.Tenant) essentials365.Check {
	t.Helper()
	i, err := essentials365.Open(t.Context(), dir, tenant, &essentials365.Options{Retry: fastRetry})
	require.NoError(t, err)
	rep, err := i.Check(t.Context())
	require.NoError(t, err)
	ch, ok := rep.Get(essentials365.CheckTenantReachable)
	require.True(t, ok)
	return ch
}

// TestCheckSignInFailuresThroughGraph makes the emulator's Authority answer
// with each AADSTS error class and checks the report entry.
func TestCheckSignInFailuresThroughGraph(t *testing.T) {
	c := newCloud(t)
	dir := memory.NewDirectory(nil)
	ch := tenantCheck(t, dir, c.driver(t, lcTenant, lcClient, c.secret.Text))
	require.Equal(t, essentials365.CheckPass, ch.Status, ch.Found)

	expiring, err := c.auth.AddClientSecret(lcClient, time.Now().Add(-time.Minute))
	require.NoError(t, err)
	require.NoError(t, c.auth.SetAppDisabled(lcClient, false))
	cases := []struct {
		name    string
		tenant  string
		client  string
		secret  string
		prepare func()
		reason  backend.Reason
	}{
		{name: "wrong secret (7000215)", secret: "not-the-secret", reason: backend.ReasonSecretInvalid},
		{name: "secret id given (7000215)", secret: c.secret.KeyID, reason: backend.ReasonSecretInvalid},
		{name: "expired secret (7000222)", secret: expiring.Text, reason: backend.ReasonSecretExpired},
		{name: "unknown application (700016)", client: "00000000-0000-4000-8000-00000000dead", reason: backend.ReasonAppNotFound},
		{name: "unknown tenant (90002)", tenant: "fabrikam.onmicrosoft.com", reason: backend.ReasonTenantNotFound},
		{name: "disabled application (70001)", prepare: func() { require.NoError(t, c.auth.SetAppDisabled(lcClient, true)) }, reason: backend.ReasonAppDisabled},
		{name: "conditional access (53003)", prepare: func() { require.NoError(t, c.auth.FailNextSignIns(10, 53003)) }, reason: backend.ReasonSignInBlocked},
		{name: "temporarily unavailable (90033)", prepare: func() { require.NoError(t, c.auth.FailNextSignIns(10, 90033)) }, reason: backend.ReasonSignInUnavailable},
		{name: "throttled (90055)", prepare: func() { require.NoError(t, c.auth.FailNextSignIns(10, 90055)) }, reason: backend.ReasonSignInThrottled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prepare != nil {
				tc.prepare()
			}
			t.Cleanup(func() {
				require.NoError(t, c.auth.SetAppDisabled(lcClient, false))
				c.auth.ClearSignInFaults()
			})
			tenant, client, secret := or(tc.tenant, lcTenant), or(tc.client, lcClient), or(tc.secret, c.secret.Text)
			ch := tenantCheck(t, dir, c.driver(t, tenant, client, secret))
			assert.Equal(t, essentials365.CheckFail, ch.Status)
			assert.Equal(t, tc.reason, ch.Reason, ch.Found)
			assert.NotEmpty(t, ch.Advice)
			var se *backend.SignInError
			if assert.ErrorAs(t, ch.Err, &se) {
				assert.NotZero(t, se.AADSTS)
			}
		})
	}

	// No answer at all: the sign-in service's address refuses connections.
	closed := httptest.NewTLSServer(http.NotFoundHandler())
	closed.Close()
	ch = tenantCheck(t, dir, driverAt(t, closed, c.graph.URL, lcTenant, lcClient, c.secret.Text))
	assert.Equal(t, essentials365.CheckFail, ch.Status)
	assert.Equal(t, backend.ReasonSignInNetwork, ch.Reason, ch.Found)
	assert.Contains(t, ch.Advice, "Internet connection")
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestCheckRolesAndSyncThroughGraph checks the permission and directory
// sync entries with what the Graph driver reads from the token and the
// organization.
func TestCheckRolesAndSyncThroughGraph(t *testing.T) {
	c := newCloud(t)
	require.NoError(t, c.auth.SetRoles(lcClient, "User.ReadWrite.All", "Organization.Read.All", "LicenseAssignment.Read.All"))
	i, err := essentials365.Open(t.Context(), memory.NewDirectory(nil), c.driver(t, lcTenant, lcClient, c.secret.Text), &essentials365.Options{Retry: fastRetry})
	require.NoError(t, err)
	rep, err := i.Check(t.Context())
	require.NoError(t, err)
	perm, _ := rep.Get(essentials365.CheckPermissions)
	assert.Equal(t, essentials365.CheckFail, perm.Status)
	assert.Equal(t, []string{"User-PasswordProfile.ReadWrite.All"}, rep.MissingPermissions[essentials365.FeaturePasswords])
	assert.Equal(t, []string{"LicenseAssignment.ReadWrite.All"}, rep.MissingPermissions[essentials365.FeatureLicenses])
	assert.Equal(t, lcClient, rep.ClientID)
	clock, _ := rep.Get(essentials365.CheckClock)
	assert.Equal(t, essentials365.CheckPass, clock.Status, "Graph's Date header is read: %s", clock.Found)
	assert.Contains(t, clock.Found, "the tenant")

	c.mem.SetDirectorySync(true, time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC))
	require.NoError(t, c.auth.SetRoles(lcClient, memory.DefaultRoles()...))
	// Tokens are cached for their lifetime: a new credential gets the new
	// roles at once.
	i, err = essentials365.Open(t.Context(), memory.NewDirectory(nil), c.driver(t, lcTenant, lcClient, c.secret.Text), &essentials365.Options{Retry: fastRetry})
	require.NoError(t, err)
	rep, err = i.Check(t.Context())
	require.NoError(t, err)
	sync, _ := rep.Get(essentials365.CheckDirectorySync)
	assert.Equal(t, essentials365.CheckFail, sync.Status)
	assert.Contains(t, sync.Found, "2026-02-03T04:05:06Z")
	perm, _ = rep.Get(essentials365.CheckPermissions)
	assert.Equal(t, essentials365.CheckPass, perm.Status, "a new token carries the new roles: %s", perm.Found)
}

// lifecycle runs Integrate, a feature write, Disable with the tenant
// unreachable, and the proof that nothing more reaches the cloud, over dir
// and the Graph driver through the emulator.
func lifecycle(t *testing.T, dir backend.Directory, sam string) {
	c := newCloud(t)
	store := state.NewMemoryStore()
	opts := &essentials365.Options{Store: store, Retry: fastRetry, Mail: c.mem.Mail(), Accounts: &accounts.Options{UsageLocation: "FR"}}
	good := c.driver(t, lcTenant, lcClient, c.secret.Text)
	i, err := essentials365.Open(t.Context(), dir, good, opts)
	require.NoError(t, err)
	res, err := i.Integrate(t.Context())
	require.NoError(t, err, "%v", res)
	assert.Equal(t, lcTenant, res.Record.TenantID)
	assert.Equal(t, "contoso.com", res.Record.DefaultDomain)
	assert.Equal(t, lcClient, res.Record.ClientID)

	_, err = i.Accounts().CreateUser(t.Context(), accounts.NewUser{SAMAccountName: sam, GivenName: "Lucie", Surname: "Martin",
		DisplayName: "Lucie Martin", Password: "Vq9#rT2!wKz", Online: &accounts.OnlineChoice{NewOnlineID: sam + "@contoso.com",
			Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}}}})
	require.NoError(t, err)
	t.Cleanup(func() {
		if u, err := dir.GetUserBySAMAccountName(context.Background(), sam); err == nil {
			_ = dir.DeleteUser(context.Background(), u.ID)
		}
	})
	st, err := i.Status(t.Context())
	require.NoError(t, err)
	require.Len(t, st.Subscriptions, 1)
	assert.Equal(t, 1, st.Subscriptions[0].Used)

	// A pending password update: the cloud refuses the push.
	require.NoError(t, c.auth.SetRoles(lcClient, "User.ReadWrite.All", "Organization.Read.All"))
	// A refusal that a retry cannot cure is an error, and the update stays
	// pending (never lost).
	sync, err := i.Accounts().SetPassword(t.Context(), sam, "Hn4$pL8@xDz")
	require.ErrorIs(t, err, backend.ErrPermissionDenied)
	require.Equal(t, accounts.SyncPending, sync)
	require.NoError(t, c.auth.SetRoles(lcClient, memory.DefaultRoles()...))

	// Disable with a tenant that refuses every connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	deadLogin := httptest.NewTLSServer(http.NotFoundHandler())
	deadLogin.Close()
	offline, err := essentials365.Open(t.Context(), dir, driverAt(t, deadLogin, deadAddr, lcTenant, lcClient, c.secret.Text), opts)
	require.NoError(t, err)
	dis, err := offline.Disable(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, dis.DiscardedPasswords)
	assert.Equal(t, essentials365.StateDisabled, dis.Record.State)

	// Afterwards, with the tenant reachable again, no feature writes.
	before := c.emu.Stats().WritesAccepted
	i, err = essentials365.Open(t.Context(), dir, good, opts)
	require.NoError(t, err)
	assert.Equal(t, essentials365.StateDisabled, i.State())
	_, err = i.Accounts().SetPassword(t.Context(), sam, "Mw3%cB6&yFz")
	assert.Equal(t, essentials365.ReasonIntegrationDisabled, backend.ReasonOf(err))
	assert.Equal(t, essentials365.ReasonIntegrationDisabled, backend.ReasonOf(i.Accounts().Disable(t.Context(), sam)))
	assert.Equal(t, essentials365.ReasonIntegrationDisabled, backend.ReasonOf(i.Accounts().Delete(t.Context(), sam)))
	_, err = i.Reconcile(t.Context(), &accounts.ReconcileOptions{Full: true})
	assert.Equal(t, essentials365.ReasonIntegrationDisabled, backend.ReasonOf(err))
	n, err := i.Accounts().RetryPendingPasswords(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, before, c.emu.Stats().WritesAccepted, "no cloud write after Disable")
	ou, err := c.mem.GetUser(t.Context(), sam+"@contoso.com")
	require.NoError(t, err)
	assert.True(t, ou.AccountEnabled, "the cloud is left as it was")
	assert.True(t, ou.Licensed())

	// Integrating again adopts the same account through the mapping.
	res, err = i.Integrate(t.Context())
	require.NoError(t, err)
	assert.Nil(t, res.Import)
	us, err := i.Accounts().Status(t.Context(), sam)
	require.NoError(t, err)
	assert.Equal(t, ou.ID, us.OnlineUserID)
}

func TestLifecycleMemoryDirectoryAndGraph(t *testing.T) {
	lifecycle(t, memory.NewDirectory(&memory.DirectoryOptions{DNSName: "contoso.local"}), "lmartin")
}

// TestLifecycleSambaAndGraph runs the lifecycle over the Samba DC and the
// Graph driver through the emulator.
func TestLifecycleSambaAndGraph(t *testing.T) {
	dc := sambatest.Settings(t)
	d, err := adldap.Open(t.Context(), adldap.Config{URL: dc.URL, User: dc.User, Password: dc.Password, BaseDN: dc.BaseDN, CAFile: dc.CAFile})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	c := newCloud(t)
	i, err := essentials365.Open(t.Context(), d, c.driver(t, lcTenant, lcClient, c.secret.Text), &essentials365.Options{Retry: fastRetry, Mail: c.mem.Mail()})
	require.NoError(t, err)
	rep, err := i.Check(t.Context())
	require.NoError(t, err)
	for _, ch := range rep.Checks {
		if ch.ID == essentials365.CheckOtherDirectory {
			continue
		}
		assert.Equal(t, essentials365.CheckPass, ch.Status, "%s: %s", ch.ID, ch.Found)
	}
	lifecycle(t, d, "e365lc"+time.Now().Format("150405"))
}

// policyNoRetry turns off azcore's own retries of the token request, so a
// failure reaches the check at once (the SDK's retry layer decides).
var policyNoRetry = policy.RetryOptions{MaxRetries: -1}

// TestRotateSecretThroughGraph has the application add a secret to itself
// through Graph, switch to it and remove the old one; a rotation whose
// new secret does not work keeps the old one.
func TestRotateSecretThroughGraph(t *testing.T) {
	c := newCloud(t)
	opts := &essentials365.Options{Retry: fastRetry, Mail: c.mem.Mail()}

	// Without Application.ReadWrite.OwnedBy the rotation is refused before
	// any change.
	require.NoError(t, c.auth.SetRoles(lcClient, "User.ReadWrite.All", "Organization.Read.All", "Domain.Read.All", "LicenseAssignment.ReadWrite.All", "User-PasswordProfile.ReadWrite.All"))
	weak, err := essentials365.Open(t.Context(), memory.NewDirectory(nil), c.driver(t, lcTenant, lcClient, c.secret.Text), opts)
	require.NoError(t, err)
	_, err = weak.Integrate(t.Context())
	require.NoError(t, err)
	_, err = weak.RotateSecret(t.Context(), essentials365.RotateOptions{
		NewTenant: func(secret string) (backend.Tenant, error) { return c.driver(t, lcTenant, lcClient, secret), nil }})
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, essentials365.ReasonPermissionMissing, backend.ReasonOf(err))
	assert.Equal(t, []string{c.secret.KeyID}, c.auth.Secrets(lcClient), "no secret was added")
	require.NoError(t, c.auth.SetRoles(lcClient, memory.DefaultRoles()...))

	i, err := essentials365.Open(t.Context(), memory.NewDirectory(nil), c.driver(t, lcTenant, lcClient, c.secret.Text), &essentials365.Options{Retry: fastRetry, Mail: c.mem.Mail()})
	require.NoError(t, err)
	_, err = i.Integrate(t.Context())
	require.NoError(t, err)

	// A new secret that cannot work (the driver is built for another
	// client): refused, and the new secret is removed again.
	_, err = i.RotateSecret(t.Context(), essentials365.RotateOptions{OldKeyID: c.secret.KeyID,
		NewTenant: func(secret string) (backend.Tenant, error) {
			return c.driver(t, lcTenant, "00000000-0000-4000-8000-00000000dead", secret), nil
		}})
	require.Error(t, err)
	assert.Equal(t, []string{c.secret.KeyID}, c.auth.Secrets(lcClient), "only the old secret is left")

	sec, err := i.RotateSecret(t.Context(), essentials365.RotateOptions{OldKeyID: c.secret.KeyID, Store: true,
		NewTenant: func(secret string) (backend.Tenant, error) { return c.driver(t, lcTenant, lcClient, secret), nil }})
	require.NoError(t, err)
	assert.Equal(t, []string{sec.KeyID}, c.auth.Secrets(lcClient), "the old secret is removed")
	stored, err := i.StoredSecret(t.Context())
	require.NoError(t, err)
	assert.Equal(t, sec.Text, stored)
	assert.NotContains(t, sec.String(), sec.Text, "String hides the secret")
	// The integration now signs in with the new secret.
	_, err = i.Accounts().Licenses(t.Context())
	require.NoError(t, err)
	ch := tenantCheck(t, memory.NewDirectory(nil), c.driver(t, lcTenant, lcClient, c.secret.Text))
	assert.Equal(t, backend.ReasonSecretInvalid, ch.Reason, "the old secret no longer signs in")
}
