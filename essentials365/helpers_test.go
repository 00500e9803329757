package essentials365_test

import (
	"context"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/retry"
	"github.com/essentials365/sdk/essentials365/state"
	"github.com/essentials365/sdk/internal/testclock"
)

const (
	e3SKU    = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	tenantID = "9f0e2b6c-3c47-4d2e-9b8e-6a1f7c2d5e41"
)

// company is a small company: a memory domain, a memory tenant with a
// custom domain and an E3 subscription, and the integration over them.
type company struct {
	t      *testing.T
	ctx    context.Context
	clock  *testclock.Clock
	dir    *memory.Directory
	tenant *memory.Tenant
	store  state.Store
	audit  *audit.Recorder
	opts   *essentials365.Options
}

func newCompany(t *testing.T, dirOpts *memory.DirectoryOptions) *company {
	t.Helper()
	c := &company{t: t, ctx: t.Context(), clock: testclock.New(), store: state.NewMemoryStore(), audit: &audit.Recorder{}}
	var do memory.DirectoryOptions
	if dirOpts != nil {
		do = *dirOpts
	}
	do.Now = c.clock.Now
	c.dir = memory.NewDirectory(&do)
	c.tenant = memory.NewTenant(&memory.TenantOptions{TenantID: tenantID, DisplayName: "Contoso", Now: c.clock.Now})
	require.NoError(t, c.tenant.AddVerifiedDomain("contoso.com", true))
	_, err := c.tenant.AddSKU(backend.SKU{SKUID: e3SKU, PartNumber: "ENTERPRISEPACK", Enabled: 10,
		ServicePlans: []backend.ServicePlan{
			{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE"},
			{ID: "5dbe027f-2339-4123-9542-606e4d348a72", Name: "SHAREPOINTENTERPRISE"},
		}})
	require.NoError(t, err)
	c.opts = &essentials365.Options{
		Mail:     c.tenant.Mail(),
		Store:    c.store,
		Now:      c.clock.Now,
		Retry:    retry.Policy{Sleep: c.clock.Sleep, MaxAttempts: 3},
		Audit:    c.audit.Hook(),
		Accounts: &accounts.Options{UsageLocation: "FR"},
	}
	return c
}

// open opens the integration over the company's drivers.
func (c *company) open() *essentials365.Integration {
	c.t.Helper()
	return c.openWith(c.tenant)
}

func (c *company) openWith(tenant backend.Tenant) *essentials365.Integration {
	c.t.Helper()
	i, err := essentials365.Open(c.ctx, c.dir, tenant, c.opts)
	require.NoError(c.t, err)
	return i
}

// integrated opens and integrates.
func (c *company) integrated() *essentials365.Integration {
	c.t.Helper()
	i := c.open()
	_, err := i.Integrate(c.ctx)
	require.NoError(c.t, err)
	return i
}

// tenantWrites returns the write calls the memory tenant received.
func tenantWrites(t *memory.Tenant) []memory.Call {
	var out []memory.Call
	for _, c := range t.Calls() {
		switch c.Op {
		case "CreateUser", "CreateUsers", "UpdateUser", "DeleteUser", "RestoreUser", "AssignLicenses", "AssignLicensesMany",
			"AddDomain", "VerifyDomain", "DeleteDomain", "AddAlias", "RemoveAlias":
			out = append(out, c)
		}
	}
	return out
}

// unavailable is what a tenant that refuses every connection returns.
func unavailable(context.Context, string, string) error {
	return &backend.Error{Kind: backend.Unavailable, Op: "tenant: call", Msg: "Microsoft Graph did not answer",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
}
