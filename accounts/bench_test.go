package accounts_test

import (
	"context"
	"fmt"
	"testing"

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

// BenchmarkBulkCreate measures plan + apply (create, license, map, must
// change) over the memory backends.
func BenchmarkBulkCreate(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				dir, tenant := benchCompany(b, n)
				svc, err := accounts.New(dir, tenant, &accounts.Options{UsageLocation: "FR"})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				ctx := context.Background()
				plan, err := svc.PlanBulkCreate(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				res, err := svc.ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}}})
				if err != nil || res.Done != n {
					b.Fatalf("done %d of %d: %v", res.Done, n, err)
				}
			}
			b.ReportMetric(float64(n), "users/op")
		})
	}
}

// BenchmarkBulkCreateBaseline is the floor: the same backend calls written
// by hand in a loop (create, license, map, must change), with no plan,
// validation, seat check, idempotency or results. The ratio to
// BenchmarkBulkCreate is the SDK's overhead.
func BenchmarkBulkCreateBaseline(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				dir, tenant := benchCompany(b, n)
				b.StartTimer()
				ctx := context.Background()
				for u, err := range dir.ListUsers(ctx) {
					if err != nil {
						b.Fatal(err)
					}
					ou, err := tenant.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: u.SAMAccountName + "@contoso.com", DisplayName: u.DisplayName,
						UsageLocation: "FR", Password: accounts.GeneratePassword(16), ImmutableID: u.ID.ImmutableID()})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := tenant.AssignLicenses(ctx, ou.ID, []backend.LicenseAssignment{{SKUID: e3SKU}}, nil); err != nil {
						b.Fatal(err)
					}
					if err := dir.SetOnlineAccount(ctx, u.ID, accounts.Mapping{ID: ou.ID, UPN: ou.UserPrincipalName, State: accounts.MappingAssigned}.String()); err != nil {
						b.Fatal(err)
					}
					if err := dir.SetMustChangePassword(ctx, u.ID, true); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n), "users/op")
		})
	}
}
