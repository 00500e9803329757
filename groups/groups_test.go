package groups_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/groups"
	"github.com/essentials365/sdk/groups/groupstest"
)

// Microsoft's documented GUIDs.
const (
	skuExchangeStandard = "4b9405b0-7788-4568-add1-99614e613b69" // EXCHANGESTANDARD
	planExchange        = "9aaf7827-d63c-4b61-89c3-182f06f82e5c" // EXCHANGE_S_STANDARD
	skuPowerBIPro       = "f8a1db68-be16-40ed-86d5-cb42ce701560" // POWER_BI_PRO
	planPowerBI         = "70d33638-9c74-4d01-bfd3-562de28bd4ba" // BI_AZURE_P2
	planExchangeFound   = "113feb6c-3fe4-4440-bddc-54d774bf0318" // EXCHANGE_S_FOUNDATION: no mailbox
)

// NewMemoryFixture seeds a memory tenant as the flows ask.
func newMemoryFixture(t *testing.T, exchange bool) (*memory.Tenant, groupstest.Fixture) {
	t.Helper()
	tn := memory.NewTenant(nil)
	require.NoError(t, tn.AddVerifiedDomain("contoso.com", true))
	_, err := tn.AddDomain(context.Background(), "fabrikam.com")
	require.NoError(t, err)
	plain, err := tn.AddSKU(backend.SKU{SKUID: skuPowerBIPro, PartNumber: "POWER_BI_PRO", Enabled: 20, ServicePlans: []backend.ServicePlan{
		{ID: planPowerBI, Name: "BI_AZURE_P2"}, {ID: planExchangeFound, Name: "EXCHANGE_S_FOUNDATION"},
	}})
	require.NoError(t, err)
	f := groupstest.Fixture{Tenant: tn, Exchange: tn.Exchange(), VerifiedDomain: "contoso.com", UnverifiedDomain: "fabrikam.com",
		PlainSKU: plain.SKUID, FailNext: tn.Exchange().FailNext}
	if exchange {
		mbx, err := tn.AddSKU(backend.SKU{SKUID: skuExchangeStandard, PartNumber: "EXCHANGESTANDARD", Enabled: 20,
			ServicePlans: []backend.ServicePlan{{ID: planExchange, Name: "EXCHANGE_S_STANDARD"}}})
		require.NoError(t, err)
		f.MailboxSKU = mbx.SKUID
	}
	return tn, f
}

type memoryHarness struct{}

func (memoryHarness) MakeGroups(_ context.Context, t *testing.T, exchange bool) groupstest.Fixture {
	_, f := newMemoryFixture(t, exchange)
	return f
}

func TestFlowsOnMemory(t *testing.T) {
	groupstest.RunFlows(t, memoryHarness{})
}

func TestNewRequiresDrivers(t *testing.T) {
	tn := memory.NewTenant(nil)
	_, err := groups.New(nil, tn.Exchange(), nil)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	_, err = groups.New(tn, nil, nil)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
}
