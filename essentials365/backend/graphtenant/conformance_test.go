package graphtenant

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/internal/testclock"
)

const (
	testToken   = "emulator-token"
	testSKUID   = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46" // SPB, Microsoft 365 Business Premium
	testDomain  = "contoso.com"
	testInitial = "contoso.onmicrosoft.com"
)

// emulated is a memory tenant behind the emulator behind the driver.
type emulated struct {
	mem    *memory.Tenant
	server *m365emulator.Server
	driver *Tenant
	sku    backend.SKU
	clock  *testclock.Clock
}

// newEmulated seeds a memory tenant as the conformance fixture asks (a
// verified custom domain, a SKU with seats free seats and two plans),
// serves it with the emulator and connects the driver to it.
func newEmulated(t testing.TB, seats int, eopts *m365emulator.Options, mutate ...func(*Config)) *emulated {
	t.Helper()
	clk := testclock.At(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	mem := memory.NewTenant(&memory.TenantOptions{Now: clk.Now, InitialDomain: testInitial})
	require.NoError(t, mem.AddVerifiedDomain(testDomain, false))
	sku, err := mem.AddSKU(backend.SKU{
		SKUID: testSKUID, PartNumber: "SPB", Enabled: seats,
		ServicePlans: []backend.ServicePlan{
			{ID: "9aaf7827-d63c-4b61-89c3-182f06f82e5c", Name: "EXCHANGE_S_STANDARD"},
			{ID: "5dbe027f-2339-4123-9542-606e4d348a72", Name: "SHAREPOINTSTANDARD"},
		},
	})
	require.NoError(t, err)
	if eopts == nil {
		// Graph promises no order in a batch's answers: prove that results
		// are matched by id.
		eopts = &m365emulator.Options{ShuffleBatch: true}
	}
	if eopts.Now == nil && eopts.Throttling == nil {
		eopts.Now = clk.Now
	}
	eopts.Token = testToken
	es := m365emulator.New(mem, eopts)
	srv := httptest.NewServer(es)
	t.Cleanup(srv.Close)
	cfg := Config{
		Credential: StaticToken(testToken),
		BaseURL:    srv.URL + "/v1.0",
		RateLimit:  pacer.Config{Disabled: true},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	drv, err := New(cfg)
	require.NoError(t, err)
	return &emulated{mem: mem, server: es, driver: drv, sku: sku, clock: clk}
}

type emulatorHarness struct{}

func (emulatorHarness) MakeTenant(ctx context.Context, t *testing.T) backendtest.TenantFixture {
	e := newEmulated(t, 3, nil)
	return backendtest.TenantFixture{
		Tenant:               e.driver,
		VerifiedDomain:       testDomain,
		InitialDomain:        testInitial,
		SKU:                  e.sku,
		PortalPasswordChange: e.mem.ChangePasswordInPortal,
		AdvanceClock:         e.clock.Advance,
		PublishVerification:  e.mem.PublishVerification,
	}
}

// TestConformance runs the tenant conformance suite on the driver, through
// the emulator, over a fresh memory tenant per subtest.
func TestConformance(t *testing.T) {
	backendtest.RunTenantTests(t, emulatorHarness{})
}
