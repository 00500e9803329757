package backendtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

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
