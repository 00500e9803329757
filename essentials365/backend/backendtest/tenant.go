package backendtest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// TenantHarness makes the tenant under test for [RunTenantTests].
type TenantHarness interface {
	// MakeTenant returns a fresh tenant, used by one subtest only. Cleanup
	// belongs in t.Cleanup.
	MakeTenant(ctx context.Context, t *testing.T) TenantFixture
}

// TenantFixture is a tenant under test and what the suite needs to know
// about it.
type TenantFixture struct {
	Tenant backend.Tenant
	// VerifiedDomain is a verified custom (non-initial) domain, e.g.
	// "contoso.com".
	VerifiedDomain string
	// InitialDomain is the tenant's onmicrosoft.com domain.
	InitialDomain string
	// SKU is a subscription with exactly 3 free seats at the start and at
	// least 2 service plans.
	SKU backend.SKU
	// PortalPasswordChange changes a password as the user does in the
	// Office 365 portal; nil when the harness cannot.
	PortalPasswordChange func(ctx context.Context, idOrUPN, password string) error
	// AdvanceClock moves the tenant's clock forward; nil when the harness
	// cannot, and then the clock-driven cases are skipped.
	AdvanceClock func(d time.Duration)
	// PublishVerification publishes a domain's verification TXT record;
	// nil when the harness cannot.
	PublishVerification func(domain string)
}

// tenantPassword meets Microsoft 365's password policy.
const tenantPassword = "Conf0rm!Passw0rd"

// RunTenantTests runs the conformance suite of [backend.Tenant] against the
// tenants h makes, and the checks of [backend.BatchTenant] and
// [backend.DomainAdmin] when the tenant implements them.
func RunTenantTests(t *testing.T, h TenantHarness) {
	t.Run("CreateAndGet", func(t *testing.T) { tenantTestCreateAndGet(t, h) })
	t.Run("AlreadyExists", func(t *testing.T) { tenantTestAlreadyExists(t, h) })
	t.Run("Validation", func(t *testing.T) { tenantTestValidation(t, h) })
	t.Run("Update", func(t *testing.T) { tenantTestUpdate(t, h) })
	t.Run("PasswordChange", func(t *testing.T) { tenantTestPasswordChange(t, h) })
	t.Run("DeleteRestore", func(t *testing.T) { tenantTestDeleteRestore(t, h) })
	t.Run("PurgeAfter30Days", func(t *testing.T) { tenantTestPurge(t, h) })
	t.Run("SKUs", func(t *testing.T) { tenantTestSKUs(t, h) })
	t.Run("AssignDisabledPlans", func(t *testing.T) { tenantTestAssignDisabledPlans(t, h) })
	t.Run("AssignNeedsUsageLocation", func(t *testing.T) { tenantTestAssignUsageLocation(t, h) })
	t.Run("Seats", func(t *testing.T) { tenantTestSeats(t, h) })
	t.Run("ListUsers", func(t *testing.T) { tenantTestListUsers(t, h) })
	t.Run("Changes", func(t *testing.T) { tenantTestChanges(t, h) })
	t.Run("Domains", func(t *testing.T) { tenantTestDomains(t, h) })
	t.Run("CanceledContext", func(t *testing.T) { tenantTestCanceled(t, h) })
	t.Run("Batch", func(t *testing.T) { tenantTestBatch(t, h) })
	t.Run("DomainAdmin", func(t *testing.T) { tenantTestDomainAdmin(t, h) })
}

// tenantRequireKind fails the test unless err has the kind and, when
// reasons are given, names one of them.
func tenantRequireKind(t testing.TB, err error, kind backend.Kind, reasons ...backend.Reason) {
	t.Helper()
	require.Error(t, err, "want an error of kind %v", kind)
	require.Equal(t, kind, backend.KindOf(err), "error %v", err)
	require.ErrorIs(t, err, tenantSentinel(kind))
	if len(reasons) > 0 {
		require.Contains(t, reasons, backend.ReasonOf(err), "error %v names the wrong rule", err)
	}
}

// tenantRequireOp fails the test unless the first *backend.Error of err
// names op: every driver of a contract words its operations alike.
func tenantRequireOp(t testing.TB, err error, op string) {
	t.Helper()
	var be *backend.Error
	require.ErrorAs(t, err, &be)
	require.Equal(t, op, be.Op, "error %v", err)
}

// tenantSentinel returns the errors.Is sentinel of kind.
func tenantSentinel(kind backend.Kind) error {
	return map[backend.Kind]error{
		backend.NotFound:           backend.ErrNotFound,
		backend.AlreadyExists:      backend.ErrAlreadyExists,
		backend.InvalidArgument:    backend.ErrInvalidArgument,
		backend.FailedPrecondition: backend.ErrFailedPrecondition,
		backend.PermissionDenied:   backend.ErrPermissionDenied,
		backend.Throttled:          backend.ErrThrottled,
		backend.Unavailable:        backend.ErrUnavailable,
		backend.Unimplemented:      backend.ErrUnimplemented,
		backend.Canceled:           backend.ErrCanceled,
	}[kind]
}

func tenantNewUser(f TenantFixture, prefix string) backend.NewOnlineUser {
	name := UniqueName(prefix)
	return backend.NewOnlineUser{
		UserPrincipalName: name + "@" + f.VerifiedDomain,
		DisplayName:       "Conformance " + name,
		UsageLocation:     "US",
		Password:          tenantPassword,
	}
}

func tenantCreate(ctx context.Context, t *testing.T, f TenantFixture, prefix string) backend.OnlineUser {
	t.Helper()
	u, err := f.Tenant.CreateUser(ctx, tenantNewUser(f, prefix))
	require.NoError(t, err)
	return u
}

func tenantFindSKU(ctx context.Context, t *testing.T, f TenantFixture) backend.SKU {
	t.Helper()
	skus, err := f.Tenant.SubscribedSKUs(ctx)
	require.NoError(t, err)
	for _, s := range skus {
		if strings.EqualFold(s.SKUID, f.SKU.SKUID) {
			return s
		}
	}
	require.Failf(t, "SKU missing", "SubscribedSKUs does not list %s", f.SKU.SKUID)
	return backend.SKU{}
}

func tenantHolds(u backend.OnlineUser, skuID string) (backend.AssignedLicense, bool) {
	for _, l := range u.AssignedLicenses {
		if strings.EqualFold(l.SKUID, skuID) {
			return l, true
		}
	}
	return backend.AssignedLicense{}, false
}

func tenantTestCreateAndGet(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	nu := tenantNewUser(f, "cg")
	nu.ImmutableID = backend.NewGUID().ImmutableID()
	nu.GivenName, nu.Surname = "Anne", "Lefèvre"
	u, err := f.Tenant.CreateUser(ctx, nu)
	require.NoError(t, err)
	_, err = backend.ParseGUID(u.ID)
	require.NoError(t, err, "object ids are GUIDs")
	assert.True(t, strings.EqualFold(nu.UserPrincipalName, u.UserPrincipalName))
	assert.Equal(t, nu.DisplayName, u.DisplayName)
	assert.Equal(t, "Anne", u.GivenName)
	assert.Equal(t, "Lefèvre", u.Surname)
	assert.Equal(t, strings.SplitN(nu.UserPrincipalName, "@", 2)[0], u.MailNickname, "mailNickname defaults to the UPN's local part")
	assert.True(t, u.AccountEnabled)
	assert.Equal(t, nu.ImmutableID, u.ImmutableID)
	assert.False(t, u.LastPasswordChange.IsZero(), "lastPasswordChangeDateTime is set at creation")
	assert.False(t, u.Licensed())

	for name, key := range map[string]string{
		"id":        u.ID,
		"upn":       nu.UserPrincipalName,
		"upn upper": strings.ToUpper(nu.UserPrincipalName),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := f.Tenant.GetUser(ctx, key)
			require.NoError(t, err)
			assert.Equal(t, u.ID, got.ID)
			assert.Equal(t, u.DisplayName, got.DisplayName)
			assert.Equal(t, "Anne", got.GivenName, "givenName is read back")
			assert.Equal(t, "Lefèvre", got.Surname, "surname is read back")
		})
	}
	got, err := f.Tenant.GetUserByImmutableID(ctx, nu.ImmutableID)
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)
	var listed backend.OnlineUser
	for lu, err := range f.Tenant.ListUsers(ctx) {
		require.NoError(t, err)
		if lu.ID == u.ID {
			listed = lu
		}
	}
	assert.Equal(t, [2]string{"Anne", "Lefèvre"}, [2]string{listed.GivenName, listed.Surname}, "a listed user carries its given name and surname")
	plain, err := f.Tenant.CreateUser(ctx, tenantNewUser(f, "cgplain"))
	require.NoError(t, err)
	plain, err = f.Tenant.GetUser(ctx, plain.ID)
	require.NoError(t, err)
	assert.Empty(t, plain.GivenName+plain.Surname, "a user created without them has no given name or surname")

	_, err = f.Tenant.GetUser(ctx, UniqueName("nobody")+"@"+f.VerifiedDomain)
	tenantRequireKind(t, err, backend.NotFound)
	tenantRequireOp(t, err, "tenant: get user")
	_, err = f.Tenant.GetUser(ctx, backend.NewGUID().String())
	tenantRequireKind(t, err, backend.NotFound)
	_, err = f.Tenant.GetUserByImmutableID(ctx, backend.NewGUID().ImmutableID())
	tenantRequireKind(t, err, backend.NotFound)
	tenantRequireOp(t, err, "tenant: get user by immutable id")

	disabled := tenantNewUser(f, "cgoff")
	disabled.Disabled = true
	disabled.MailNickname = "custom" + UniqueName("")
	d, err := f.Tenant.CreateUser(ctx, disabled)
	require.NoError(t, err)
	assert.False(t, d.AccountEnabled)
	assert.Equal(t, disabled.MailNickname, d.MailNickname)

	onInitial := tenantNewUser(f, "cginit")
	onInitial.UserPrincipalName = strings.SplitN(onInitial.UserPrincipalName, "@", 2)[0] + "@" + f.InitialDomain
	_, err = f.Tenant.CreateUser(ctx, onInitial)
	require.NoError(t, err, "the initial domain is verified")
}

func tenantTestAlreadyExists(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	nu := tenantNewUser(f, "dup")
	nu.ImmutableID = backend.NewGUID().ImmutableID()
	_, err := f.Tenant.CreateUser(ctx, nu)
	require.NoError(t, err)

	again := nu
	again.UserPrincipalName = strings.ToUpper(nu.UserPrincipalName)
	again.ImmutableID = ""
	_, err = f.Tenant.CreateUser(ctx, again)
	tenantRequireKind(t, err, backend.AlreadyExists)

	sameAnchor := tenantNewUser(f, "dupa")
	sameAnchor.ImmutableID = nu.ImmutableID
	_, err = f.Tenant.CreateUser(ctx, sameAnchor)
	tenantRequireKind(t, err, backend.AlreadyExists)
	_, err = f.Tenant.GetUser(ctx, sameAnchor.UserPrincipalName)
	tenantRequireKind(t, err, backend.NotFound)
}

func tenantTestValidation(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	long := strings.Repeat("a", 65)
	tests := []struct {
		name    string
		edit    func(u *backend.NewOnlineUser)
		reasons []backend.Reason
	}{
		{"space in upn", func(u *backend.NewOnlineUser) {
			u.UserPrincipalName = "bad name" + UniqueName("") + "@" + f.VerifiedDomain
		}, []backend.Reason{backend.ReasonUPNCharacters}},
		{"star in upn", func(u *backend.NewOnlineUser) { u.UserPrincipalName = "bad*" + UniqueName("") + "@" + f.VerifiedDomain }, []backend.Reason{backend.ReasonUPNCharacters}},
		{"leading dot", func(u *backend.NewOnlineUser) { u.UserPrincipalName = "." + UniqueName("") + "@" + f.VerifiedDomain }, []backend.Reason{backend.ReasonUPNSyntax}},
		{"double dot", func(u *backend.NewOnlineUser) { u.UserPrincipalName = "a.." + UniqueName("") + "@" + f.VerifiedDomain }, []backend.Reason{backend.ReasonUPNSyntax}},
		{"local part too long", func(u *backend.NewOnlineUser) { u.UserPrincipalName = long + "@" + f.VerifiedDomain }, []backend.Reason{backend.ReasonUPNSyntax}},
		{"no domain", func(u *backend.NewOnlineUser) { u.UserPrincipalName = UniqueName("nodomain") }, []backend.Reason{backend.ReasonUPNSyntax}},
		{"unknown domain", func(u *backend.NewOnlineUser) {
			u.UserPrincipalName = UniqueName("x") + "@" + UniqueName("nowhere") + ".example"
		}, []backend.Reason{backend.ReasonUPNDomainUnknown, backend.ReasonUPNDomainUnverified}},
		{"missing display name", func(u *backend.NewOnlineUser) { u.DisplayName = "" }, []backend.Reason{backend.ReasonDisplayNameRequired}},
		{"short password", func(u *backend.NewOnlineUser) { u.Password = "Ab1!" }, []backend.Reason{backend.ReasonPasswordPolicy}},
		{"two classes only", func(u *backend.NewOnlineUser) { u.Password = "alllowercase123" }, []backend.Reason{backend.ReasonPasswordPolicy}},
		{"missing password", func(u *backend.NewOnlineUser) { u.Password = "" }, []backend.Reason{backend.ReasonPasswordPolicy}},
		{"mail nickname too long", func(u *backend.NewOnlineUser) { u.MailNickname = long }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nu := tenantNewUser(f, "val")
			tc.edit(&nu)
			_, err := f.Tenant.CreateUser(ctx, nu)
			tenantRequireKind(t, err, backend.InvalidArgument, tc.reasons...)
			if nu.UserPrincipalName != "" {
				_, err = f.Tenant.GetUser(ctx, nu.UserPrincipalName)
				assert.Error(t, err, "a rejected user must not exist")
			}
		})
	}
	t.Run("allowed symbols", func(t *testing.T) {
		nu := tenantNewUser(f, "ok")
		nu.UserPrincipalName = "o'k.a-b_c!d#e^f~" + UniqueName("") + "@" + f.VerifiedDomain
		nu.MailNickname = "ok" + UniqueName("")
		_, err := f.Tenant.CreateUser(ctx, nu)
		require.NoError(t, err)
	})
}

func tenantTestUpdate(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	u := tenantCreate(ctx, t, f, "upd")

	off, name, loc := false, "Renamed "+u.DisplayName, "GB"
	anchor := backend.NewGUID().ImmutableID()
	require.NoError(t, f.Tenant.UpdateUser(ctx, u.ID, backend.OnlineUserUpdate{
		AccountEnabled: &off, DisplayName: &name, UsageLocation: &loc, ImmutableID: &anchor,
	}))
	got, err := f.Tenant.GetUser(ctx, u.ID)
	require.NoError(t, err)
	assert.False(t, got.AccountEnabled)
	assert.Equal(t, name, got.DisplayName)
	assert.Equal(t, loc, got.UsageLocation)
	assert.Equal(t, anchor, got.ImmutableID)
	byAnchor, err := f.Tenant.GetUserByImmutableID(ctx, anchor)
	require.NoError(t, err)
	assert.Equal(t, u.ID, byAnchor.ID)

	on := true
	require.NoError(t, f.Tenant.UpdateUser(ctx, u.ID, backend.OnlineUserUpdate{AccountEnabled: &on}))
	got, err = f.Tenant.GetUser(ctx, u.ID)
	require.NoError(t, err)
	assert.True(t, got.AccountEnabled)
	assert.Equal(t, name, got.DisplayName, "fields left nil keep their value")

	other := tenantCreate(ctx, t, f, "upd2")
	err = f.Tenant.UpdateUser(ctx, other.ID, backend.OnlineUserUpdate{ImmutableID: &anchor})
	tenantRequireKind(t, err, backend.AlreadyExists)

	empty := ""
	err = f.Tenant.UpdateUser(ctx, u.ID, backend.OnlineUserUpdate{DisplayName: &empty})
	tenantRequireKind(t, err, backend.InvalidArgument, backend.ReasonDisplayNameRequired)
	err = f.Tenant.UpdateUser(ctx, u.ID, backend.OnlineUserUpdate{Password: &backend.PasswordProfile{Password: "weak"}})
	tenantRequireKind(t, err, backend.InvalidArgument, backend.ReasonPasswordPolicy)
	err = f.Tenant.UpdateUser(ctx, backend.NewGUID().String(), backend.OnlineUserUpdate{AccountEnabled: &on})
	tenantRequireKind(t, err, backend.NotFound)
}

func tenantTestPasswordChange(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	u := tenantCreate(ctx, t, f, "pwd")
	before := u.LastPasswordChange
	moved := func(t *testing.T, was, now time.Time) {
		t.Helper()
		if f.AdvanceClock != nil {
			assert.True(t, now.After(was), "lastPasswordChangeDateTime %v must move past %v", now, was)
		} else {
			assert.False(t, now.Before(was), "lastPasswordChangeDateTime %v went back from %v", now, was)
		}
	}
	if f.AdvanceClock != nil {
		f.AdvanceClock(time.Hour)
	}
	require.NoError(t, f.Tenant.UpdateUser(ctx, u.ID, backend.OnlineUserUpdate{
		Password: &backend.PasswordProfile{Password: "N3w!" + tenantPassword, ForceChangePassword: true},
	}))
	got, err := f.Tenant.GetUser(ctx, u.ID)
	require.NoError(t, err)
	moved(t, before, got.LastPasswordChange)

	if f.PortalPasswordChange == nil {
		t.Log("harness cannot change passwords as the user does; portal case skipped")
		return
	}
	if f.AdvanceClock != nil {
		f.AdvanceClock(time.Hour)
	}
	require.NoError(t, f.PortalPasswordChange(ctx, u.UserPrincipalName, "P0rtal!"+tenantPassword))
	again, err := f.Tenant.GetUser(ctx, u.ID)
	require.NoError(t, err)
	moved(t, got.LastPasswordChange, again.LastPasswordChange)
}

func tenantTestDeleteRestore(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	u := tenantCreate(ctx, t, f, "del")
	keep := tenantCreate(ctx, t, f, "keep")

	require.NoError(t, f.Tenant.DeleteUser(ctx, u.ID))
	_, err := f.Tenant.GetUser(ctx, u.ID)
	tenantRequireKind(t, err, backend.NotFound)
	_, err = f.Tenant.GetUser(ctx, u.UserPrincipalName)
	tenantRequireKind(t, err, backend.NotFound)
	tenantRequireKind(t, f.Tenant.DeleteUser(ctx, u.ID), backend.NotFound)

	deleted, err := f.Tenant.ListDeletedUsers(ctx)
	require.NoError(t, err)
	i := slices.IndexFunc(deleted, func(d backend.OnlineUser) bool { return d.ID == u.ID })
	require.GreaterOrEqual(t, i, 0, "ListDeletedUsers lists the deleted user")
	assert.False(t, deleted[i].DeletedAt.IsZero())
	assert.False(t, slices.ContainsFunc(deleted, func(d backend.OnlineUser) bool { return d.ID == keep.ID }))

	reuse := tenantNewUser(f, "del")
	reuse.UserPrincipalName = u.UserPrincipalName
	_, err = f.Tenant.CreateUser(ctx, reuse)
	tenantRequireKind(t, err, backend.AlreadyExists)

	restored, err := f.Tenant.RestoreUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, u.ID, restored.ID)
	got, err := f.Tenant.GetUser(ctx, u.UserPrincipalName)
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)
	deleted, err = f.Tenant.ListDeletedUsers(ctx)
	require.NoError(t, err)
	assert.False(t, slices.ContainsFunc(deleted, func(d backend.OnlineUser) bool { return d.ID == u.ID }))

	_, err = f.Tenant.RestoreUser(ctx, u.ID)
	tenantRequireKind(t, err, backend.NotFound)
	_, err = f.Tenant.RestoreUser(ctx, backend.NewGUID().String())
	tenantRequireKind(t, err, backend.NotFound)
}

func tenantTestPurge(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	if f.AdvanceClock == nil {
		t.Skip("harness cannot advance the tenant's clock: the 30-day purge needs it")
	}
	u := tenantCreate(ctx, t, f, "purge")
	mark := tenantDrain(ctx, t, f.Tenant, "")
	require.NoError(t, f.Tenant.DeleteUser(ctx, u.ID))

	f.AdvanceClock(29 * 24 * time.Hour)
	deleted, err := f.Tenant.ListDeletedUsers(ctx)
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(deleted, func(d backend.OnlineUser) bool { return d.ID == u.ID }), "still restorable after 29 days")

	f.AdvanceClock(2 * 24 * time.Hour)
	deleted, err = f.Tenant.ListDeletedUsers(ctx)
	require.NoError(t, err)
	assert.False(t, slices.ContainsFunc(deleted, func(d backend.OnlineUser) bool { return d.ID == u.ID }), "purged after 30 days")
	_, err = f.Tenant.RestoreUser(ctx, u.ID)
	tenantRequireKind(t, err, backend.NotFound)

	changes, _ := tenantCollect(ctx, t, f.Tenant, mark)
	c, ok := changes[u.ID]
	require.True(t, ok, "Changes reports the purged user")
	assert.Equal(t, backend.Deleted, c.Type)
	assert.True(t, c.Permanent, "a purged user is a permanent deletion")

	again := tenantNewUser(f, "purge")
	again.UserPrincipalName = u.UserPrincipalName
	_, err = f.Tenant.CreateUser(ctx, again)
	require.NoError(t, err, "a purged user's UPN is free again")
}

func tenantTestSKUs(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	s := tenantFindSKU(ctx, t, f)
	assert.Equal(t, 3, s.Available())
	assert.Equal(t, s.Enabled-s.Consumed, s.Available())
	assert.GreaterOrEqual(t, len(s.ServicePlans), 2)
	assert.NotEmpty(t, s.PartNumber)
	assert.NotEmpty(t, s.ID)
	for _, p := range s.ServicePlans {
		assert.NotEmpty(t, p.ID)
		assert.NotEmpty(t, p.Name)
	}
}

func tenantTestAssignDisabledPlans(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	s := tenantFindSKU(ctx, t, f)
	u := tenantCreate(ctx, t, f, "lic")
	off := s.ServicePlans[0].ID

	got, err := f.Tenant.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: s.SKUID, DisabledPlans: []string{off}}}, nil)
	require.NoError(t, err)
	l, ok := tenantHolds(got, s.SKUID)
	require.True(t, ok, "AssignLicenses returns the user with the license")
	assert.Equal(t, []string{strings.ToLower(off)}, tenantLower(l.DisabledPlans))
	fetched, err := f.Tenant.GetUser(ctx, u.ID)
	require.NoError(t, err)
	l, ok = tenantHolds(fetched, s.SKUID)
	require.True(t, ok)
	assert.Equal(t, []string{strings.ToLower(off)}, tenantLower(l.DisabledPlans))
	assert.Equal(t, 2, tenantFindSKU(ctx, t, f).Available())

	// Re-adding the SKU changes its plans without taking another seat.
	got, err = f.Tenant.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: s.SKUID}}, nil)
	require.NoError(t, err)
	l, ok = tenantHolds(got, s.SKUID)
	require.True(t, ok)
	assert.Empty(t, l.DisabledPlans)
	assert.Equal(t, 2, tenantFindSKU(ctx, t, f).Available())

	_, err = f.Tenant.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: backend.NewGUID().String()}}, nil)
	tenantRequireKind(t, err, backend.InvalidArgument, backend.ReasonUnknownSKU)
	_, err = f.Tenant.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: s.SKUID, DisabledPlans: []string{backend.NewGUID().String()}}}, nil)
	tenantRequireKind(t, err, backend.InvalidArgument)
	_, err = f.Tenant.AssignLicenses(ctx, backend.NewGUID().String(), []backend.LicenseAssignment{{SKUID: s.SKUID}}, nil)
	tenantRequireKind(t, err, backend.NotFound)

	got, err = f.Tenant.AssignLicenses(ctx, u.ID, nil, []string{s.SKUID})
	require.NoError(t, err)
	assert.False(t, got.Licensed())
	assert.Equal(t, 3, tenantFindSKU(ctx, t, f).Available())
}

func tenantLower(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

func tenantTestAssignUsageLocation(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	nu := tenantNewUser(f, "noloc")
	nu.UsageLocation = ""
	u, err := f.Tenant.CreateUser(ctx, nu)
	require.NoError(t, err)
	_, err = f.Tenant.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: f.SKU.SKUID}}, nil)
	tenantRequireKind(t, err, backend.FailedPrecondition, backend.ReasonUsageLocationRequired)
	assert.Equal(t, 3, tenantFindSKU(ctx, t, f).Available(), "a failed assignment takes no seat")

	loc := "DE"
	require.NoError(t, f.Tenant.UpdateUser(ctx, u.ID, backend.OnlineUserUpdate{UsageLocation: &loc}))
	got, err := f.Tenant.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: f.SKU.SKUID}}, nil)
	require.NoError(t, err)
	assert.True(t, got.Licensed())
}

func tenantTestSeats(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	add := []backend.LicenseAssignment{{SKUID: f.SKU.SKUID}}
	var users []backend.OnlineUser
	for range 4 {
		users = append(users, tenantCreate(ctx, t, f, "seat"))
	}
	for _, u := range users[:3] {
		_, err := f.Tenant.AssignLicenses(ctx, u.ID, add, nil)
		require.NoError(t, err)
	}
	assert.Equal(t, 0, tenantFindSKU(ctx, t, f).Available())
	_, err := f.Tenant.AssignLicenses(ctx, users[3].ID, add, nil)
	tenantRequireKind(t, err, backend.FailedPrecondition, backend.ReasonNoFreeLicense)
	got, err := f.Tenant.GetUser(ctx, users[3].ID)
	require.NoError(t, err)
	assert.False(t, got.Licensed(), "a failed assignment changes nothing")

	_, err = f.Tenant.AssignLicenses(ctx, users[0].ID, nil, []string{f.SKU.SKUID})
	require.NoError(t, err)
	assert.Equal(t, 1, tenantFindSKU(ctx, t, f).Available(), "removing frees a seat")
	_, err = f.Tenant.AssignLicenses(ctx, users[3].ID, add, nil)
	require.NoError(t, err)

	// A deleted user's seat is free while it is deleted; restoring needs
	// the seat back.
	require.NoError(t, f.Tenant.DeleteUser(ctx, users[1].ID))
	assert.Equal(t, 1, tenantFindSKU(ctx, t, f).Available(), "deleting releases the seat")
	_, err = f.Tenant.AssignLicenses(ctx, users[0].ID, add, nil)
	require.NoError(t, err)
	_, err = f.Tenant.RestoreUser(ctx, users[1].ID)
	tenantRequireKind(t, err, backend.FailedPrecondition, backend.ReasonNoFreeLicense)
	_, err = f.Tenant.AssignLicenses(ctx, users[0].ID, nil, []string{f.SKU.SKUID})
	require.NoError(t, err)
	restored, err := f.Tenant.RestoreUser(ctx, users[1].ID)
	require.NoError(t, err)
	_, ok := tenantHolds(restored, f.SKU.SKUID)
	assert.True(t, ok, "a restored user gets its licenses back")
	assert.Equal(t, 0, tenantFindSKU(ctx, t, f).Available())
}

func tenantTestListUsers(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	want := map[string]bool{}
	for range 5 {
		want[tenantCreate(ctx, t, f, "list").ID] = true
	}
	gone := tenantCreate(ctx, t, f, "listdel")
	require.NoError(t, f.Tenant.DeleteUser(ctx, gone.ID))

	seen := map[string]int{}
	for u, err := range f.Tenant.ListUsers(ctx) {
		require.NoError(t, err)
		seen[u.ID]++
	}
	for id := range want {
		assert.Equal(t, 1, seen[id], "ListUsers yields %s exactly once", id)
	}
	assert.Zero(t, seen[gone.ID], "ListUsers skips deleted users")

	n := 0
	for _, err := range f.Tenant.ListUsers(ctx) {
		require.NoError(t, err)
		n++
		if n == 2 {
			break
		}
	}
	assert.Equal(t, 2, n, "breaking out of ListUsers stops it")
}

// tenantDrain reads Changes from watermark until More is unset and returns
// the last watermark.
func tenantDrain(ctx context.Context, t *testing.T, tn backend.Tenant, watermark string) string {
	t.Helper()
	_, w := tenantCollect(ctx, t, tn, watermark)
	return w
}

// tenantCollect reads every page of Changes from watermark, checking that
// no user appears twice, and returns the changes by user id.
func tenantCollect(ctx context.Context, t *testing.T, tn backend.Tenant, watermark string) (map[string]backend.TenantChange, string) {
	t.Helper()
	out := map[string]backend.TenantChange{}
	for range 1000 {
		res, err := tn.Changes(ctx, watermark)
		require.NoError(t, err)
		require.NotEmpty(t, res.Watermark, "Changes always returns a watermark")
		for _, c := range res.Changes {
			_, dup := out[c.User.ID]
			require.False(t, dup, "user %s reported twice in one round", c.User.ID)
			out[c.User.ID] = c
		}
		watermark = res.Watermark
		if !res.More {
			return out, watermark
		}
	}
	require.Fail(t, "Changes never stopped returning More")
	return nil, ""
}

func tenantTestChanges(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	toUpdate := tenantCreate(ctx, t, f, "chu")
	toDelete := tenantCreate(ctx, t, f, "chd")
	untouched := tenantCreate(ctx, t, f, "chn")

	full, mark := tenantCollect(ctx, t, f.Tenant, "")
	for _, u := range []backend.OnlineUser{toUpdate, toDelete, untouched} {
		c, ok := full[u.ID]
		require.True(t, ok, "a full round returns every user")
		assert.Equal(t, backend.Upserted, c.Type)
	}

	created := tenantCreate(ctx, t, f, "chc")
	name := "Changed " + toUpdate.DisplayName
	require.NoError(t, f.Tenant.UpdateUser(ctx, toUpdate.ID, backend.OnlineUserUpdate{DisplayName: &name}))
	require.NoError(t, f.Tenant.DeleteUser(ctx, toDelete.ID))

	changes, next := tenantCollect(ctx, t, f.Tenant, mark)
	c, ok := changes[created.ID]
	require.True(t, ok, "the created user is reported")
	assert.Equal(t, backend.Upserted, c.Type)
	assert.Equal(t, created.UserPrincipalName, c.User.UserPrincipalName)
	c, ok = changes[toUpdate.ID]
	require.True(t, ok, "the updated user is reported")
	assert.Equal(t, backend.Upserted, c.Type)
	assert.Equal(t, name, c.User.DisplayName)
	c, ok = changes[toDelete.ID]
	require.True(t, ok, "the deleted user is reported")
	assert.Equal(t, backend.Deleted, c.Type)
	assert.False(t, c.Permanent, "a deleted user can still be restored")
	_, ok = changes[untouched.ID]
	assert.False(t, ok, "an unchanged user is not reported")

	quiet, _ := tenantCollect(ctx, t, f.Tenant, next)
	for _, id := range []string{created.ID, toUpdate.ID, toDelete.ID, untouched.ID} {
		_, ok := quiet[id]
		assert.False(t, ok, "nothing changed since the last watermark, yet %s is reported", id)
	}

	for _, bad := range []string{"not a watermark", "%%%", "bTM2NWRlbHRhLng"} {
		_, err := f.Tenant.Changes(ctx, bad)
		tenantRequireKind(t, err, backend.InvalidArgument, backend.ReasonWatermark)
	}
}

func tenantTestDomains(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	ds, err := f.Tenant.Domains(ctx)
	require.NoError(t, err)
	find := func(name string) backend.Domain {
		i := slices.IndexFunc(ds, func(d backend.Domain) bool { return strings.EqualFold(d.Name, name) })
		require.GreaterOrEqual(t, i, 0, "Domains lists %s", name)
		return ds[i]
	}
	v := find(f.VerifiedDomain)
	assert.True(t, v.IsVerified)
	assert.False(t, v.IsInitial)
	in := find(f.InitialDomain)
	assert.True(t, in.IsVerified)
	assert.True(t, in.IsInitial)
	defaults := 0
	for _, d := range ds {
		if d.IsDefault {
			defaults++
		}
	}
	assert.Equal(t, 1, defaults, "exactly one domain is the default")
}

func tenantTestCanceled(t *testing.T, h TenantHarness) {
	f := h.MakeTenant(t.Context(), t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"Organization": func() error { _, err := f.Tenant.Organization(ctx); return err },
		"GetUser":      func() error { _, err := f.Tenant.GetUser(ctx, "x@"+f.VerifiedDomain); return err },
		"CreateUser":   func() error { _, err := f.Tenant.CreateUser(ctx, tenantNewUser(f, "cancel")); return err },
		"Changes":      func() error { _, err := f.Tenant.Changes(ctx, ""); return err },
		"SKUs":         func() error { _, err := f.Tenant.SubscribedSKUs(ctx); return err },
		"Domains":      func() error { _, err := f.Tenant.Domains(ctx); return err },
		"Deleted":      func() error { _, err := f.Tenant.ListDeletedUsers(ctx); return err },
		"ListUsers": func() error {
			for _, err := range f.Tenant.ListUsers(ctx) {
				return err
			}
			return nil
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			tenantRequireKind(t, err, backend.Canceled)
		})
	}
}

func tenantTestBatch(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	bt, ok := f.Tenant.(backend.BatchTenant)
	if !ok {
		t.Skip("the tenant does not implement backend.BatchTenant")
	}
	good1, bad, good2 := tenantNewUser(f, "b1"), tenantNewUser(f, "bbad"), tenantNewUser(f, "b2")
	bad.Password = "weak"
	users, errs := bt.CreateUsers(ctx, []backend.NewOnlineUser{good1, bad, good2})
	require.Len(t, users, 3)
	require.Len(t, errs, 3)
	require.NoError(t, errs[0])
	require.NoError(t, errs[2])
	tenantRequireKind(t, errs[1], backend.InvalidArgument, backend.ReasonPasswordPolicy)
	assert.NotEmpty(t, users[0].ID)
	assert.NotEmpty(t, users[2].ID)
	assert.Empty(t, users[1].ID)
	for _, i := range []int{0, 2} {
		got, err := f.Tenant.GetUser(ctx, users[i].ID)
		require.NoError(t, err)
		assert.Equal(t, users[i].ID, got.ID)
	}

	lic, lerrs := bt.AssignLicensesMany(ctx, []backend.LicenseChange{
		{UserID: users[0].ID, Add: []backend.LicenseAssignment{{SKUID: f.SKU.SKUID}}},
		{UserID: backend.NewGUID().String(), Add: []backend.LicenseAssignment{{SKUID: f.SKU.SKUID}}},
		{UserID: users[2].ID, Add: []backend.LicenseAssignment{{SKUID: f.SKU.SKUID}}},
	})
	require.Len(t, lic, 3)
	require.Len(t, lerrs, 3)
	require.NoError(t, lerrs[0])
	tenantRequireKind(t, lerrs[1], backend.NotFound)
	require.NoError(t, lerrs[2])
	assert.True(t, lic[0].Licensed())
	assert.True(t, lic[2].Licensed())
	assert.Equal(t, 1, tenantFindSKU(ctx, t, f).Available())

	empty, eerrs := bt.CreateUsers(ctx, nil)
	assert.Empty(t, empty)
	assert.Empty(t, eerrs)
}
