package backendtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

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
