package domains_test

import (
	"context"
	"fmt"
	"log"

	"github.com/essentials365/sdk/domains"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// Link a domain whose zone the SDK can write: here a memory zone, in
// production an rfc2136 or sambadns zone. The memory tenant verifies by
// looking the TXT record up in that zone.
func ExampleService_ApplyLink() {
	ctx := context.Background()
	zone := memory.NewZone("fabrikam.com", nil)
	tenant := memory.NewTenant(&memory.TenantOptions{LookupTXT: zone.LookupTXT})
	svc, err := domains.New(tenant, &domains.Options{Zone: zone, CheckServer: "127.0.0.1:1"})
	if err != nil {
		log.Fatal(err)
	}
	plan, err := svc.PlanLink(ctx, "Fabrikam.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(plan.Domain.Name, plan.Publish, plan.Steps)
	res, err := svc.ApplyLink(ctx, plan, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verified:", res.Verified, "records written:", len(res.Published))
	recs, _ := zone.Records(ctx, "autodiscover.fabrikam.com")
	fmt.Println(recs[0])
	if _, err := svc.SetDefault(ctx, "fabrikam.com"); err != nil {
		log.Fatal(err)
	}
	err = svc.Remove(ctx, "fabrikam.com", nil)
	fmt.Println(backend.ReasonOf(err))
	// Output:
	// fabrikam.com zone [add publish-verification verify publish-services check]
	// verified: true records written: 10
	// autodiscover.fabrikam.com. 3600 IN CNAME autodiscover.outlook.com.
	// domain-default
}
