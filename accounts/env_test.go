package accounts_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/essentials365/sdk/essentials365/retry"

	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/state"
	"github.com/essentials365/sdk/internal/testclock"
)

// env is a small company: a memory directory, a memory tenant with a
// verified custom domain and two SKUs, and a Service over them.
type env struct {
	t      *testing.T
	ctx    context.Context
	clock  *testclock.Clock
	dir    *memory.Directory
	tenant *memory.Tenant
	store  *state.MemoryStore
	svc    *accounts.Service
	e3     backend.SKU
	ex     backend.SKU
}

const (
	e3SKU = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	exSKU = "4b9405b0-7788-4568-add1-99614e613b69"
)

type envOpt func(*accounts.Options)

func newEnv(t *testing.T, seats int, opts ...envOpt) *env {
	t.Helper()
	e := &env{t: t, ctx: t.Context(), clock: testclock.At(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))}
	e.dir = memory.NewDirectory(&memory.DirectoryOptions{DNSName: "contoso.local", Now: e.clock.Now})
	e.tenant = memory.NewTenant(&memory.TenantOptions{Now: e.clock.Now})
	require.NoError(t, e.tenant.AddVerifiedDomain("contoso.com", true))
	var err error
	e.e3, err = e.tenant.AddSKU(backend.SKU{SKUID: e3SKU, PartNumber: "ENTERPRISEPACK", CapabilityStatus: "Enabled", Enabled: seats,
		ServicePlans: []backend.ServicePlan{
			{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE"},
			{ID: "5dbe027f-2339-4123-9542-606e4d348a72", Name: "SHAREPOINTENTERPRISE"},
			{ID: "57ff2da0-773e-42df-b2af-ffb7a2317929", Name: "TEAMS1"},
		}})
	require.NoError(t, err)
	e.ex, err = e.tenant.AddSKU(backend.SKU{SKUID: exSKU, PartNumber: "EXCHANGESTANDARD", CapabilityStatus: "Enabled", Enabled: 2,
		ServicePlans: []backend.ServicePlan{{ID: "9aaf7827-d63c-4b61-89c3-182f06f82e5c", Name: "EXCHANGE_S_STANDARD"}}})
	require.NoError(t, err)
	o := &accounts.Options{
		Mail:          e.tenant.Mail(),
		Now:           e.clock.Now,
		UsageLocation: "FR",
		Retry:         retry.Policy{Sleep: e.clock.Sleep},
	}
	for _, f := range opts {
		f(o)
	}
	e.svc, err = accounts.New(e.dir, e.tenant, o)
	require.NoError(t, err)
	return e
}

// addUsers creates n enabled users user001... with a known password.
func (e *env) addUsers(n int) []backend.DirectoryUser {
	e.t.Helper()
	var out []backend.DirectoryUser
	for i := 1; i <= n; i++ {
		out = append(out, e.addUser(fmt.Sprintf("user%03d", i), fmt.Sprintf("User %03d", i)))
	}
	return out
}

func (e *env) addUser(sam, display string) backend.DirectoryUser {
	e.t.Helper()
	u, err := e.dir.CreateUser(e.ctx, backend.NewDirectoryUser{SAMAccountName: sam, UserPrincipalName: sam + "@contoso.local",
		DisplayName: display, Password: "Initial-Pw-Kq7x"})
	require.NoError(e.t, err)
	return u
}

func (e *env) user(sam string) backend.DirectoryUser {
	e.t.Helper()
	u, err := e.dir.GetUserBySAMAccountName(e.ctx, sam)
	require.NoError(e.t, err)
	return u
}

func (e *env) online(idOrUPN string) backend.OnlineUser {
	e.t.Helper()
	u, err := e.tenant.GetUser(e.ctx, idOrUPN)
	require.NoError(e.t, err)
	return u
}

func (e *env) onlineCount() int {
	n := 0
	for _, err := range e.tenant.ListUsers(e.ctx) {
		require.NoError(e.t, err)
		n++
	}
	return n
}

func (e *env) seatsUsed(skuID string) int {
	skus, err := e.tenant.SubscribedSKUs(e.ctx)
	require.NoError(e.t, err)
	for _, s := range skus {
		if s.SKUID == skuID {
			return s.Consumed
		}
	}
	e.t.Fatalf("no SKU %s", skuID)
	return 0
}

// bulkCreate runs the whole bulk flow for every proposed user.
func (e *env) bulkCreate(lics ...accounts.LicenseChoice) *accounts.Result {
	e.t.Helper()
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(e.t, err)
	res, err := e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{Licenses: lics, NoLicense: len(lics) == 0})
	require.NoError(e.t, err)
	return res
}

var e3 = accounts.LicenseChoice{SKU: "ENTERPRISEPACK"}

func throttled(d time.Duration) error {
	return &backend.Error{Kind: backend.Throttled, Op: "test", Msg: "too many requests", RetryAfter: d}
}
