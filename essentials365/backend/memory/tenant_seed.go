package memory

import (
	"context"
	"fmt"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Product GUIDs (skuId) of well-known Microsoft 365 subscriptions, as
// Microsoft publishes them in "Product names and service plan identifiers
// for licensing"
// (https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference).
const (
	// SKUIDEnterprisePack is ENTERPRISEPACK, Office 365 E3.
	SKUIDEnterprisePack = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	// SKUIDO365BusinessPremium is O365_BUSINESS_PREMIUM, Microsoft 365
	// Business Standard.
	SKUIDO365BusinessPremium = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"
	// SKUIDO365BusinessEssentials is O365_BUSINESS_ESSENTIALS, Microsoft
	// 365 Business Basic.
	SKUIDO365BusinessEssentials = "3b555118-da6a-4418-894f-7df1e2096870"
	// SKUIDSPB is SPB, Microsoft 365 Business Premium.
	SKUIDSPB = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"
	// SKUIDExchangeStandard is EXCHANGESTANDARD, Exchange Online (Plan 1).
	SKUIDExchangeStandard = "4b9405b0-7788-4568-add1-99614e613b69"
)

// Service plan GUIDs of those subscriptions, from the same reference.
const (
	PlanExchangeEnterprise   = "efb87545-963c-4e0d-99df-69c6916d9eb0" // EXCHANGE_S_ENTERPRISE
	PlanExchangeStandard     = "9aaf7827-d63c-4b61-89c3-182f06f82e5c" // EXCHANGE_S_STANDARD
	PlanSharePointEnterprise = "5dbe027f-2339-4123-9542-606e4d348a72" // SHAREPOINTENTERPRISE
	PlanSharePointStandard   = "c7699d2e-19aa-44de-8edf-1736da088ca1" // SHAREPOINTSTANDARD
	PlanTeams                = "57ff2da0-773e-42df-b2af-ffb7a2317929" // TEAMS1
	PlanSkypeForBusiness     = "0feaeb32-d00e-4d66-bd5a-43b5b83db82c" // MCOSTANDARD
)

// businessPlans are the service plans the Business subscriptions share.
func businessPlans() []backend.ServicePlan {
	return []backend.ServicePlan{
		{ID: PlanExchangeStandard, Name: "EXCHANGE_S_STANDARD"},
		{ID: PlanSharePointStandard, Name: "SHAREPOINTSTANDARD"},
		{ID: PlanSkypeForBusiness, Name: "MCOSTANDARD"},
		{ID: PlanTeams, Name: "TEAMS1"},
	}
}

// SKUEnterprisePack is Office 365 E3 (ENTERPRISEPACK) with seats seats.
func SKUEnterprisePack(seats int) backend.SKU {
	return backend.SKU{SKUID: SKUIDEnterprisePack, PartNumber: "ENTERPRISEPACK", Enabled: seats, ServicePlans: []backend.ServicePlan{
		{ID: PlanExchangeEnterprise, Name: "EXCHANGE_S_ENTERPRISE"},
		{ID: PlanSharePointEnterprise, Name: "SHAREPOINTENTERPRISE"},
		{ID: PlanSkypeForBusiness, Name: "MCOSTANDARD"},
		{ID: PlanTeams, Name: "TEAMS1"},
	}}
}

// SKUO365BusinessPremium is Microsoft 365 Business Standard
// (O365_BUSINESS_PREMIUM) with seats seats.
func SKUO365BusinessPremium(seats int) backend.SKU {
	return backend.SKU{SKUID: SKUIDO365BusinessPremium, PartNumber: "O365_BUSINESS_PREMIUM", Enabled: seats, ServicePlans: businessPlans()}
}

// SKUO365BusinessEssentials is Microsoft 365 Business Basic
// (O365_BUSINESS_ESSENTIALS) with seats seats.
func SKUO365BusinessEssentials(seats int) backend.SKU {
	return backend.SKU{SKUID: SKUIDO365BusinessEssentials, PartNumber: "O365_BUSINESS_ESSENTIALS", Enabled: seats, ServicePlans: businessPlans()}
}

// SKUBusinessPremium is Microsoft 365 Business Premium (SPB) with seats
// seats.
func SKUBusinessPremium(seats int) backend.SKU {
	return backend.SKU{SKUID: SKUIDSPB, PartNumber: "SPB", Enabled: seats, ServicePlans: businessPlans()}
}

// SKUExchangeStandard is Exchange Online (Plan 1) (EXCHANGESTANDARD) with
// seats seats.
func SKUExchangeStandard(seats int) backend.SKU {
	return backend.SKU{SKUID: SKUIDExchangeStandard, PartNumber: "EXCHANGESTANDARD", Enabled: seats, ServicePlans: []backend.ServicePlan{
		{ID: PlanExchangeStandard, Name: "EXCHANGE_S_STANDARD"},
	}}
}

// seed applies the domains, SKUs and users of o, in that order, then
// empties the call log.
func (t *Tenant) seed(o TenantOptions) error {
	ctx := context.Background()
	for _, d := range o.Domains {
		var err error
		if d.Unverified {
			_, err = t.AddDomain(ctx, d.Name)
		} else {
			err = t.AddVerifiedDomain(d.Name, d.Default)
		}
		if err != nil {
			return fmt.Errorf("seed domain %q: %w", d.Name, err)
		}
	}
	for _, s := range o.SKUs {
		if _, err := t.AddSKU(s); err != nil {
			return fmt.Errorf("seed SKU %q: %w", s.PartNumber, err)
		}
	}
	for _, u := range o.Users {
		created, err := t.CreateUser(ctx, u.User)
		if err != nil {
			return fmt.Errorf("seed user %q: %w", u.User.UserPrincipalName, err)
		}
		if len(u.Licenses) > 0 {
			if _, err := t.AssignLicenses(ctx, created.ID, u.Licenses, nil); err != nil {
				return fmt.Errorf("seed the licences of %q: %w", u.User.UserPrincipalName, err)
			}
		}
	}
	t.ResetCalls()
	return nil
}
