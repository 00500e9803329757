package memory_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/internal/testclock"
)

// newTenantClock returns the test clock the tenant tests start from.
func newTenantClock() *testclock.Clock {
	return testclock.At(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
}

const (
	tenantTestSKUID = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"
	tenantTestPlanA = "9aaf7827-d63c-4b61-89c3-182f06f82e5c"
	tenantTestPlanB = "5dbe027f-2339-4123-9542-606e4d348a72"
	tenantPassword  = "Sp4ring!Tide"
)

// newTestTenant returns a tenant with contoso.com verified and default, a
// 3-seat SKU and a small page size so that paging is exercised.
func newTestTenant(t testing.TB, clk *testclock.Clock) (*memory.Tenant, backend.SKU) {
	t.Helper()
	tn := memory.NewTenant(&memory.TenantOptions{Now: clk.Now, PageSize: 2})
	require.NoError(t, tn.AddVerifiedDomain("contoso.com", true))
	sku, err := tn.AddSKU(backend.SKU{
		SKUID:      tenantTestSKUID,
		PartNumber: "SPB",
		Enabled:    3,
		ServicePlans: []backend.ServicePlan{
			{ID: tenantTestPlanA, Name: "EXCHANGE_S_STANDARD"},
			{ID: tenantTestPlanB, Name: "SHAREPOINTSTANDARD"},
		},
	})
	require.NoError(t, err)
	return tn, sku
}

type tenantHarness struct{}

func (tenantHarness) MakeTenant(_ context.Context, t *testing.T) backendtest.TenantFixture {
	clk := newTenantClock()
	tn, sku := newTestTenant(t, clk)
	return backendtest.TenantFixture{
		Tenant:               tn,
		VerifiedDomain:       "contoso.com",
		InitialDomain:        "contoso.onmicrosoft.com",
		SKU:                  sku,
		PortalPasswordChange: tn.ChangePasswordInPortal,
		AdvanceClock:         clk.Advance,
		PublishVerification:  tn.PublishVerification,
	}
}

func (tenantHarness) MakeMail(_ context.Context, t *testing.T) backendtest.MailFixture {
	tn, _ := newTestTenant(t, newTenantClock())
	return backendtest.MailFixture{Mail: tn.Mail(), Tenant: tn, VerifiedDomain: "contoso.com"}
}

func TestTenantConformance(t *testing.T) {
	backendtest.RunTenantTests(t, tenantHarness{})
}

func TestMailConformance(t *testing.T) {
	backendtest.RunMailTests(t, tenantHarness{})
}

func tenantNewUser(local string) backend.NewOnlineUser {
	return backend.NewOnlineUser{
		UserPrincipalName: local + "@contoso.com",
		DisplayName:       "User " + local,
		UsageLocation:     "US",
		Password:          tenantPassword,
	}
}

func TestTenantDefaults(t *testing.T) {
	tn := memory.NewTenant(nil)
	ctx := t.Context()
	org, err := tn.Organization(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Contoso", org.DisplayName)
	_, err = backend.ParseGUID(org.ID)
	require.NoError(t, err)
	ds, err := tn.Domains(ctx)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, backend.Domain{
		Name: "contoso.onmicrosoft.com", IsVerified: true, IsDefault: true, IsInitial: true,
		AuthenticationType: "Managed", SupportedServices: []string{"Email", "OfficeCommunicationsOnline"},
	}, ds[0])

	require.NoError(t, tn.AddVerifiedDomain("Fabrikam.com", true))
	ds, err = tn.Domains(ctx)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	assert.False(t, ds[0].IsDefault, "the initial domain stops being default")
	assert.True(t, ds[1].IsDefault)
	assert.Equal(t, "fabrikam.com", ds[1].Name)
	assert.ErrorIs(t, tn.AddVerifiedDomain("fabrikam.com", false), backend.ErrAlreadyExists)
	assert.ErrorIs(t, tn.AddVerifiedDomain("nodot", false), backend.ErrInvalidArgument)

	custom := memory.NewTenant(&memory.TenantOptions{TenantID: "t-1", DisplayName: "Fabrikam", InitialDomain: "fabrikam.onmicrosoft.com"})
	org, err = custom.Organization(ctx)
	require.NoError(t, err)
	assert.Equal(t, backend.Organization{ID: "t-1", DisplayName: "Fabrikam"}, org)
	sku, err := custom.AddSKU(backend.SKU{SKUID: "ABC", PartNumber: "P", Enabled: 1, ServicePlans: []backend.ServicePlan{{ID: "p1", Name: "X"}}})
	require.NoError(t, err)
	assert.Equal(t, "t-1_abc", sku.ID)
	assert.Equal(t, "Enabled", sku.CapabilityStatus)
	assert.Equal(t, "Success", sku.ServicePlans[0].ProvisioningStatus)
	_, err = custom.AddSKU(backend.SKU{SKUID: "abc", PartNumber: "P"})
	assert.ErrorIs(t, err, backend.ErrAlreadyExists)
	_, err = custom.AddSKU(backend.SKU{PartNumber: "P"})
	assert.ErrorIs(t, err, backend.ErrInvalidArgument)
}

func TestTenantPasswordHelpers(t *testing.T) {
	ctx := t.Context()
	clk := newTenantClock()
	tn, _ := newTestTenant(t, clk)
	u, err := tn.CreateUser(ctx, tenantNewUser("pw"))
	require.NoError(t, err)
	assert.True(t, tn.CheckPassword("PW@contoso.com", tenantPassword))
	assert.False(t, tn.CheckPassword(u.ID, "other"))
	assert.False(t, tn.CheckPassword("nobody@contoso.com", tenantPassword))

	w := tenantLatest(t, tn)
	clk.Advance(time.Minute)
	require.NoError(t, tn.ChangePasswordInPortal(ctx, u.ID, "N3w!Portal"))
	assert.True(t, tn.CheckPassword(u.ID, "N3w!Portal"))
	got, err := tn.GetUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, clk.Now(), got.LastPasswordChange)
	res, err := tn.Changes(ctx, w)
	require.NoError(t, err)
	require.Len(t, res.Changes, 1, "a portal password change shows in Changes")
	assert.Equal(t, u.ID, res.Changes[0].User.ID)

	err = tn.ChangePasswordInPortal(ctx, u.ID, "short")
	assert.Equal(t, backend.ReasonPasswordPolicy, backend.ReasonOf(err))
	err = tn.ChangePasswordInPortal(ctx, "ghost@contoso.com", "N3w!Portal")
	assert.ErrorIs(t, err, backend.ErrNotFound)
}

// tenantLatest drains Changes and returns the watermark.
func tenantLatest(t *testing.T, tn *memory.Tenant) string {
	t.Helper()
	w := ""
	for {
		res, err := tn.Changes(t.Context(), w)
		require.NoError(t, err)
		w = res.Watermark
		if !res.More {
			return w
		}
	}
}

func TestTenantConcurrentUse(t *testing.T) {
	ctx := t.Context()
	tn, sku := newTestTenant(t, newTenantClock())
	require.NoError(t, tn.SetSeats(sku.SKUID, 10))
	const workers, each = 8, 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	var assigned, noSeat int
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				u, err := tn.CreateUser(ctx, tenantNewUser(fmt.Sprintf("w%d-%d", w, i)))
				if !assert.NoError(t, err) {
					return
				}
				_, err = tn.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: sku.SKUID}}, nil)
				mu.Lock()
				switch {
				case err == nil:
					assigned++
				case backend.ReasonOf(err) == backend.ReasonNoFreeLicense:
					noSeat++
				default:
					t.Errorf("unexpected error %v", err)
				}
				mu.Unlock()
				_ = tn.Mail().AddAlias(ctx, u.UserPrincipalName, fmt.Sprintf("shared%d@contoso.com", i))
				for range tn.ListUsers(ctx) {
					break
				}
				_, _ = tn.Changes(ctx, "")
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 10, assigned, "never more seats than enabled")
	assert.Equal(t, workers*each-10, noSeat)
	skus, err := tn.SubscribedSKUs(ctx)
	require.NoError(t, err)
	assert.Equal(t, 10, skus[0].Consumed)
	n := 0
	for _, err := range tn.ListUsers(ctx) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, workers*each, n)
	for i := range each {
		owners := 0
		for u := range tn.ListUsers(ctx) {
			aliases, err := tn.Mail().ListAliases(ctx, u.UserPrincipalName)
			require.NoError(t, err)
			if slices.Contains(aliases, fmt.Sprintf("shared%d@contoso.com", i)) {
				owners++
			}
		}
		assert.Equal(t, 1, owners, "an alias has exactly one owner")
	}
}
