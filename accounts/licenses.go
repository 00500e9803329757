package accounts

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// License is a subscription of the tenant and how many seats are free.
type License struct {
	SKUID      string
	PartNumber string
	// Enabled is the number of paid seats, Consumed those in use.
	Enabled   int
	Consumed  int
	Available int
	Services  []backend.ServicePlan
}

// LicenseChoice picks a SKU (by skuId or part number, e.g. "ENTERPRISEPACK")
// and the services to turn off in it (by service plan id or name, e.g.
// "SHAREPOINTENTERPRISE").
type LicenseChoice struct {
	SKU              string
	DisabledServices []string
}

// Licenses lists the tenant's subscriptions with their free seats: enabled
// (prepaid) minus consumed.
func (s *Service) Licenses(ctx context.Context) ([]License, error) {
	const op = "accounts: list licenses"
	skus, err := s.skus(ctx, op)
	if err != nil {
		return nil, err
	}
	out := make([]License, 0, len(skus))
	for _, k := range skus {
		out = append(out, License{SKUID: k.SKUID, PartNumber: k.PartNumber, Enabled: k.Enabled, Consumed: k.Consumed,
			Available: k.Available(), Services: slices.Clone(k.ServicePlans)})
	}
	slices.SortFunc(out, func(a, b License) int { return strings.Compare(a.PartNumber, b.PartNumber) })
	return out, nil
}

func (s *Service) skus(ctx context.Context, op string) ([]backend.SKU, error) {
	var skus []backend.SKU
	err := s.do(ctx, op, "", func() (e error) { skus, e = s.tenant.SubscribedSKUs(ctx); return })
	return skus, backend.WithOp(err, op, "")
}

// resolvedLicense is a LicenseChoice checked against the tenant's SKUs.
type resolvedLicense struct {
	sku      backend.SKU
	disabled []string // plan ids
}

// resolveLicenses checks each choice names a SKU of the tenant and services
// of that SKU.
func resolveLicenses(op string, skus []backend.SKU, choices []LicenseChoice) ([]resolvedLicense, error) {
	var out []resolvedLicense
	seen := map[string]bool{}
	for _, c := range choices {
		i := slices.IndexFunc(skus, func(k backend.SKU) bool {
			return strings.EqualFold(k.SKUID, c.SKU) || strings.EqualFold(k.PartNumber, c.SKU)
		})
		if i < 0 {
			return nil, backend.Invalid(op, c.SKU, ReasonUnknownSKU, "the tenant has no subscription %q", c.SKU)
		}
		sku := skus[i]
		if seen[sku.SKUID] {
			return nil, backend.Invalid(op, c.SKU, ReasonDuplicateSKU, "%s is chosen twice", sku.PartNumber)
		}
		seen[sku.SKUID] = true
		r := resolvedLicense{sku: sku}
		for _, name := range c.DisabledServices {
			j := slices.IndexFunc(sku.ServicePlans, func(p backend.ServicePlan) bool {
				return strings.EqualFold(p.ID, name) || strings.EqualFold(p.Name, name)
			})
			if j < 0 {
				return nil, backend.Invalid(op, name, ReasonUnknownServicePlan, "%s has no service %q", sku.PartNumber, name)
			}
			r.disabled = append(r.disabled, sku.ServicePlans[j].ID)
		}
		out = append(out, r)
	}
	return out, nil
}

func (r resolvedLicense) assignment() backend.LicenseAssignment {
	return backend.LicenseAssignment{SKUID: r.sku.SKUID, DisabledPlans: slices.Clone(r.disabled)}
}

// hasLicense reports whether u holds the SKU.
func hasLicense(u backend.OnlineUser, skuID string) bool {
	return slices.ContainsFunc(u.AssignedLicenses, func(l backend.AssignedLicense) bool { return strings.EqualFold(l.SKUID, skuID) })
}

// missingAssignments returns what u still needs of lics.
func missingAssignments(u backend.OnlineUser, lics []resolvedLicense) []backend.LicenseAssignment {
	var add []backend.LicenseAssignment
	for _, l := range lics {
		if !hasLicense(u, l.sku.SKUID) {
			add = append(add, l.assignment())
		}
	}
	return add
}

// LicenseShortfall is the cause of a ReasonNoFreeLicense error: per SKU,
// how many seats were needed, how many are free, and how many are missing.
// Reach it with errors.As.
type LicenseShortfall struct {
	SKUs []SKUShortfall
}

// SKUShortfall is one SKU of a LicenseShortfall.
type SKUShortfall struct {
	SKUID      string
	PartNumber string
	Needed     int
	Free       int
	Missing    int
}

func (l *LicenseShortfall) Error() string {
	parts := make([]string, len(l.SKUs))
	for i, s := range l.SKUs {
		parts[i] = s.PartNumber + ": " + itoa(s.Needed) + " needed, " + itoa(s.Free) + " free, " + itoa(s.Missing) + " missing"
	}
	return strings.Join(parts, "; ")
}

// checkSeats fails with FailedPrecondition (ReasonNoFreeLicense, a
// *LicenseShortfall as the cause) when the SKUs do not have a free seat for
// every user that needs one. need maps a skuId to the number of users that
// will take a seat.
func checkSeats(op string, lics []resolvedLicense, need map[string]int) error {
	var short LicenseShortfall
	for _, l := range lics {
		n := need[l.sku.SKUID]
		if free := l.sku.Available(); n > free {
			short.SKUs = append(short.SKUs, SKUShortfall{SKUID: l.sku.SKUID, PartNumber: l.sku.PartNumber, Needed: n, Free: free, Missing: n - free})
		}
	}
	if len(short.SKUs) > 0 {
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Reason: ReasonNoFreeLicense, Err: &short,
			Msg: "not enough licenses: buy more seats in the Microsoft 365 admin center or choose fewer users; nothing was changed"}
	}
	return nil
}

// SetLicenses adds and removes licenses of a user's online account; add may
// turn services off. Adding checks for a free seat first.
func (s *Service) SetLicenses(ctx context.Context, user string, add []LicenseChoice, remove []string) error {
	const op = "accounts: set licenses"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return err
	}
	ou, _, err := s.onlineOf(ctx, op, u)
	if err != nil {
		return err
	}
	skus, err := s.skus(ctx, op)
	if err != nil {
		return err
	}
	lics, err := resolveLicenses(op, skus, add)
	if err != nil {
		return err
	}
	var rm []string
	for _, r := range remove {
		rl, err := resolveLicenses(op, skus, []LicenseChoice{{SKU: r}})
		if err != nil {
			return err
		}
		rm = append(rm, rl[0].sku.SKUID)
	}
	need := map[string]int{}
	var adds []backend.LicenseAssignment
	for _, l := range lics {
		if !hasLicense(ou, l.sku.SKUID) {
			need[l.sku.SKUID]++
		}
		adds = append(adds, l.assignment())
	}
	if err := checkSeats(op, lics, need); err != nil {
		return err
	}
	if ou.UsageLocation == "" && len(adds) > 0 {
		if s.opts.UsageLocation == "" {
			return usageLocationError(op, user, "the online account has no usage location: set Options.UsageLocation")
		}
		if err := s.setUsageLocation(ctx, op, u.SAMAccountName, ou, s.opts.UsageLocation); err != nil {
			return backend.WithOp(err, op, user)
		}
	}
	name := AuditAssignLicenses
	if len(adds) == 0 {
		name = AuditRemoveLicenses
	}
	e := ev(name, audit.SideTenant, u.SAMAccountName, ou.UserPrincipalName)
	e.Target = skuList(adds)
	if len(rm) > 0 {
		e.Detail = map[string]string{"removed": strings.Join(rm, ",")}
	}
	err = s.write(ctx, op, e, func() error { _, e := s.tenant.AssignLicenses(ctx, ou.ID, adds, rm); return e })
	return backend.WithOp(err, op, user)
}

func itoa(n int) string { return strconv.Itoa(n) }
