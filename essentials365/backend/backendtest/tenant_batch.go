package backendtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

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
