package exchangeonline_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/exchangeonline"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/essentials365/retry"
	"github.com/essentials365/sdk/groups/groupstest"
)

const (
	skuPowerBIPro = "f8a1db68-be16-40ed-86d5-cb42ce701560" // POWER_BI_PRO
	planPowerBI   = "70d33638-9c74-4d01-bfd3-562de28bd4ba" // BI_AZURE_P2
)

// product is what a vendor's product wires: the Graph driver for the
// tenant and the Exchange Online driver, both reaching one emulator over a
// memory tenant.
type product struct {
	mem      *memory.Tenant
	graph    *graphtenant.Tenant
	exchange *exchangeonline.Driver
}

func newProduct(t *testing.T, withExchange bool) *product {
	t.Helper()
	mem := memory.NewTenant(&memory.TenantOptions{InitialDomain: "contoso.onmicrosoft.com"})
	require.NoError(t, mem.AddVerifiedDomain("contoso.com", true))
	_, err := mem.AddDomain(context.Background(), "fabrikam.com")
	require.NoError(t, err)
	_, err = mem.AddSKU(backend.SKU{SKUID: skuPowerBIPro, PartNumber: "POWER_BI_PRO", Enabled: 20,
		ServicePlans: []backend.ServicePlan{{ID: planPowerBI, Name: "BI_AZURE_P2"}}})
	require.NoError(t, err)
	opts := &m365emulator.Options{Token: "emulator", Mail: mem.Exchange()}
	if withExchange {
		_, err = mem.AddSKU(backend.SKU{SKUID: testSKU, PartNumber: "EXCHANGESTANDARD", Enabled: 20,
			ServicePlans: []backend.ServicePlan{{ID: testPlan, Name: "EXCHANGE_S_STANDARD"}}})
		require.NoError(t, err)
		opts.Exchange = mem.Exchange()
	}
	srv := httptest.NewServer(m365emulator.New(mem, opts))
	t.Cleanup(srv.Close)
	g, err := graphtenant.New(graphtenant.Config{Credential: graphtenant.StaticToken("emulator"), BaseURL: srv.URL + "/v1.0",
		RateLimit: pacer.Config{Disabled: true}})
	require.NoError(t, err)
	x, err := exchangeonline.New("contoso.onmicrosoft.com", exchangeonline.StaticToken("emulator"),
		&exchangeonline.Options{BaseURL: srv.URL, Pacing: pacer.Config{Disabled: true}, PageSize: 3})
	require.NoError(t, err)
	return &product{mem: mem, graph: g, exchange: x}
}

type productHarness struct{}

func (productHarness) MakeGroups(_ context.Context, t *testing.T, withExchange bool) groupstest.Fixture {
	p := newProduct(t, withExchange)
	return groupstest.Fixture{
		Tenant: p.graph, Exchange: p.exchange, VerifiedDomain: "contoso.com", UnverifiedDomain: "fabrikam.com",
		MailboxSKU: testSKU, PlainSKU: skuPowerBIPro, FailNext: p.mem.Exchange().FailNext,
	}
}

// TestGroupFlowsThroughGraphAndExchange runs the groups flows as a product
// on Microsoft 365 runs them: Graph for the tenant, Exchange Online's
// admin REST for the groups, both through the emulator.
func TestGroupFlowsThroughGraphAndExchange(t *testing.T) {
	groupstest.RunFlows(t, productHarness{})
}

// TestAccountsAliasesThroughGraphAndExchange: a product on the Graph
// tenant driver manages its users' aliases through the Exchange driver.
func TestAccountsAliasesThroughGraphAndExchange(t *testing.T) {
	ctx := t.Context()
	p := newProduct(t, true)
	dir := memory.NewDirectory(nil)
	for _, sam := range []string{"ann", "bob"} {
		_, err := dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: sam, UserPrincipalName: sam + "@corp.example",
			DisplayName: sam, Password: "Begin-Pass-2026"})
		require.NoError(t, err)
	}
	svc, err := accounts.New(dir, p.graph, &accounts.Options{Mail: p.exchange, UsageLocation: "FR",
		Retry: retry.Policy{Sleep: func(context.Context, time.Duration) error { return nil }}})
	require.NoError(t, err)
	plan, err := svc.PlanBulkCreate(ctx, nil)
	require.NoError(t, err)
	_, err = svc.ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{{SKU: "EXCHANGESTANDARD"}}})
	require.NoError(t, err)

	require.NoError(t, svc.AddAlias(ctx, "ann", "sales@contoso.com"))
	require.NoError(t, svc.AddAlias(ctx, "ann", "Info@Contoso.com"))
	got, err := svc.Aliases(ctx, "ann")
	require.NoError(t, err)
	assert.Equal(t, []string{"info@contoso.com", "sales@contoso.com"}, got)

	addrs, err := p.mem.Exchange().ListAliases(ctx, "ann@contoso.com")
	require.NoError(t, err)
	assert.Equal(t, []string{"info@contoso.com", "sales@contoso.com"}, addrs, "the aliases reached Exchange Online")

	err = svc.AddAlias(ctx, "bob", "sales@contoso.com")
	assert.ErrorIs(t, err, backend.ErrAlreadyExists, "another user's alias")
	err = svc.AddAlias(ctx, "bob", "bob@fabrikam.com")
	assert.ErrorIs(t, err, backend.ErrFailedPrecondition, "an unverified domain")
	assert.Equal(t, accounts.ReasonDomainUnverified, backend.ReasonOf(err))

	p.mem.Exchange().FailNext("AddAlias", 2, &backend.Error{Kind: backend.Throttled, Op: "exchange: add address", Msg: "slow down", RetryAfter: time.Second})
	require.NoError(t, svc.AddAlias(ctx, "bob", "bob.smith@contoso.com"), "a throttled tenant is retried by the one retry layer")

	require.NoError(t, svc.RemoveAlias(ctx, "ann", "sales@contoso.com"))
	assert.ErrorIs(t, svc.RemoveAlias(ctx, "ann", "sales@contoso.com"), backend.ErrNotFound)
	got, err = svc.Aliases(ctx, "ann")
	require.NoError(t, err)
	assert.Equal(t, []string{"info@contoso.com"}, got)
}
