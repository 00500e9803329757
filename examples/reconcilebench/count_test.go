package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// An incremental reconcile costs what changed, not the tenant: 10,000
// mapped users, 5 changes in the directory (two disables, one enable, two
// deletions), counted by the emulator's own request counter through the
// real Graph driver. Goal: requests <= ceil(changes/20) + writes + 2.
func TestIncrementalReconcileCostsTheChanges(t *testing.T) {
	const n = 10000
	ctx := t.Context()
	dir, mem, users, onlineIDs := seedMapped(t, n)
	emu := m365emulator.New(mem, nil)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	graph := newGraph(t, srv.URL)
	svc, err := accounts.New(dir, graph, nil)
	require.NoError(t, err)

	// The first run is full: it reads the whole tenant once (delta pages of
	// 999) and records the 10,000 accounts as managed.
	emu.ResetStats()
	rep, err := svc.Reconcile(ctx, nil)
	require.NoError(t, err)
	require.True(t, rep.Full)
	full := emu.Stats()
	assert.LessOrEqual(t, full.Requests, int64(n/999+1), "a full run reads the tenant at Graph's largest page: %v", full.Routes)

	// Five changes in the directory.
	require.NoError(t, dir.SetEnabled(ctx, users[1].ID, false))
	require.NoError(t, dir.SetEnabled(ctx, users[2].ID, false))
	require.NoError(t, dir.SetEnabled(ctx, users[7].ID, true))
	require.NoError(t, dir.DeleteUser(ctx, users[3].ID))
	require.NoError(t, dir.DeleteUser(ctx, users[4].ID))

	emu.ResetStats()
	rep, err = svc.Reconcile(ctx, nil)
	require.NoError(t, err)
	st := emu.Stats()
	assert.False(t, rep.Full)
	assert.Equal(t, 5, rep.Examined)
	assert.ElementsMatch(t, []string{"u000001@contoso.com", "u000002@contoso.com"}, rep.Disabled)
	assert.ElementsMatch(t, []string{"u000007@contoso.com"}, rep.Enabled)
	assert.ElementsMatch(t, []string{"u000003@contoso.com", "u000004@contoso.com"}, rep.Deleted)
	writes := int64(len(rep.Disabled) + len(rep.Enabled) + len(rep.Deleted))
	assert.Equal(t, writes, st.WritesAccepted)
	changes := int64(rep.Examined)
	limit := (changes+19)/20 + writes + 2
	assert.LessOrEqual(t, st.Requests, limit, "Graph requests of an incremental run: %v", st.Routes)
	assert.Zero(t, st.Routes["GET /users"], "no listing of the tenant")
	t.Logf("incremental run: %d Graph requests for %d changes and %d writes (limit %d): %v", st.Requests, changes, writes, limit, st.Routes)

	// The tenant followed.
	for i, want := range map[int]bool{1: false, 2: false, 7: true, 5: true} {
		ou, err := mem.GetUser(ctx, onlineIDs[i])
		require.NoError(t, err)
		assert.Equal(t, want, ou.AccountEnabled, "user %d", i)
	}
	for _, i := range []int{3, 4} {
		_, err := mem.GetUser(ctx, onlineIDs[i])
		assert.ErrorIs(t, err, backend.ErrNotFound)
	}

	// Nothing changed since: the next run reads one delta page and writes
	// nothing.
	emu.ResetStats()
	rep, err = svc.Reconcile(ctx, nil)
	require.NoError(t, err)
	assert.Zero(t, rep.Examined)
	assert.LessOrEqual(t, emu.Stats().Requests, int64(1))
}

// seedMapped builds n users in a memory directory, each with its online
// account in a memory tenant (anchored, mapped); user 7 is disabled on
// both sides.
func seedMapped(tb testing.TB, n int) (*memory.Directory, *memory.Tenant, []backend.DirectoryUser, []string) {
	tb.Helper()
	ctx := context.Background()
	dir := memory.NewDirectory(&memory.DirectoryOptions{PageSize: 1000})
	mem := memory.NewTenant(&memory.TenantOptions{PageSize: 999})
	require.NoError(tb, mem.AddVerifiedDomain("contoso.com", true))
	users := make([]backend.DirectoryUser, n)
	onlineIDs := make([]string, n)
	for i := range n {
		sam := fmt.Sprintf("u%06d", i)
		u, err := dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: sam, DisplayName: "User " + sam, Password: "Welcome-2026!", Disabled: i == 7})
		require.NoError(tb, err)
		ou, err := mem.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: sam + "@contoso.com", DisplayName: u.DisplayName,
			Password: "Cloud-Pw-2026!x", ImmutableID: u.ID.ImmutableID(), Disabled: i == 7})
		require.NoError(tb, err)
		require.NoError(tb, dir.SetOnlineAccount(ctx, u.ID, accounts.Mapping{ID: ou.ID, UPN: ou.UserPrincipalName, State: accounts.MappingAssigned}.String()))
		users[i], onlineIDs[i] = u, ou.ID
	}
	return dir, mem, users, onlineIDs
}

// newGraph returns the Graph driver for an emulator at url, paging at 999.
func newGraph(tb testing.TB, url string) *graphtenant.Tenant {
	tb.Helper()
	g, err := graphtenant.New(graphtenant.Config{Credential: graphtenant.StaticToken("emulator"), BaseURL: url + "/v1.0",
		PageSize: 999, RateLimit: pacer.Config{Disabled: true}})
	require.NoError(tb, err)
	return g
}
