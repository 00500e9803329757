package accounts_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

// A user whose only licence is on a suspended subscription is inactive,
// with advice; the suspended SKU has no free seat.
func TestStatusSuspendedSubscription(t *testing.T) {
	e := newEnv(t, 5)
	e.addUser("ann", "Ann Lee")
	_, err := e.svc.Assign(e.ctx, "ann", accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	st, err := e.svc.Status(e.ctx, "ann")
	require.NoError(t, err)
	require.Equal(t, accounts.AccountActive, st.State)

	for _, status := range []string{backend.CapabilitySuspended, backend.CapabilityLockedOut, backend.CapabilityDeleted} {
		require.NoError(t, e.tenant.SetCapabilityStatus(e3SKU, status))
		st, err = e.svc.Status(e.ctx, "ann")
		require.NoError(t, err)
		assert.Equal(t, accounts.AccountInactive, st.State, status)
		assert.True(t, st.Licensed, status)
		assert.Equal(t, accounts.LicenseUnusableAdvice, st.Advice, status)
		all, err := e.svc.ListStatus(e.ctx)
		require.NoError(t, err)
		require.Len(t, all, 1)
		assert.Equal(t, accounts.AccountInactive, all[0].State, status)
		lics, err := e.svc.Licenses(e.ctx)
		require.NoError(t, err)
		for _, l := range lics {
			if l.SKUID == e3SKU {
				assert.Zero(t, l.Available, status)
			}
		}
	}

	// Warning is a grace period: the licence still works.
	require.NoError(t, e.tenant.SetCapabilityStatus(e3SKU, backend.CapabilityWarning))
	st, err = e.svc.Status(e.ctx, "ann")
	require.NoError(t, err)
	assert.Equal(t, accounts.AccountActive, st.State)
}
