package memory_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

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
