package accountstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts/accountstest"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

type memDir struct{ d *memory.Directory }

func (h *memDir) MakeDirectory(context.Context, *testing.T) backend.Directory {
	h.d = memory.NewDirectory(nil)
	return h.d
}

func (h *memDir) Authenticate(ctx context.Context, who, pw string) error {
	return h.d.Authenticate(ctx, who, pw)
}

type memTenant struct{}

func (memTenant) MakeTenant(_ context.Context, t *testing.T) backendtest.TenantFixture {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := &now
	tn := memory.NewTenant(&memory.TenantOptions{Now: func() time.Time { return *clock }})
	require.NoError(t, tn.AddVerifiedDomain("contoso.com", true))
	sku, err := tn.AddSKU(backend.SKU{SKUID: "6fd2c87f-b296-42f0-b197-1e91e994b900", PartNumber: "ENTERPRISEPACK", Enabled: 3,
		ServicePlans: []backend.ServicePlan{{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE"}, {ID: "57ff2da0-773e-42df-b2af-ffb7a2317929", Name: "TEAMS1"}}})
	require.NoError(t, err)
	return backendtest.TenantFixture{
		Tenant: tn, VerifiedDomain: "contoso.com", InitialDomain: "contoso.onmicrosoft.com", SKU: sku,
		PortalPasswordChange: tn.ChangePasswordInPortal,
		AdvanceClock:         func(d time.Duration) { *clock = clock.Add(d) },
		PublishVerification:  tn.PublishVerification,
	}
}

func TestFlowsOnMemoryDrivers(t *testing.T) {
	accountstest.RunFlows(t, &memDir{}, memTenant{})
}
