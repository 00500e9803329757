package memory_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// A tenant seeded at construction with a verified custom domain, Office
// 365 E3 (with Microsoft's product GUID) and a licensed user; a second user
// finds no free seat.
func ExampleNewTenant() {
	ctx := context.Background()
	tn := memory.NewTenant(&memory.TenantOptions{
		Domains: []memory.DomainSeed{{Name: "contoso.com", Default: true}},
		SKUs:    []backend.SKU{memory.SKUEnterprisePack(1)},
		Users: []memory.UserSeed{{
			User: backend.NewOnlineUser{UserPrincipalName: "adele@contoso.com", DisplayName: "Adele Vance",
				UsageLocation: "US", Password: "Sp4ring!Tide"},
			Licenses: []backend.LicenseAssignment{{SKUID: memory.SKUIDEnterprisePack}},
		}},
	})
	u, err := tn.GetUser(ctx, "adele@contoso.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.UserPrincipalName, u.Licensed(), u.Mail)

	// The only seat is taken.
	bob, err := tn.CreateUser(ctx, backend.NewOnlineUser{
		UserPrincipalName: "bob@contoso.com", DisplayName: "Bob", UsageLocation: "US", Password: "Sp4ring!Tide",
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = tn.AssignLicenses(ctx, bob.ID, []backend.LicenseAssignment{{SKUID: memory.SKUIDEnterprisePack}}, nil)
	fmt.Println(errors.Is(err, backend.ErrFailedPrecondition), backend.ReasonOf(err) == backend.ReasonNoFreeLicense)
	// Output:
	// adele@contoso.com true adele@contoso.com
	// true true
}

// The imperative seeding helpers work as well, e.g. on a tenant built
// elsewhere.
func ExampleTenant_AddSKU() {
	ctx := context.Background()
	tn := memory.NewTenant(nil)
	if err := tn.AddVerifiedDomain("contoso.com", true); err != nil {
		log.Fatal(err)
	}
	sku, err := tn.AddSKU(memory.SKUBusinessPremium(5))
	if err != nil {
		log.Fatal(err)
	}
	skus, err := tn.SubscribedSKUs(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sku.PartNumber, sku.SKUID, skus[0].Available())
	// Output:
	// SPB cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46 5
}

// Inject throttling into the next call and read the call log, as a test of
// a retry loop would.
func ExampleTenant_FailNext() {
	ctx := context.Background()
	tn := memory.NewTenant(nil)
	tn.FailNext("CreateUser", 1, &backend.Error{Kind: backend.Throttled, RetryAfter: 3 * time.Second, Msg: "Too many requests"})
	nu := backend.NewOnlineUser{UserPrincipalName: "megan@contoso.onmicrosoft.com", DisplayName: "Megan", Password: "Sp4ring!Tide"}
	_, err := tn.CreateUser(ctx, nu)
	wait, throttled := backend.RetryAfter(err)
	fmt.Println(throttled, wait)
	_, err = tn.CreateUser(ctx, nu)
	fmt.Println(err)
	for _, c := range tn.Calls() {
		fmt.Println(c.Op, c.Key, c.Err != nil)
	}
	// Output:
	// true 3s
	// <nil>
	// CreateUser megan@contoso.onmicrosoft.com true
	// CreateUser megan@contoso.onmicrosoft.com false
}

// Deleted users can be restored for 30 days; the injected clock makes the
// purge testable.
func ExampleTenant_RestoreUser() {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tn := memory.NewTenant(&memory.TenantOptions{Now: func() time.Time { return now }})
	u, err := tn.CreateUser(ctx, backend.NewOnlineUser{
		UserPrincipalName: "alex@contoso.onmicrosoft.com", DisplayName: "Alex", Password: "Sp4ring!Tide",
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := tn.DeleteUser(ctx, u.ID); err != nil {
		log.Fatal(err)
	}
	now = now.Add(31 * 24 * time.Hour)
	_, err = tn.RestoreUser(ctx, u.ID)
	fmt.Println(errors.Is(err, backend.ErrNotFound))

	changes, err := tn.Changes(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(changes.Changes), "users after the purge")
	// Output:
	// true
	// 0 users after the purge
}

// Add a custom domain, publish its verification record and verify it.
func ExampleTenant_VerifyDomain() {
	ctx := context.Background()
	tn := memory.NewTenant(nil)
	if _, err := tn.AddDomain(ctx, "fabrikam.com"); err != nil {
		log.Fatal(err)
	}
	_, err := tn.VerifyDomain(ctx, "fabrikam.com")
	fmt.Println(string(backend.ReasonOf(err)))

	tn.PublishVerification("fabrikam.com")
	d, err := tn.VerifyDomain(ctx, "fabrikam.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Name, d.IsVerified)
	recs, err := tn.ServiceConfigurationRecords(ctx, "fabrikam.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(recs[0].Type, recs[0].Exchange, recs[0].Preference)
	// Output:
	// verification-record-missing
	// fabrikam.com true
	// MX fabrikam-com.mail.protection.outlook.com 0
}

// Aliases are unique across the tenant's users.
func ExampleMail_AddAlias() {
	ctx := context.Background()
	tn := memory.NewTenant(nil)
	for _, name := range []string{"sales", "support"} {
		_, err := tn.CreateUser(ctx, backend.NewOnlineUser{
			UserPrincipalName: name + "@contoso.onmicrosoft.com", DisplayName: name, Password: "Sp4ring!Tide",
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	m := tn.Mail()
	if err := m.AddAlias(ctx, "sales@contoso.onmicrosoft.com", "orders@contoso.onmicrosoft.com"); err != nil {
		log.Fatal(err)
	}
	err := m.AddAlias(ctx, "support@contoso.onmicrosoft.com", "Orders@contoso.onmicrosoft.com")
	fmt.Println(errors.Is(err, backend.ErrAlreadyExists))
	aliases, err := m.ListAliases(ctx, "sales@contoso.onmicrosoft.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(aliases)
	// Output:
	// true
	// [orders@contoso.onmicrosoft.com]
}
