package memory_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

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
