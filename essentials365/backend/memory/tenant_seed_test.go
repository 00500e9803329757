package memory_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

func TestTenantSeededAtConstruction(t *testing.T) {
	ctx := t.Context()
	tn := memory.NewTenant(&memory.TenantOptions{
		Domains: []memory.DomainSeed{{Name: "contoso.com", Default: true}, {Name: "fabrikam.com", Unverified: true}},
		SKUs:    []backend.SKU{memory.SKUEnterprisePack(3), memory.SKUO365BusinessPremium(2), memory.SKUExchangeStandard(1)},
		Users: []memory.UserSeed{
			{User: backend.NewOnlineUser{UserPrincipalName: "ann@contoso.com", DisplayName: "Ann", UsageLocation: "FR", Password: "Seed!Passw0rd"},
				Licenses: []backend.LicenseAssignment{{SKUID: memory.SKUIDEnterprisePack}}},
			{User: backend.NewOnlineUser{UserPrincipalName: "ben@contoso.com", DisplayName: "Ben", Password: "Seed!Passw0rd"}},
		},
	})
	assert.Empty(t, tn.Calls(), "seeding is not in the call log")

	domains, err := tn.Domains(ctx)
	require.NoError(t, err)
	byName := map[string]backend.Domain{}
	for _, d := range domains {
		byName[d.Name] = d
	}
	assert.True(t, byName["contoso.com"].IsVerified)
	assert.True(t, byName["contoso.com"].IsDefault)
	assert.False(t, byName["fabrikam.com"].IsVerified)

	skus, err := tn.SubscribedSKUs(ctx)
	require.NoError(t, err)
	require.Len(t, skus, 3)
	assert.Equal(t, "6fd2c87f-b296-42f0-b197-1e91e994b900", skus[0].SKUID)
	assert.Equal(t, "ENTERPRISEPACK", skus[0].PartNumber)
	assert.Equal(t, 1, skus[0].Consumed)
	assert.Equal(t, "f245ecc8-75af-4f8e-b61f-27d8114de5f3", skus[1].SKUID)
	assert.Equal(t, "4b9405b0-7788-4568-add1-99614e613b69", skus[2].SKUID)

	ann, err := tn.GetUser(ctx, "ann@contoso.com")
	require.NoError(t, err)
	assert.True(t, ann.Licensed())
	assert.Equal(t, "ann@contoso.com", ann.Mail, "E3 gives a mailbox")
	_, err = tn.GetUser(ctx, "ben@contoso.com")
	require.NoError(t, err)

	// The imperative seeding still works on a seeded tenant.
	_, err = tn.AddSKU(memory.SKUBusinessPremium(1))
	require.NoError(t, err)
	require.NoError(t, tn.AddVerifiedDomain("northwind.com", false))
}

func TestTenantSeedRefused(t *testing.T) {
	for name, opts := range map[string]*memory.TenantOptions{
		"user on an unknown domain": {Users: []memory.UserSeed{{User: backend.NewOnlineUser{UserPrincipalName: "a@nowhere.example", DisplayName: "A", Password: "Seed!Passw0rd"}}}},
		"two SKUs with one id":      {SKUs: []backend.SKU{memory.SKUEnterprisePack(1), memory.SKUEnterprisePack(2)}},
		"a bad domain name":         {Domains: []memory.DomainSeed{{Name: "not a domain"}}},
		"licence without location": {SKUs: []backend.SKU{memory.SKUEnterprisePack(1)}, Users: []memory.UserSeed{{
			User:     backend.NewOnlineUser{UserPrincipalName: "a@contoso.onmicrosoft.com", DisplayName: "A", Password: "Seed!Passw0rd"},
			Licenses: []backend.LicenseAssignment{{SKUID: memory.SKUIDEnterprisePack}}}}},
	} {
		assert.Panics(t, func() { memory.NewTenant(opts) }, name)
	}
	msg := func() (s string) {
		defer func() { s = fmt.Sprint(recover()) }()
		memory.NewTenant(&memory.TenantOptions{Users: []memory.UserSeed{{User: backend.NewOnlineUser{UserPrincipalName: "a@nowhere.example", DisplayName: "A", Password: "Seed!Passw0rd"}}}})
		return ""
	}()
	assert.Contains(t, msg, `memory: NewTenant: seed user "a@nowhere.example": tenant: create user`)
	assert.Contains(t, msg, "verified domain")
}

// TestListUsersCountsPages: the call log counts one ListUsers call per
// page, as Graph serves one request per page.
func TestListUsersCountsPages(t *testing.T) {
	users := make([]memory.UserSeed, 7)
	for i := range users {
		users[i] = memory.UserSeed{User: backend.NewOnlineUser{UserPrincipalName: fmt.Sprintf("p%d@contoso.onmicrosoft.com", i), DisplayName: "P", Password: "Page!Passw0rd"}}
	}
	tn := memory.NewTenant(&memory.TenantOptions{PageSize: 3, Users: users})
	n := 0
	for _, err := range tn.ListUsers(t.Context()) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 7, n)
	assert.Equal(t, 3, tn.CountCalls(memory.OpListUsers), "pages of 3, 3 and 1")

	tn.ResetCalls()
	tn.FailNext(memory.OpListUsers, 1, backend.Errorf(backend.Unavailable, "", "", "down"))
	var errs int
	for _, err := range tn.ListUsers(t.Context()) {
		if err != nil {
			errs++
		}
	}
	assert.Equal(t, 1, errs)
}
