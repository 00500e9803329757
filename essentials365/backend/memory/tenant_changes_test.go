package memory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

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
