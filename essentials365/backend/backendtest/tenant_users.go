package backendtest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

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

	assertStopsEarly(t, f.Tenant.ListUsers(ctx), 2, "breaking out of ListUsers stops it")
}
