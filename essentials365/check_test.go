package essentials365_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

func TestCheckPassesOnAHealthyCompany(t *testing.T) {
	c := newCompany(t, nil)
	rep, err := c.open().Check(c.ctx)
	require.NoError(t, err)
	for _, ch := range rep.Checks {
		assert.Equal(t, essentials365.CheckPass, ch.Status, "%s: %s", ch.ID, ch.Found)
	}
	assert.Len(t, rep.Checks, 9, "one entry per check")
	assert.True(t, rep.OK())
	assert.Equal(t, tenantID, rep.TenantID)
	assert.Equal(t, "contoso.local", rep.Domain)
	assert.Equal(t, "dc1.contoso.local", rep.Server)
	assert.True(t, rep.ExchangeOnline)
	assert.Empty(t, tenantWrites(c.tenant), "the check writes nothing")
}

// failing runs the check and returns the entry of id, asserting its status.
func failing(t *testing.T, c *company, id essentials365.CheckID, want essentials365.CheckStatus) essentials365.Check {
	t.Helper()
	i := c.open()
	rep, err := i.Check(c.ctx)
	require.NoError(t, err)
	ch, ok := rep.Get(id)
	require.True(t, ok)
	require.Equal(t, want, ch.Status, "%s: %s", ch.ID, ch.Found)
	if want != essentials365.CheckPass {
		assert.NotEmpty(t, ch.Advice, "a check that does not pass says what to do")
	}
	if want == essentials365.CheckFail {
		// Integrate refuses and changes nothing.
		res, err := i.Integrate(c.ctx)
		require.ErrorIs(t, err, backend.ErrFailedPrecondition)
		assert.Equal(t, essentials365.ReasonRequirementsNotMet, backend.ReasonOf(err))
		var re *essentials365.RequirementsError
		require.True(t, errors.As(err, &re))
		assert.Contains(t, re.Report.Failed(), ch)
		assert.Equal(t, essentials365.StateNotIntegrated, res.Record.State)
		rec, err := i.Record(c.ctx)
		require.NoError(t, err)
		assert.Equal(t, essentials365.StateNotIntegrated, rec.State)
		keys, err := c.store.List(c.ctx, "")
		require.NoError(t, err)
		assert.Empty(t, keys, "nothing recorded")
		assert.Empty(t, tenantWrites(c.tenant))
		_, err = i.Accounts().CreateUser(c.ctx, accountsUser("ann"))
		require.Error(t, err, "the features stay closed")
		_, err = c.dir.GetUserBySAMAccountName(c.ctx, "ann")
		require.ErrorIs(t, err, backend.ErrNotFound, "nothing was written to the directory")
		assert.Empty(t, tenantWrites(c.tenant))
	}
	return ch
}

func TestCheckDomainControllers(t *testing.T) {
	t.Run("two", func(t *testing.T) {
		c := newCompany(t, &memory.DirectoryOptions{DomainControllers: 2})
		ch := failing(t, c, essentials365.CheckDomainControllers, essentials365.CheckFail)
		assert.Equal(t, essentials365.ReasonMultipleDomainControllers, ch.Reason)
		assert.Contains(t, ch.Found, "dc2.contoso.local")
	})
	t.Run("two allowed", func(t *testing.T) {
		c := newCompany(t, &memory.DirectoryOptions{DomainControllers: 2})
		c.opts.AllowMultipleDomainControllers = true
		ch := failing(t, c, essentials365.CheckDomainControllers, essentials365.CheckWarn)
		assert.Equal(t, essentials365.ReasonMultipleDomainControllers, ch.Reason)
		i := c.open()
		res, err := i.Integrate(c.ctx)
		require.NoError(t, err, "a warning does not stop Integrate")
		assert.Equal(t, essentials365.CheckDomainControllers, res.Record.Warnings[0].ID, "the warning is recorded")
	})
	t.Run("member server", func(t *testing.T) {
		c := newCompany(t, &memory.DirectoryOptions{NotDomainController: true})
		ch := failing(t, c, essentials365.CheckDomainControllers, essentials365.CheckFail)
		assert.Equal(t, essentials365.ReasonNotDomainController, ch.Reason)
	})
	t.Run("unreachable", func(t *testing.T) {
		c := newCompany(t, nil)
		c.dir.AddFault("Info", unavailable)
		ch := failing(t, c, essentials365.CheckDomainControllers, essentials365.CheckFail)
		assert.Equal(t, essentials365.ReasonDirectoryUnreachable, ch.Reason)
	})
}

func TestCheckMappingAttribute(t *testing.T) {
	c := newCompany(t, nil)
	c.dir.SetMappingAttributeReadOnly(true)
	ch := failing(t, c, essentials365.CheckMappingAttribute, essentials365.CheckFail)
	assert.Equal(t, essentials365.ReasonMappingAttributeReadOnly, ch.Reason)

	c = newCompany(t, nil)
	c.dir.SetMappingAttributeMissing(true)
	ch = failing(t, c, essentials365.CheckMappingAttribute, essentials365.CheckFail)
	assert.Equal(t, essentials365.ReasonMappingAttributeMissing, ch.Reason)
}

func TestCheckTenantReachable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		reason backend.Reason
	}{
		{"no answer", &backend.Error{Kind: backend.Unavailable, Msg: "Microsoft Graph did not answer",
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, backend.ReasonSignInNetwork},
		{"service unavailable", &backend.Error{Kind: backend.Unavailable, Msg: "503 Service Unavailable"}, backend.ReasonSignInUnavailable},
		{"expired secret", &backend.Error{Kind: backend.PermissionDenied, Reason: backend.ReasonSecretExpired,
			Err: &backend.SignInError{StatusCode: 401, Code: "invalid_client", AADSTS: 7000222}}, backend.ReasonSecretExpired},
		{"unknown app", &backend.Error{Kind: backend.FailedPrecondition, Reason: backend.ReasonAppNotFound}, backend.ReasonAppNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCompany(t, nil)
			c.tenant.AddFault("*", func(_ context.Context, _, _ string) error { return tc.err })
			ch := failing(t, c, essentials365.CheckTenantReachable, essentials365.CheckFail)
			assert.Equal(t, tc.reason, ch.Reason)
			rep, err := c.open().Check(c.ctx)
			require.NoError(t, err)
			perm, _ := rep.Get(essentials365.CheckPermissions)
			assert.Equal(t, essentials365.CheckSkipped, perm.Status, "what needs the tenant is skipped, not failed twice")
		})
	}
}

func TestCheckPermissions(t *testing.T) {
	c := newCompany(t, nil)
	c.tenant.SetGrantedRoles("User.ReadWrite.All", "Organization.Read.All", "Domain.ReadWrite.All")
	ch := failing(t, c, essentials365.CheckPermissions, essentials365.CheckFail)
	assert.Equal(t, essentials365.ReasonPermissionMissing, ch.Reason)
	assert.Contains(t, ch.Found, "passwords needs User-PasswordProfile.ReadWrite.All")
	assert.Contains(t, ch.Found, "licenses needs LicenseAssignment.ReadWrite.All")
	rep, err := c.open().Check(c.ctx)
	require.NoError(t, err)
	assert.Equal(t, map[essentials365.Feature][]string{
		essentials365.FeaturePasswords:      {"User-PasswordProfile.ReadWrite.All"},
		essentials365.FeatureLicenses:       {"LicenseAssignment.ReadWrite.All"},
		essentials365.FeatureSecretRotation: {"Application.ReadWrite.OwnedBy"},
	}, rep.MissingPermissions)

	// Only optional features lacking: a warning.
	c = newCompany(t, nil)
	c.tenant.SetGrantedRoles("Directory.ReadWrite.All", "User-PasswordProfile.ReadWrite.All")
	ch = failing(t, c, essentials365.CheckPermissions, essentials365.CheckWarn)
	assert.Contains(t, ch.Found, "secret-rotation needs Application.ReadWrite.OwnedBy")
	assert.NotContains(t, ch.Found, "domains needs", "Directory.ReadWrite.All covers domains")
}

func TestCheckDirectorySync(t *testing.T) {
	c := newCompany(t, nil)
	c.tenant.SetDirectorySync(true, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ch := failing(t, c, essentials365.CheckDirectorySync, essentials365.CheckFail)
	assert.Equal(t, essentials365.ReasonDirectorySyncEnabled, ch.Reason)
	assert.Contains(t, ch.Found, "2026-01-01")
}

func TestCheckOtherDirectory(t *testing.T) {
	c := newCompany(t, nil)
	_, err := c.tenant.CreateUser(c.ctx, backend.NewOnlineUser{UserPrincipalName: "zoe@contoso.com", DisplayName: "Zoe",
		Password: "Xy9!long-enough", ImmutableID: backend.NewGUID().ImmutableID()})
	require.NoError(t, err)
	_, err = c.tenant.CreateUser(c.ctx, backend.NewOnlineUser{UserPrincipalName: "bob@contoso.com", DisplayName: "Bob", Password: "Xy9!long-enough"})
	require.NoError(t, err)
	c.tenant.ResetCalls()
	ch := failing(t, c, essentials365.CheckOtherDirectory, essentials365.CheckWarn)
	assert.Equal(t, essentials365.ReasonAnchoredElsewhere, ch.Reason)
	assert.Contains(t, ch.Found, "zoe@contoso.com")
	rep, err := c.open().Check(c.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.ImportCandidates, "bob can be imported; zoe belongs to another directory")
}

func TestCheckSubscriptionAndExchange(t *testing.T) {
	c := newCompany(t, nil)
	require.NoError(t, c.tenant.SetSeats(e3SKU, 0))
	ch := failing(t, c, essentials365.CheckSubscription, essentials365.CheckFail)
	assert.Equal(t, essentials365.ReasonNoSubscription, ch.Reason)

	c = newCompany(t, nil)
	c.opts.Mail = nil
	ch = failing(t, c, essentials365.CheckExchange, essentials365.CheckWarn)
	assert.Contains(t, ch.Found, "no mail driver")

	c = newCompany(t, nil)
	c.tenant = memory.NewTenant(&memory.TenantOptions{TenantID: tenantID, Now: c.clock.Now})
	_, err := c.tenant.AddSKU(backend.SKU{SKUID: "c42b9cae-ea4f-4ab7-9717-81576235ccac", PartNumber: "DEVELOPERPACK", Enabled: 1,
		ServicePlans: []backend.ServicePlan{{ID: "5dbe027f-2339-4123-9542-606e4d348a72", Name: "SHAREPOINTENTERPRISE"}}})
	require.NoError(t, err)
	ch = failing(t, c, essentials365.CheckExchange, essentials365.CheckWarn)
	assert.Equal(t, essentials365.ReasonNoExchange, ch.Reason)
}

func TestCheckClock(t *testing.T) {
	c := newCompany(t, nil)
	c.dir.SetClockOffset(6 * time.Minute)
	ch := failing(t, c, essentials365.CheckClock, essentials365.CheckFail)
	assert.Equal(t, essentials365.ReasonClockSkew, ch.Reason)
	assert.Contains(t, ch.Advice, "the domain controller")

	c = newCompany(t, nil)
	c.tenant.SetClockOffset(-10 * time.Minute)
	ch = failing(t, c, essentials365.CheckClock, essentials365.CheckFail)
	assert.Contains(t, ch.Advice, "the tenant")

	c = newCompany(t, nil)
	c.dir.SetClockOffset(4 * time.Minute)
	failing(t, c, essentials365.CheckClock, essentials365.CheckPass)
}
