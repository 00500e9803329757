package groups_test

import (
	"context"
	"fmt"
	"log"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/groups"
)

// A group with a nested group: its mail reaches the users of both.
func ExampleService_EffectiveMembers() {
	ctx := context.Background()
	tn := memory.NewTenant(nil)
	if err := tn.AddVerifiedDomain("contoso.com", true); err != nil {
		log.Fatal(err)
	}
	if _, err := tn.AddSKU(backend.SKU{SKUID: skuExchangeStandard, PartNumber: "EXCHANGESTANDARD", Enabled: 5,
		ServicePlans: []backend.ServicePlan{{ID: planExchange, Name: "EXCHANGE_S_STANDARD"}}}); err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"ann", "bob"} {
		u, err := tn.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: name + "@contoso.com", DisplayName: name, UsageLocation: "FR", Password: "Sp4ring!Tide"})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := tn.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: skuExchangeStandard}}, nil); err != nil {
			log.Fatal(err)
		}
	}
	svc, err := groups.New(tn, tn.Exchange(), nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := svc.Create(ctx, groups.NewGroup{Name: "Sales", Alias: "sales", Members: []string{"ann@contoso.com"}}); err != nil {
		log.Fatal(err)
	}
	all, err := svc.Create(ctx, groups.NewGroup{Name: "Everyone", Alias: "everyone", Members: []string{"bob@contoso.com", "Sales"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(all.PrimaryAddress, all.ExternalSendersAllowed)
	users, err := svc.EffectiveMembers(ctx, "Everyone")
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range users {
		fmt.Println(u.PrimaryAddress)
	}
	// Output:
	// everyone@contoso.com true
	// ann@contoso.com
	// bob@contoso.com
}
