package exchangeonline_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/exchangeonline"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

const (
	testSKU  = "4b9405b0-7788-4568-add1-99614e613b69" // EXCHANGESTANDARD
	testPlan = "9aaf7827-d63c-4b61-89c3-182f06f82e5c" // EXCHANGE_S_STANDARD
)

// env is a memory tenant served by the emulator, and the driver talking
// to the emulator's Exchange side.
type env struct {
	tenant *memory.Tenant
	emu    *m365emulator.Server
	srv    *httptest.Server
	driver *exchangeonline.Driver
}

func newEnv(t *testing.T, pageSize int, emuOpts *m365emulator.Options) *env {
	t.Helper()
	tn := memory.NewTenant(nil)
	require.NoError(t, tn.AddVerifiedDomain("contoso.com", true))
	_, err := tn.AddSKU(backend.SKU{SKUID: testSKU, PartNumber: "EXCHANGESTANDARD", Enabled: 50,
		ServicePlans: []backend.ServicePlan{{ID: testPlan, Name: "EXCHANGE_S_STANDARD"}}})
	require.NoError(t, err)
	var o m365emulator.Options
	if emuOpts != nil {
		o = *emuOpts
	}
	o.Exchange = tn.Exchange()
	o.Mail = tn.Exchange()
	emu := m365emulator.New(tn, &o)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	org, err := tn.Organization(t.Context())
	require.NoError(t, err)
	d, err := exchangeonline.New(org.ID, exchangeonline.StaticToken("emulator"), &exchangeonline.Options{
		BaseURL: srv.URL, PageSize: pageSize, Pacing: pacer.Config{Disabled: true},
	})
	require.NoError(t, err)
	return &env{tenant: tn, emu: emu, srv: srv, driver: d}
}

type harness struct{ pageSize int }

func (h harness) MakeExchange(_ context.Context, t *testing.T) backendtest.ExchangeFixture {
	e := newEnv(t, h.pageSize, nil)
	return backendtest.ExchangeFixture{Exchange: e.driver, Tenant: e.tenant, VerifiedDomain: "contoso.com", MailboxSKU: testSKU}
}

func (h harness) MakeMail(_ context.Context, t *testing.T) backendtest.MailFixture {
	e := newEnv(t, h.pageSize, nil)
	return backendtest.MailFixture{Mail: e.driver, Tenant: e.tenant, VerifiedDomain: "contoso.com"}
}

func TestConformanceThroughEmulator(t *testing.T) {
	backendtest.RunExchangeTests(t, harness{})
	t.Run("SmallPages", func(t *testing.T) { backendtest.RunExchangeTests(t, harness{pageSize: 2}) })
}

func TestMailConformanceThroughEmulator(t *testing.T) {
	backendtest.RunMailTests(t, harness{})
}
