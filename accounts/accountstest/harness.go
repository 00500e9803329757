package accountstest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/internal/testclock"
)

// MemoryDirectory is a DirectoryHarness over a fresh memory directory; it
// also authenticates, so the flows check logons.
type MemoryDirectory struct{ d *memory.Directory }

// MakeDirectory implements backendtest.DirectoryHarness.
func (h *MemoryDirectory) MakeDirectory(context.Context, *testing.T) backend.Directory {
	h.d = memory.NewDirectory(nil)
	return h.d
}

// Authenticate implements backendtest.Authenticator.
func (h *MemoryDirectory) Authenticate(ctx context.Context, who, password string) error {
	return h.d.Authenticate(ctx, who, password)
}

// MemoryTenant is a TenantHarness over a fresh memory tenant with the
// verified domain contoso.com, an ENTERPRISEPACK SKU with three seats and a
// settable clock.
type MemoryTenant struct{}

// MakeTenant implements backendtest.TenantHarness.
func (MemoryTenant) MakeTenant(_ context.Context, t *testing.T) backendtest.TenantFixture {
	_, fx := NewMemoryTenant(t)
	return fx
}

// NewMemoryTenant returns the memory tenant MemoryTenant makes, and its
// fixture, for harnesses that serve it another way (the emulator).
func NewMemoryTenant(t *testing.T) (*memory.Tenant, backendtest.TenantFixture) {
	t.Helper()
	clock := testclock.At(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	tn := memory.NewTenant(&memory.TenantOptions{Now: clock.Now})
	require.NoError(t, tn.AddVerifiedDomain("contoso.com", true))
	sku, err := tn.AddSKU(backend.SKU{SKUID: "6fd2c87f-b296-42f0-b197-1e91e994b900", PartNumber: "ENTERPRISEPACK", Enabled: 3,
		ServicePlans: []backend.ServicePlan{{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE"}, {ID: "57ff2da0-773e-42df-b2af-ffb7a2317929", Name: "TEAMS1"}}})
	require.NoError(t, err)
	return tn, backendtest.TenantFixture{
		Tenant: tn, VerifiedDomain: "contoso.com", InitialDomain: "contoso.onmicrosoft.com", SKU: sku,
		PortalPasswordChange: tn.ChangePasswordInPortal,
		AdvanceClock:         clock.Advance,
		PublishVerification:  tn.PublishVerification,
	}
}
