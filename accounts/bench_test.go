package accounts_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// benchCompany builds n users and a tenant with n seats.
func benchCompany(b *testing.B, n int) (*memory.Directory, *memory.Tenant) {
	b.Helper()
	ctx := context.Background()
	dir := memory.NewDirectory(&memory.DirectoryOptions{PageSize: 500})
	tenant := memory.NewTenant(&memory.TenantOptions{PageSize: 500})
	if err := tenant.AddVerifiedDomain("contoso.com", true); err != nil {
		b.Fatal(err)
	}
	if _, err := tenant.AddSKU(backend.SKU{SKUID: e3SKU, PartNumber: "ENTERPRISEPACK", Enabled: n}); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		sam := fmt.Sprintf("u%06d", i)
		if _, err := dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: sam, DisplayName: "User " + sam, Password: "Welcome-2026!"}); err != nil {
			b.Fatal(err)
		}
	}
	return dir, tenant
}

// paired runs sdk and baseline on fresh, identical data each iteration,
// in alternating order, times each itself and reports the medians and
// their ratio (sdk/baseline). The benchmark's own ns/op covers both.
func paired(b *testing.B, setup func(b *testing.B) (sdk, baseline func() error)) {
	var sdkT, baseT []time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		sdk, base := setup(b)
		b.StartTimer()
		type part struct {
			f   func() error
			out *[]time.Duration
		}
		order := []part{{sdk, &sdkT}, {base, &baseT}}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, p := range order {
			start := time.Now()
			if err := p.f(); err != nil {
				b.Fatal(err)
			}
			*p.out = append(*p.out, time.Since(start))
		}
		i++
	}
	med := func(v []time.Duration) float64 {
		s := slices.Clone(v)
		slices.Sort(s)
		return float64(s[len(s)/2]) / float64(time.Millisecond)
	}
	ms, mb := med(sdkT), med(baseT)
	b.ReportMetric(ms, "sdk-ms")
	b.ReportMetric(mb, "baseline-ms")
	b.ReportMetric(ms/mb, "ratio")
}

// BenchmarkBulkCreatePaired measures plan + apply of a bulk create
// (create, license, map, must change, with validation, seat check,
// idempotency records and audit) against the floor: the same backend calls
// written by hand on an identical company (one batch create, one batch
// license, then the mapping and must-change per user), with passwords
// generated before the clock starts. Both run on the memory drivers and
// pay the same costs of the fakes (password policy, call log); the ratio
// is the SDK's overhead, password generation included.
func BenchmarkBulkCreatePaired(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			paired(b, func(b *testing.B) (func() error, func() error) {
				ctx := context.Background()
				dir1, tenant1 := benchCompany(b, n)
				dir2, tenant2 := benchCompany(b, n)
				svc, err := accounts.New(dir1, tenant1, &accounts.Options{UsageLocation: "FR"})
				if err != nil {
					b.Fatal(err)
				}
				pws := make([]string, n)
				for i := range pws {
					pws[i] = accounts.GeneratePassword(16)
				}
				sdk := func() error {
					plan, err := svc.PlanBulkCreate(ctx, nil)
					if err != nil {
						return err
					}
					res, err := svc.ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}}})
					if err != nil || res.Done != n {
						return fmt.Errorf("sdk: done %d of %d: %v", res.Done, n, err)
					}
					return nil
				}
				base := func() error { return bulkBaseline(ctx, dir2, tenant2, pws) }
				return sdk, base
			})
		})
	}
}

// bulkBaseline is the hand-written bulk create: the calls the SDK makes,
// nothing else.
func bulkBaseline(ctx context.Context, dir *memory.Directory, tenant *memory.Tenant, pws []string) error {
	var users []backend.DirectoryUser
	var nus []backend.NewOnlineUser
	for u, err := range dir.ListUsers(ctx) {
		if err != nil {
			return err
		}
		nus = append(nus, backend.NewOnlineUser{UserPrincipalName: u.SAMAccountName + "@contoso.com", DisplayName: u.DisplayName,
			UsageLocation: "FR", Password: pws[len(users)], ImmutableID: u.ID.ImmutableID()})
		users = append(users, u)
	}
	ous, errs := tenant.CreateUsers(ctx, nus)
	changes := make([]backend.LicenseChange, len(ous))
	for i, ou := range ous {
		if errs[i] != nil {
			return errs[i]
		}
		changes[i] = backend.LicenseChange{UserID: ou.ID, Add: []backend.LicenseAssignment{{SKUID: e3SKU}}}
	}
	_, errs = tenant.AssignLicensesMany(ctx, changes)
	for i, ou := range ous {
		if errs[i] != nil {
			return errs[i]
		}
		if err := dir.SetOnlineAccount(ctx, users[i].ID, accounts.Mapping{ID: ou.ID, UPN: ou.UserPrincipalName, State: accounts.MappingAssigned}.String()); err != nil {
			return err
		}
		if err := dir.SetMustChangePassword(ctx, users[i].ID, true); err != nil {
			return err
		}
	}
	return nil
}
