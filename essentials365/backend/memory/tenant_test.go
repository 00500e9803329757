package memory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

func TestTenantFaultInjection(t *testing.T) {
	ctx := t.Context()
	throttled := &backend.Error{Kind: backend.Throttled, Op: "CreateUser", RetryAfter: 2 * time.Second, Msg: "Too many requests"}

	t.Run("FailNext single calls", func(t *testing.T) {
		tn, _ := newTestTenant(t, newTenantClock())
		tn.FailNext("CreateUser", 2, throttled)
		for i := range 2 {
			_, err := tn.CreateUser(ctx, tenantNewUser(fmt.Sprintf("f%d", i)))
			require.ErrorIs(t, err, backend.ErrThrottled)
			d, ok := backend.RetryAfter(err)
			require.True(t, ok)
			assert.Equal(t, 2*time.Second, d)
		}
		_, err := tn.CreateUser(ctx, tenantNewUser("f2"))
		require.NoError(t, err, "only the next two calls fail")
		_, err = tn.GetUser(ctx, "f0@contoso.com")
		assert.ErrorIs(t, err, backend.ErrNotFound, "a failed call changes nothing")
	})

	t.Run("FailNext per batch item", func(t *testing.T) {
		tn, _ := newTestTenant(t, newTenantClock())
		tn.FailNext("CreateUser", 2, throttled)
		users, errs := tn.CreateUsers(ctx, []backend.NewOnlineUser{tenantNewUser("b0"), tenantNewUser("b1"), tenantNewUser("b2")})
		require.ErrorIs(t, errs[0], backend.ErrThrottled)
		require.ErrorIs(t, errs[1], backend.ErrThrottled)
		require.NoError(t, errs[2])
		assert.Equal(t, "b2@contoso.com", users[2].UserPrincipalName)
		assert.Equal(t, 3, tn.CountCalls("CreateUser"))
		assert.Equal(t, 1, tn.CountCalls("CreateUsers"))
	})

	t.Run("AssignLicensesMany per item", func(t *testing.T) {
		tn, sku := newTestTenant(t, newTenantClock())
		a, err := tn.CreateUser(ctx, tenantNewUser("la"))
		require.NoError(t, err)
		b, err := tn.CreateUser(ctx, tenantNewUser("lb"))
		require.NoError(t, err)
		tn.FailNext("AssignLicenses", 1, backend.Errorf(backend.Unavailable, "AssignLicenses", "", "service busy"))
		add := []backend.LicenseAssignment{{SKUID: sku.SKUID}}
		out, errs := tn.AssignLicensesMany(ctx, []backend.LicenseChange{{UserID: a.ID, Add: add}, {UserID: b.ID, Add: add}})
		require.ErrorIs(t, errs[0], backend.ErrUnavailable)
		require.NoError(t, errs[1])
		assert.False(t, out[0].Licensed())
		assert.True(t, out[1].Licensed())
		assert.Equal(t, 2, tn.CountCalls("AssignLicenses"))
	})

	t.Run("whole batch fault", func(t *testing.T) {
		tn, _ := newTestTenant(t, newTenantClock())
		tn.FailNext("CreateUsers", 1, throttled)
		_, errs := tn.CreateUsers(ctx, []backend.NewOnlineUser{tenantNewUser("w0"), tenantNewUser("w1")})
		for _, err := range errs {
			assert.ErrorIs(t, err, backend.ErrThrottled)
		}
		assert.Zero(t, tn.CountCalls("CreateUser"), "no item was attempted")
	})

	t.Run("AddFault by key", func(t *testing.T) {
		tn, _ := newTestTenant(t, newTenantClock())
		tn.AddFault("GetUser", func(_ context.Context, _, key string) error {
			if strings.HasPrefix(key, "bad") {
				return backend.Errorf(backend.PermissionDenied, "GetUser", key, "Insufficient privileges to complete the operation.")
			}
			return nil
		})
		_, err := tn.CreateUser(ctx, tenantNewUser("good"))
		require.NoError(t, err)
		_, err = tn.GetUser(ctx, "good@contoso.com")
		require.NoError(t, err)
		for range 2 {
			_, err = tn.GetUser(ctx, "bad@contoso.com")
			assert.ErrorIs(t, err, backend.ErrPermissionDenied, "a persistent fault applies to every call")
		}
		tn.ClearFaults()
		_, err = tn.GetUser(ctx, "bad@contoso.com")
		assert.ErrorIs(t, err, backend.ErrNotFound)
	})

	t.Run("wildcard and ListUsers", func(t *testing.T) {
		tn, _ := newTestTenant(t, newTenantClock())
		tn.FailNext("*", 1, backend.Errorf(backend.Unavailable, "", "", "down"))
		var errs []error
		for _, err := range tn.ListUsers(ctx) {
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], backend.ErrUnavailable)
	})

	t.Run("mail faults", func(t *testing.T) {
		tn, _ := newTestTenant(t, newTenantClock())
		_, err := tn.CreateUser(ctx, tenantNewUser("m"))
		require.NoError(t, err)
		tn.Mail().FailNext("AddAlias", 1, backend.Errorf(backend.Throttled, "AddAlias", "", "slow down"))
		assert.ErrorIs(t, tn.Mail().AddAlias(ctx, "m@contoso.com", "m2@contoso.com"), backend.ErrThrottled)
		require.NoError(t, tn.Mail().AddAlias(ctx, "m@contoso.com", "m2@contoso.com"))
		assert.Equal(t, 2, tn.Mail().CountCalls("AddAlias"))
		for _, c := range tn.Calls() {
			assert.NotEqual(t, "AddAlias", c.Op, "mail and tenant keep separate logs")
		}
	})

	t.Run("unknown operations are refused", func(t *testing.T) {
		tn := memory.NewTenant(nil)
		assert.PanicsWithValue(t, "memory: Tenant.FailNext: \"CreatUser\" is not an operation of the Tenant; use one of the memory.Op constants: "+
			"Organization, ListUsers, GetUser, GetUserByImmutableID, CreateUser, CreateUsers, UpdateUser, DeleteUser, RestoreUser, "+
			"ListDeletedUsers, SubscribedSKUs, AssignLicenses, AssignLicensesMany, Domains, Changes, ChangePasswordInPortal, AddDomain, "+
			"VerificationRecords, ServiceConfigurationRecords, VerifyDomain, DeleteDomain",
			func() { tn.FailNext("CreatUser", 1, assert.AnError) })
		assert.Panics(t, func() { tn.AddFault("AddAlias", nil) }, "a Mail operation is not the Tenant's")
		assert.Panics(t, func() { tn.Mail().FailNext(memory.OpCreateUser, 1, assert.AnError) })
		assert.Panics(t, func() { memory.NewDirectory(nil).FailNext(memory.OpSubscribedSKUs, 1, assert.AnError) })
		assert.NotPanics(t, func() {
			tn.FailNext(memory.OpCreateUser, 1, assert.AnError)
			tn.FailNext(memory.OpAny, 1, assert.AnError)
			memory.NewDirectory(nil).FailNext(memory.OpSetOnlineAccount, 1, assert.AnError)
		})
	})
}

func TestTenantCallLog(t *testing.T) {
	ctx := t.Context()
	tn, sku := newTestTenant(t, newTenantClock())
	u, err := tn.CreateUser(ctx, tenantNewUser("log"))
	require.NoError(t, err)
	_, err = tn.GetUser(ctx, "missing@contoso.com")
	require.Error(t, err)
	_, err = tn.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: sku.SKUID}}, nil)
	require.NoError(t, err)

	calls := tn.Calls()
	require.Len(t, calls, 3)
	assert.Equal(t, memory.Call{Op: "CreateUser", Key: "log@contoso.com"}, calls[0])
	assert.Equal(t, "GetUser", calls[1].Op)
	assert.ErrorIs(t, calls[1].Err, backend.ErrNotFound)
	assert.Equal(t, memory.Call{Op: "AssignLicenses", Key: u.ID}, calls[2])

	calls[0].Op = "tampered"
	assert.Equal(t, "CreateUser", tn.Calls()[0].Op, "Calls returns a copy")

	tn.ResetCalls()
	assert.Empty(t, tn.Calls())
	assert.False(t, tn.CheckPassword(u.ID, "wrong"))
	assert.Empty(t, tn.Calls(), "CheckPassword is not a recorded call")
}

func TestTenantPurgeIsLazyAndClockDriven(t *testing.T) {
	ctx := t.Context()
	clk := newTenantClock()
	tn, sku := newTestTenant(t, clk)
	u, err := tn.CreateUser(ctx, tenantNewUser("old"))
	require.NoError(t, err)
	_, err = tn.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: sku.SKUID}}, nil)
	require.NoError(t, err)
	require.NoError(t, tn.Mail().AddAlias(ctx, u.UserPrincipalName, "old.alias@contoso.com"))
	deletedAt := clk.Now()
	require.NoError(t, tn.DeleteUser(ctx, u.ID))

	deleted, err := tn.ListDeletedUsers(ctx)
	require.NoError(t, err)
	require.Len(t, deleted, 1)
	assert.Equal(t, deletedAt, deleted[0].DeletedAt)

	clk.Advance(memory.TenantRetention - time.Second)
	restored, err := tn.RestoreUser(ctx, u.ID)
	require.NoError(t, err, "restorable until the 30th day")
	assert.True(t, restored.Licensed())
	aliases, err := tn.Mail().ListAliases(ctx, u.UserPrincipalName)
	require.NoError(t, err)
	assert.Empty(t, aliases, "deleting a user removed its aliases")

	require.NoError(t, tn.DeleteUser(ctx, u.ID))
	clk.Advance(memory.TenantRetention)
	_, err = tn.RestoreUser(ctx, u.ID)
	assert.ErrorIs(t, err, backend.ErrNotFound)
	_, err = tn.CreateUser(ctx, tenantNewUser("old"))
	require.NoError(t, err, "the purged user's UPN is free")
}

func TestTenantChangesPaging(t *testing.T) {
	ctx := t.Context()
	tn, _ := newTestTenant(t, newTenantClock())
	for i := range 5 {
		_, err := tn.CreateUser(ctx, tenantNewUser(fmt.Sprintf("p%d", i)))
		require.NoError(t, err)
	}
	var pages, total int
	w := ""
	for {
		res, err := tn.Changes(ctx, w)
		require.NoError(t, err)
		pages++
		total += len(res.Changes)
		assert.LessOrEqual(t, len(res.Changes), 2)
		w = res.Watermark
		if !res.More {
			break
		}
	}
	assert.Equal(t, 3, pages, "five users on pages of two")
	assert.Equal(t, 5, total)

	res, err := tn.Changes(ctx, w)
	require.NoError(t, err)
	assert.Empty(t, res.Changes)
	assert.Equal(t, w, res.Watermark, "a quiet tenant keeps the watermark")

	_, err = tn.Changes(ctx, "bTM2NWRlbHRhLjk5OS4w")
	assert.ErrorIs(t, err, backend.ErrInvalidArgument, "a watermark from the future is rejected")

	// A user deleted before a full round is not reported; one deleted
	// while the round is paged is reported on a later page.
	before, err := tn.GetUser(ctx, "p4@contoso.com")
	require.NoError(t, err)
	require.NoError(t, tn.DeleteUser(ctx, before.ID))
	first, err := tn.Changes(ctx, "")
	require.NoError(t, err)
	require.True(t, first.More)
	require.Len(t, first.Changes, 2)
	seen := first.Changes[0].User
	require.NoError(t, tn.DeleteUser(ctx, seen.ID))
	types := map[string]backend.ChangeType{}
	w = first.Watermark
	for {
		res, err := tn.Changes(ctx, w)
		require.NoError(t, err)
		for _, c := range res.Changes {
			types[c.User.ID] = c.Type
		}
		w = res.Watermark
		if !res.More {
			break
		}
	}
	assert.Equal(t, backend.Deleted, types[seen.ID], "deleted during the round")
	_, reported := types[before.ID]
	assert.False(t, reported, "deleted before the round")
}

func TestTenantLicenseRules(t *testing.T) {
	ctx := t.Context()
	tn, sku := newTestTenant(t, newTenantClock())
	u, err := tn.CreateUser(ctx, tenantNewUser("rules"))
	require.NoError(t, err)
	assert.Empty(t, u.Mail, "no mailbox before a license")
	got, err := tn.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: strings.ToUpper(sku.SKUID), DisabledPlans: []string{tenantTestPlanB}}}, nil)
	require.NoError(t, err)
	assert.Equal(t, u.UserPrincipalName, got.Mail, "an Exchange plan gives the user a mailbox")

	tests := []struct {
		name   string
		add    []backend.LicenseAssignment
		remove []string
		kind   backend.Kind
		reason backend.Reason
	}{
		{"unknown plan", []backend.LicenseAssignment{{SKUID: sku.SKUID, DisabledPlans: []string{"00000000-0000-0000-0000-000000000001"}}}, nil, backend.InvalidArgument, backend.ReasonUnknownServicePlan},
		{"unknown sku to remove", nil, []string{"00000000-0000-0000-0000-000000000002"}, backend.InvalidArgument, backend.ReasonUnknownSKU},
		{"add and remove same sku", []backend.LicenseAssignment{{SKUID: sku.SKUID}}, []string{sku.SKUID}, backend.InvalidArgument, backend.ReasonLicenseConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tn.AssignLicenses(ctx, u.ID, tc.add, tc.remove)
			require.ErrorIs(t, err, backend.ErrInvalidArgument)
			assert.Equal(t, tc.reason, backend.ReasonOf(err))
			after, err := tn.GetUser(ctx, u.ID)
			require.NoError(t, err)
			assert.Equal(t, got.AssignedLicenses, after.AssignedLicenses, "a failed call changes nothing")
		})
	}

	_, err = tn.AssignLicenses(ctx, u.ID, nil, []string{sku.SKUID})
	require.NoError(t, err)
	_, err = tn.AssignLicenses(ctx, u.ID, nil, []string{sku.SKUID})
	assert.Equal(t, backend.ReasonLicenseNotAssigned, backend.ReasonOf(err))

	// Shrinking the subscription below its use leaves no free seat.
	for i := range 3 {
		v, err := tn.CreateUser(ctx, tenantNewUser(fmt.Sprintf("s%d", i)))
		require.NoError(t, err)
		_, err = tn.AssignLicenses(ctx, v.ID, []backend.LicenseAssignment{{SKUID: sku.SKUID}}, nil)
		require.NoError(t, err)
	}
	require.NoError(t, tn.SetSeats(sku.SKUID, 2))
	skus, err := tn.SubscribedSKUs(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, skus[0].Consumed)
	assert.Equal(t, 0, skus[0].Available())
	_, err = tn.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: sku.SKUID}}, nil)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Contains(t, err.Error(), "SPB", "the message names the SKU's part number")
	assert.ErrorIs(t, tn.SetSeats("nope", 1), backend.ErrNotFound)
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

func TestTenantDomainAdminDetails(t *testing.T) {
	ctx := t.Context()
	tn, _ := newTestTenant(t, newTenantClock())

	t.Run("subdomain of a verified domain is verified", func(t *testing.T) {
		d, err := tn.AddDomain(ctx, "Sales.Contoso.com")
		require.NoError(t, err)
		assert.Equal(t, "sales.contoso.com", d.Name)
		assert.True(t, d.IsVerified)
	})

	t.Run("LookupTXT", func(t *testing.T) {
		var published []string
		var mu sync.Mutex
		look := memory.NewTenant(&memory.TenantOptions{LookupTXT: func(_ context.Context, name string) ([]string, error) {
			mu.Lock()
			defer mu.Unlock()
			if name != "fabrikam.com" {
				return nil, errors.New("no such host")
			}
			return published, nil
		}})
		_, err := look.AddDomain(ctx, "fabrikam.com")
		require.NoError(t, err)
		recs, err := look.VerificationRecords(ctx, "fabrikam.com")
		require.NoError(t, err)
		_, err = look.VerifyDomain(ctx, "fabrikam.com")
		assert.Equal(t, backend.ReasonVerificationRecordMissing, backend.ReasonOf(err))
		mu.Lock()
		published = []string{"v=spf1 -all", recs[0].Text}
		mu.Unlock()
		d, err := look.VerifyDomain(ctx, "fabrikam.com")
		require.NoError(t, err)
		assert.True(t, d.IsVerified)
	})

	t.Run("verification value is per tenant and domain", func(t *testing.T) {
		other := memory.NewTenant(&memory.TenantOptions{TenantID: "11111111-2222-3333-4444-555555555555"})
		_, err := tn.AddDomain(ctx, "northwind.com")
		require.NoError(t, err)
		_, err = tn.AddDomain(ctx, "tailspin.com")
		require.NoError(t, err)
		_, err = other.AddDomain(ctx, "northwind.com")
		require.NoError(t, err)
		a, err := tn.VerificationRecords(ctx, "northwind.com")
		require.NoError(t, err)
		b, err := tn.VerificationRecords(ctx, "tailspin.com")
		require.NoError(t, err)
		c, err := other.VerificationRecords(ctx, "northwind.com")
		require.NoError(t, err)
		assert.NotEqual(t, a[0].Text, b[0].Text)
		assert.NotEqual(t, a[0].Text, c[0].Text)
		assert.Equal(t, uint16(32767), a[1].Preference)
	})

	t.Run("service records", func(t *testing.T) {
		recs, err := tn.ServiceConfigurationRecords(ctx, "contoso.com")
		require.NoError(t, err)
		type key struct{ typ, label, service string }
		var got []key
		for _, r := range recs {
			got = append(got, key{r.Type.GraphName(), r.Name, r.SupportedService})
		}
		assert.Equal(t, []key{
			{"Mx", "contoso.com", "Email"},
			{"Txt", "contoso.com", "Email"},
			{"CName", "autodiscover.contoso.com", "Email"},
			{"Srv", "_sip._tls.contoso.com", "OfficeCommunicationsOnline"},
			{"Srv", "_sipfederationtls._tcp.contoso.com", "OfficeCommunicationsOnline"},
			{"CName", "sip.contoso.com", "OfficeCommunicationsOnline"},
			{"CName", "lyncdiscover.contoso.com", "OfficeCommunicationsOnline"},
			{"CName", "enterpriseregistration.contoso.com", "Intune"},
			{"CName", "enterpriseenrollment.contoso.com", "Intune"},
		}, got)
		fed := recs[4]
		svc, proto, _, _ := fed.SRVParts()
		assert.Equal(t, []any{"sipfed.online.lync.com", uint16(5061), uint16(100), uint16(1), "_sipfederationtls", "_tcp"},
			[]any{fed.Target, fed.Port, fed.Priority, fed.Weight, svc, proto})

		_, err = tn.AddDomain(ctx, "my-shop.com")
		require.NoError(t, err)
		tn.PublishVerification("my-shop.com")
		_, err = tn.VerifyDomain(ctx, "my-shop.com")
		require.NoError(t, err)
		recs, err = tn.ServiceConfigurationRecords(ctx, "my-shop.com")
		require.NoError(t, err)
		assert.NotEqual(t, "my-shop-com.mail.protection.outlook.com", recs[0].Exchange, "hyphenated names are mangled, as Microsoft does")
		assert.True(t, strings.HasPrefix(recs[0].Exchange, "myshop-com"))

		_, err = tn.AddDomain(ctx, "pending.com")
		require.NoError(t, err)
		_, err = tn.ServiceConfigurationRecords(ctx, "pending.com")
		assert.Equal(t, backend.ReasonDomainUnverified, backend.ReasonOf(err))
	})

	t.Run("delete rules", func(t *testing.T) {
		_, err := tn.AddDomain(ctx, "onmicrosoft.com")
		assert.ErrorIs(t, err, backend.ErrInvalidArgument)
		assert.Equal(t, backend.ReasonDomainDefault, backend.ReasonOf(tn.DeleteDomain(ctx, "contoso.com")))
		assert.Equal(t, backend.ReasonDomainInitial, backend.ReasonOf(tn.DeleteDomain(ctx, "contoso.onmicrosoft.com")))

		require.NoError(t, tn.AddVerifiedDomain("alias-only.com", false))
		u, err := tn.CreateUser(ctx, tenantNewUser("owner"))
		require.NoError(t, err)
		require.NoError(t, tn.Mail().AddAlias(ctx, u.UserPrincipalName, "owner@alias-only.com"))
		assert.Equal(t, backend.ReasonDomainInUse, backend.ReasonOf(tn.DeleteDomain(ctx, "alias-only.com")))
		require.NoError(t, tn.Mail().RemoveAlias(ctx, u.UserPrincipalName, "OWNER@alias-only.com"))
		require.NoError(t, tn.DeleteDomain(ctx, "alias-only.com"))

		require.NoError(t, tn.AddVerifiedDomain("gone.com", false))
		v, err := tn.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: "v@gone.com", DisplayName: "V", Password: tenantPassword})
		require.NoError(t, err)
		require.NoError(t, tn.DeleteUser(ctx, v.ID))
		assert.Equal(t, backend.ReasonDomainInUse, backend.ReasonOf(tn.DeleteDomain(ctx, "gone.com")), "a deleted user still holds its UPN's domain")
	})
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
