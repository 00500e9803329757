package memory_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

type exchangeHarness struct{ pageSize int }

func (h exchangeHarness) MakeExchange(_ context.Context, t *testing.T) backendtest.ExchangeFixture {
	tn := memory.NewTenant(&memory.TenantOptions{PageSize: h.pageSize})
	require.NoError(t, tn.AddVerifiedDomain("contoso.com", true))
	sku, err := tn.AddSKU(backend.SKU{SKUID: tenantTestSKUID, PartNumber: "EXCHANGESTANDARD", Enabled: 50,
		ServicePlans: []backend.ServicePlan{{ID: tenantTestPlanA, Name: "EXCHANGE_S_STANDARD"}}})
	require.NoError(t, err)
	return backendtest.ExchangeFixture{Exchange: tn.Exchange(), Tenant: tn, VerifiedDomain: "contoso.com", MailboxSKU: sku.SKUID}
}

func TestExchangeConformance(t *testing.T) {
	backendtest.RunExchangeTests(t, exchangeHarness{})
	t.Run("SmallPages", func(t *testing.T) { backendtest.RunExchangeTests(t, exchangeHarness{pageSize: 2}) })
}

func TestExchangeSharesTheTenantsAddressSpace(t *testing.T) {
	ctx := t.Context()
	f := exchangeHarness{}.MakeExchange(ctx, t)
	tn := f.Tenant.(*memory.Tenant)
	g, err := tn.Exchange().CreateGroup(ctx, backend.NewDistributionGroup{Name: "Sales", Alias: "sales", PrimaryAddress: "sales@contoso.com"})
	require.NoError(t, err)
	_, err = tn.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: "SALES@contoso.com", DisplayName: "S", Password: "Sp4ring!Tide"})
	assert.ErrorIs(t, err, backend.ErrAlreadyExists, "a user cannot take a group's address")
	assert.Same(t, tn.Mail(), tn.Exchange(), "Mail and Exchange are one driver")

	defaulted, err := tn.Exchange().CreateGroup(ctx, backend.NewDistributionGroup{Name: "Support", Alias: "support"})
	require.NoError(t, err)
	assert.Equal(t, "support@contoso.com", defaulted.PrimaryAddress, "alias@the default domain")

	tn.Exchange().FailNext("AddMember", 1, backend.Errorf(backend.Throttled, "exchange: add member", "", "slow down"))
	assert.ErrorIs(t, tn.Exchange().AddMember(ctx, g.ID, defaulted.ID), backend.ErrThrottled)
	require.NoError(t, tn.Exchange().AddMember(ctx, g.ID, defaulted.ID))
	assert.Equal(t, 2, tn.Exchange().CountCalls("AddMember"))
}

func TestExchangeGroupAddressKeepsItsDomain(t *testing.T) {
	ctx := t.Context()
	tn := memory.NewTenant(nil)
	require.NoError(t, tn.AddVerifiedDomain("contoso.com", true))
	require.NoError(t, tn.AddVerifiedDomain("fabrikam.com", false))
	g, err := tn.Exchange().CreateGroup(ctx, backend.NewDistributionGroup{Name: "Sales", Alias: "sales", PrimaryAddress: "sales@fabrikam.com"})
	require.NoError(t, err)
	assert.Equal(t, backend.ReasonDomainInUse, backend.ReasonOf(tn.DeleteDomain(ctx, "fabrikam.com")), "a group's address holds its domain")
	require.NoError(t, tn.Exchange().DeleteGroup(ctx, g.ID))
	require.NoError(t, tn.DeleteDomain(ctx, "fabrikam.com"))
}

func TestExchangeConcurrentAddressesHaveOneOwner(t *testing.T) {
	ctx := t.Context()
	f := exchangeHarness{}.MakeExchange(ctx, t)
	tn := f.Tenant.(*memory.Tenant)
	x := tn.Exchange()
	var users []backend.OnlineUser
	for i := range 4 {
		u, err := tn.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: fmt.Sprintf("u%d@contoso.com", i), DisplayName: "U", Password: "Sp4ring!Tide"})
		require.NoError(t, err)
		users = append(users, u)
	}
	const n = 20
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range n {
				addr := fmt.Sprintf("shared%d@contoso.com", i)
				if w%2 == 0 {
					_ = x.AddAlias(ctx, users[w].UserPrincipalName, addr)
				} else {
					_, _ = x.CreateGroup(ctx, backend.NewDistributionGroup{Name: fmt.Sprintf("G%d-%d", w, i), Alias: fmt.Sprintf("g%d", i), PrimaryAddress: addr})
				}
			}
		})
	}
	wg.Wait()
	for i := range n {
		addr := fmt.Sprintf("shared%d@contoso.com", i)
		owners := 0
		for _, u := range users {
			as, err := x.ListAliases(ctx, u.UserPrincipalName)
			require.NoError(t, err)
			if slices.Contains(as, addr) {
				owners++
			}
		}
		for g, err := range x.ListGroups(ctx) {
			require.NoError(t, err)
			if g.PrimaryAddress == addr {
				owners++
			}
		}
		assert.Equal(t, 1, owners, "%s has exactly one owner", addr)
	}
}
