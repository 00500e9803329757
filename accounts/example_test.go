package accounts_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// newCompany builds a small company in the memory backends.
func newCompany(users ...string) (*memory.Directory, *memory.Tenant) {
	ctx := context.Background()
	dir := memory.NewDirectory(nil)
	tenant := memory.NewTenant(nil)
	if err := tenant.AddVerifiedDomain("contoso.com", true); err != nil {
		log.Fatal(err)
	}
	_, err := tenant.AddSKU(backend.SKU{SKUID: e3SKU, PartNumber: "ENTERPRISEPACK", Enabled: 5,
		ServicePlans: []backend.ServicePlan{{ID: "5dbe027f-2339-4123-9542-606e4d348a72", Name: "SHAREPOINTENTERPRISE"}}})
	if err != nil {
		log.Fatal(err)
	}
	for _, sam := range users {
		if _, err := dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: sam, DisplayName: sam, Password: "Welcome-2026!"}); err != nil {
			log.Fatal(err)
		}
	}
	return dir, tenant
}

// Bulk-create online accounts for the users that have none: plan, review,
// apply.
func ExampleService_ApplyBulkCreate() {
	ctx := context.Background()
	dir, tenant := newCompany("ann", "ben")
	svc, err := accounts.New(dir, tenant, &accounts.Options{UsageLocation: "FR"})
	if err != nil {
		log.Fatal(err)
	}
	plan, err := svc.PlanBulkCreate(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range plan.Items {
		fmt.Println("proposed:", it.SAMAccountName, "->", it.OnlineID)
	}
	res, err := svc.ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{
		Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK", DisabledServices: []string{"SHAREPOINTENTERPRISE"}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", res.Done, "failed:", res.Failed)
	lics, _ := svc.Licenses(ctx)
	fmt.Println("free ENTERPRISEPACK seats:", lics[0].Available)
	// Output:
	// proposed: ann -> ann@contoso.com
	// proposed: ben -> ben@contoso.com
	// created: 2 failed: 0
	// free ENTERPRISEPACK seats: 3
}

// Unassigning frees the license and blocks sign-in, but keeps the mapping.
func ExampleService_Unassign() {
	ctx := context.Background()
	dir, tenant := newCompany("ann")
	svc, _ := accounts.New(dir, tenant, &accounts.Options{UsageLocation: "FR"})
	if _, err := svc.Assign(ctx, "ann", accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}}}); err != nil {
		log.Fatal(err)
	}
	st, _ := svc.Status(ctx, "ann")
	fmt.Println(st.OnlineID, st.State)
	if err := svc.Unassign(ctx, "ann"); err != nil {
		log.Fatal(err)
	}
	st, _ = svc.Status(ctx, "ann")
	fmt.Println(st.OnlineID, st.State, st.Mapping, "licensed:", st.Licensed)
	// Output:
	// ann@contoso.com active
	// ann@contoso.com inactive unassigned licensed: false
}

// A password set through the SDK reaches both accounts; one changed in the
// portal is reported as breaking the sync.
func ExampleService_SetPassword() {
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dir := memory.NewDirectory(&memory.DirectoryOptions{Now: clock})
	tenant := memory.NewTenant(&memory.TenantOptions{Now: clock})
	_ = tenant.AddVerifiedDomain("contoso.com", true)
	_, _ = dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: "ann", Password: "Welcome-2026!"})
	svc, _ := accounts.New(dir, tenant, &accounts.Options{Now: clock})
	_, _ = svc.Assign(ctx, "ann", accounts.OnlineChoice{NoLicense: true})

	state, err := svc.SetPassword(ctx, "ann", "Blue-Sky-2026")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sync:", state, "cloud has it:", tenant.CheckPassword("ann@contoso.com", "Blue-Sky-2026"))

	now = now.Add(time.Hour)
	_ = tenant.ChangePasswordInPortal(ctx, "ann@contoso.com", "Changed-In-Portal-1")
	st, _ := svc.Status(ctx, "ann")
	fmt.Println("password sync broken:", st.PasswordSyncBroken)
	// Output:
	// sync: synced cloud has it: true
	// password sync broken: true
}

// Reconcile makes online accounts follow changes made directly in AD.
func ExampleService_Reconcile() {
	ctx := context.Background()
	dir, tenant := newCompany("ann", "ben")
	svc, _ := accounts.New(dir, tenant, &accounts.Options{UsageLocation: "FR"})
	plan, _ := svc.PlanBulkCreate(ctx, nil)
	_, _ = svc.ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{NoLicense: true})
	_, _ = svc.Reconcile(ctx, nil) // first run reads everything

	ann, _ := dir.GetUserBySAMAccountName(ctx, "ann")
	_ = dir.SetEnabled(ctx, ann.ID, false) // an admin disables Ann in AD
	rep, err := svc.Reconcile(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("examined:", rep.Examined, "disabled:", rep.Disabled)
	// Output:
	// examined: 1 disabled: [ann@contoso.com]
}
