package backendtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// TenantHarness makes the tenant under test for [RunTenantTests].
type TenantHarness interface {
	// MakeTenant returns a fresh tenant, used by one subtest only. Cleanup
	// belongs in t.Cleanup.
	MakeTenant(ctx context.Context, t *testing.T) TenantFixture
}

// TenantFixture is a tenant under test and what the suite needs to know
// about it.
type TenantFixture struct {
	Tenant backend.Tenant
	// VerifiedDomain is a verified custom (non-initial) domain, e.g.
	// "contoso.com".
	VerifiedDomain string
	// InitialDomain is the tenant's onmicrosoft.com domain.
	InitialDomain string
	// SKU is a subscription with exactly 3 free seats at the start and at
	// least 2 service plans.
	SKU backend.SKU
	// PortalPasswordChange changes a password as the user does in the
	// Office 365 portal; nil when the harness cannot.
	PortalPasswordChange func(ctx context.Context, idOrUPN, password string) error
	// AdvanceClock moves the tenant's clock forward; nil when the harness
	// cannot, and then the clock-driven cases are skipped.
	AdvanceClock func(d time.Duration)
	// PublishVerification publishes a domain's verification TXT record;
	// nil when the harness cannot.
	PublishVerification func(domain string)
}

// tenantPassword meets Microsoft 365's password policy.
const tenantPassword = "Conf0rm!Passw0rd"

// RunTenantTests runs the conformance suite of [backend.Tenant] against the
// tenants h makes, and the checks of [backend.BatchTenant] and
// [backend.DomainAdmin] when the tenant implements them.
func RunTenantTests(t *testing.T, h TenantHarness) {
	t.Run("CreateAndGet", func(t *testing.T) { tenantTestCreateAndGet(t, h) })
	t.Run("AlreadyExists", func(t *testing.T) { tenantTestAlreadyExists(t, h) })
	t.Run("Validation", func(t *testing.T) { tenantTestValidation(t, h) })
	t.Run("Update", func(t *testing.T) { tenantTestUpdate(t, h) })
	t.Run("PasswordChange", func(t *testing.T) { tenantTestPasswordChange(t, h) })
	t.Run("DeleteRestore", func(t *testing.T) { tenantTestDeleteRestore(t, h) })
	t.Run("PurgeAfter30Days", func(t *testing.T) { tenantTestPurge(t, h) })
	t.Run("SKUs", func(t *testing.T) { tenantTestSKUs(t, h) })
	t.Run("AssignDisabledPlans", func(t *testing.T) { tenantTestAssignDisabledPlans(t, h) })
	t.Run("AssignNeedsUsageLocation", func(t *testing.T) { tenantTestAssignUsageLocation(t, h) })
	t.Run("Seats", func(t *testing.T) { tenantTestSeats(t, h) })
	t.Run("ListUsers", func(t *testing.T) { tenantTestListUsers(t, h) })
	t.Run("Changes", func(t *testing.T) { tenantTestChanges(t, h) })
	t.Run("Domains", func(t *testing.T) { tenantTestDomains(t, h) })
	t.Run("CanceledContext", func(t *testing.T) { tenantTestCanceled(t, h) })
	t.Run("Batch", func(t *testing.T) { tenantTestBatch(t, h) })
	t.Run("DomainAdmin", func(t *testing.T) { tenantTestDomainAdmin(t, h) })
}

// tenantRequireKind fails the test unless err has the kind and, when
// reasons are given, names one of them.
func tenantRequireKind(t testing.TB, err error, kind backend.Kind, reasons ...backend.Reason) {
	t.Helper()
	require.Error(t, err, "want an error of kind %v", kind)
	require.Equal(t, kind, backend.KindOf(err), "error %v", err)
	require.ErrorIs(t, err, tenantSentinel(kind))
	if len(reasons) > 0 {
		require.Contains(t, reasons, backend.ReasonOf(err), "error %v names the wrong rule", err)
	}
}

// tenantRequireOp fails the test unless the first *backend.Error of err
// names op: every driver of a contract words its operations alike.
func tenantRequireOp(t testing.TB, err error, op string) {
	t.Helper()
	var be *backend.Error
	require.ErrorAs(t, err, &be)
	require.Equal(t, op, be.Op, "error %v", err)
}

// tenantSentinel returns the errors.Is sentinel of kind.
func tenantSentinel(kind backend.Kind) error {
	return map[backend.Kind]error{
		backend.NotFound:           backend.ErrNotFound,
		backend.AlreadyExists:      backend.ErrAlreadyExists,
		backend.InvalidArgument:    backend.ErrInvalidArgument,
		backend.FailedPrecondition: backend.ErrFailedPrecondition,
		backend.PermissionDenied:   backend.ErrPermissionDenied,
		backend.Throttled:          backend.ErrThrottled,
		backend.Unavailable:        backend.ErrUnavailable,
		backend.Unimplemented:      backend.ErrUnimplemented,
		backend.Canceled:           backend.ErrCanceled,
	}[kind]
}

func tenantNewUser(f TenantFixture, prefix string) backend.NewOnlineUser {
	return suiteNewUser(f.VerifiedDomain, "Conformance", prefix)
}

func tenantCreate(ctx context.Context, t *testing.T, f TenantFixture, prefix string) backend.OnlineUser {
	t.Helper()
	return suiteCreateUser(ctx, t, f.Tenant, tenantNewUser(f, prefix))
}

// suiteNewUser is the user the suites create: a unique name from prefix on
// domain, displayed as label and that name, in the US, with the suites'
// password.
func suiteNewUser(domain, label, prefix string) backend.NewOnlineUser {
	name := UniqueName(prefix)
	return backend.NewOnlineUser{
		UserPrincipalName: name + "@" + domain,
		DisplayName:       label + " " + name,
		UsageLocation:     "US",
		Password:          tenantPassword,
	}
}

// suiteCreateUser creates nu in tn; the test stops when it fails.
func suiteCreateUser(ctx context.Context, t *testing.T, tn backend.Tenant, nu backend.NewOnlineUser) backend.OnlineUser {
	t.Helper()
	u, err := tn.CreateUser(ctx, nu)
	require.NoError(t, err)
	return u
}

func tenantFindSKU(ctx context.Context, t *testing.T, f TenantFixture) backend.SKU {
	t.Helper()
	skus, err := f.Tenant.SubscribedSKUs(ctx)
	require.NoError(t, err)
	for _, s := range skus {
		if strings.EqualFold(s.SKUID, f.SKU.SKUID) {
			return s
		}
	}
	require.Failf(t, "SKU missing", "SubscribedSKUs does not list %s", f.SKU.SKUID)
	return backend.SKU{}
}

func tenantHolds(u backend.OnlineUser, skuID string) (backend.AssignedLicense, bool) {
	for _, l := range u.AssignedLicenses {
		if strings.EqualFold(l.SKUID, skuID) {
			return l, true
		}
	}
	return backend.AssignedLicense{}, false
}

func tenantTestCanceled(t *testing.T, h TenantHarness) {
	f := h.MakeTenant(t.Context(), t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// Each call with the op every tenant driver words it with.
	calls := map[string]struct {
		op   string
		call func() error
	}{
		"Organization": {"tenant: get organization", func() error { _, err := f.Tenant.Organization(ctx); return err }},
		"GetUser":      {"tenant: get user", func() error { _, err := f.Tenant.GetUser(ctx, "x@"+f.VerifiedDomain); return err }},
		"CreateUser":   {"tenant: create user", func() error { _, err := f.Tenant.CreateUser(ctx, tenantNewUser(f, "cancel")); return err }},
		"Changes":      {"tenant: list changes", func() error { _, err := f.Tenant.Changes(ctx, ""); return err }},
		"SKUs":         {"tenant: list subscribed skus", func() error { _, err := f.Tenant.SubscribedSKUs(ctx); return err }},
		"Domains":      {"tenant: list domains", func() error { _, err := f.Tenant.Domains(ctx); return err }},
		"Deleted":      {"tenant: list deleted users", func() error { _, err := f.Tenant.ListDeletedUsers(ctx); return err }},
		"ListUsers": {"tenant: list users", func() error {
			for _, err := range f.Tenant.ListUsers(ctx) {
				return err
			}
			return nil
		}},
	}
	for name, c := range calls {
		t.Run(name, func(t *testing.T) {
			err := c.call()
			tenantRequireKind(t, err, backend.Canceled)
			tenantRequireOp(t, err, c.op)
		})
	}
}
