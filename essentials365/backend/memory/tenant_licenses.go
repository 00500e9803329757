package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ReasonInvalidSKU (InvalidArgument): a SKU given to AddSKU, SetSeats or
// SetCapabilityStatus, or in TenantOptions.SKUs, is malformed.
const ReasonInvalidSKU backend.Reason = "sku"

// AddSKU adds a subscription. Enabled is the number of seats; Consumed is
// ignored (it is computed from assignments). ID defaults to
// "<tenantID>_<SKUID>", CapabilityStatus to "Enabled" and each plan's
// ProvisioningStatus to "Success".
func (t *Tenant) AddSKU(sku backend.SKU) (backend.SKU, error) {
	const op = "tenant: add sku"
	if sku.SKUID == "" || sku.PartNumber == "" {
		return backend.SKU{}, backend.Invalid(op, sku.SKUID, ReasonInvalidSKU, "a SKU needs a SKUID and a PartNumber")
	}
	if sku.Enabled < 0 {
		return backend.SKU{}, backend.Invalid(op, sku.SKUID, ReasonInvalidSKU, "enabled seats cannot be negative")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.skuLocked(sku.SKUID) != nil {
		return backend.SKU{}, backend.Errorf(backend.AlreadyExists, op, sku.SKUID, "the tenant already subscribes to SKU %s", sku.SKUID)
	}
	s := &tenantSKU{sku: sku}
	s.sku.SKUID = strings.ToLower(sku.SKUID)
	s.sku.ID = cmp.Or(sku.ID, t.id+"_"+s.sku.SKUID)
	s.sku.CapabilityStatus = cmp.Or(sku.CapabilityStatus, "Enabled")
	s.sku.Consumed = 0
	s.sku.ServicePlans = slices.Clone(sku.ServicePlans)
	for i := range s.sku.ServicePlans {
		s.sku.ServicePlans[i].ID = strings.ToLower(s.sku.ServicePlans[i].ID)
		s.sku.ServicePlans[i].ProvisioningStatus = cmp.Or(s.sku.ServicePlans[i].ProvisioningStatus, "Success")
	}
	t.skus = append(t.skus, s)
	return t.skuOutLocked(s), nil
}

// SetSeats changes the number of seats (prepaidUnits.enabled) of a SKU.
// Fewer seats than consumed is allowed, as when a subscription shrinks;
// Available then reports 0.
func (t *Tenant) SetSeats(skuID string, enabled int) error {
	const op = "tenant: set seats"
	if enabled < 0 {
		return backend.Invalid(op, skuID, ReasonInvalidSKU, "enabled seats cannot be negative")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.skuLocked(skuID)
	if s == nil {
		return backend.Errorf(backend.NotFound, op, skuID, "the tenant does not subscribe to SKU %s", skuID)
	}
	s.sku.Enabled = enabled
	return nil
}

// SetCapabilityStatus changes a subscription's capabilityStatus, as when
// it expires (backend.CapabilityWarning), is suspended, locked out or
// deleted. The licences of a SKU that is not Usable cannot be assigned,
// and its seats are not free.
func (t *Tenant) SetCapabilityStatus(skuID, status string) error {
	const op = "tenant: set capability status"
	switch status {
	case backend.CapabilityEnabled, backend.CapabilityWarning, backend.CapabilitySuspended,
		backend.CapabilityLockedOut, backend.CapabilityDeleted:
	default:
		return backend.Invalid(op, skuID, ReasonInvalidSKU, "capability status %q is not one of Enabled, Warning, Suspended, LockedOut, Deleted", status)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.skuLocked(skuID)
	if s == nil {
		return backend.Errorf(backend.NotFound, op, skuID, "the tenant does not subscribe to SKU %s", skuID)
	}
	s.sku.CapabilityStatus = status
	t.seq++
	return nil
}

func (t *Tenant) skuLocked(skuID string) *tenantSKU {
	for _, s := range t.skus {
		if strings.EqualFold(s.sku.SKUID, skuID) {
			return s
		}
	}
	return nil
}

// consumedLocked returns the seats of the SKU held by live users.
func (t *Tenant) consumedLocked(skuID string) int { return t.consumed[strings.ToLower(skuID)] }

// countSeatsLocked adds sign to the seat count of each SKU u holds; it is
// called around every change of a live user's licenses and on deletion and
// restoration, so counting seats never scans the users.
func (t *Tenant) countSeatsLocked(u *tenantUser, sign int) {
	for _, l := range u.user.AssignedLicenses {
		t.consumed[strings.ToLower(l.SKUID)] += sign
	}
}

func (t *Tenant) skuOutLocked(s *tenantSKU) backend.SKU {
	out := s.sku
	out.ServicePlans = slices.Clone(s.sku.ServicePlans)
	out.Consumed = t.consumedLocked(s.sku.SKUID)
	return out
}

// SubscribedSKUs returns the tenant's SKUs with their consumed seats.
func (t *Tenant) SubscribedSKUs(ctx context.Context) ([]backend.SKU, error) {
	const op = "SubscribedSKUs"
	if err := t.begin(ctx, op, ""); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.purgeLocked()
	out := make([]backend.SKU, 0, len(t.skus))
	for _, s := range t.skus {
		out = append(out, t.skuOutLocked(s))
	}
	t.mu.Unlock()
	return out, t.done(op, "", nil)
}

func tenantNoSeat(op, key string, sku backend.SKU) error {
	return &backend.Error{
		Kind: backend.FailedPrecondition, Op: op, Key: key, Reason: backend.ReasonNoFreeLicense,
		Msg: fmt.Sprintf("Subscription with SKU %s (%s) does not have any available licenses: all %d seats are assigned.", sku.SKUID, sku.PartNumber, sku.Enabled),
	}
}

// AssignLicenses adds and removes licenses of a live user in one atomic
// call.
func (t *Tenant) AssignLicenses(ctx context.Context, id string, add []backend.LicenseAssignment, remove []string) (backend.OnlineUser, error) {
	const op = "AssignLicenses"
	if err := t.begin(ctx, op, id); err != nil {
		return backend.OnlineUser{}, err
	}
	u, err := t.assignLicenses(op, id, add, remove)
	return u, t.done(op, id, err)
}

func (t *Tenant) assignLicenses(op, id string, add []backend.LicenseAssignment, remove []string) (backend.OnlineUser, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	u, ok := t.lookupLocked(id)
	if !ok {
		return backend.OnlineUser{}, tenantNotFound(op, id)
	}
	if len(add) > 0 && u.user.UsageLocation == "" {
		return backend.OnlineUser{}, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: id, Reason: backend.ReasonUsageLocationRequired, Msg: tenantMsgUsageLocation}
	}
	next := tenantCloneLicenses(u.user.AssignedLicenses)
	held := func(skuID string) int {
		return slices.IndexFunc(next, func(l backend.AssignedLicense) bool { return strings.EqualFold(l.SKUID, skuID) })
	}
	seen := map[string]bool{}
	for _, r := range remove {
		s := t.skuLocked(r)
		if s == nil {
			return backend.OnlineUser{}, backend.Invalid(op, id, backend.ReasonUnknownSKU, "License %s does not correspond to a valid company License.", r)
		}
		i := held(r)
		if i < 0 {
			return backend.OnlineUser{}, backend.Invalid(op, id, backend.ReasonLicenseNotAssigned, "User does not have a corresponding license %s (%s).", s.sku.SKUID, s.sku.PartNumber)
		}
		seen[s.sku.SKUID] = true
		next = slices.Delete(next, i, i+1)
	}
	var gained []*tenantSKU
	for _, a := range add {
		s := t.skuLocked(a.SKUID)
		if s == nil {
			return backend.OnlineUser{}, backend.Invalid(op, id, backend.ReasonUnknownSKU, "License %s does not correspond to a valid company License.", a.SKUID)
		}
		if seen[s.sku.SKUID] {
			return backend.OnlineUser{}, backend.Invalid(op, id, backend.ReasonLicenseConflict, "License %s is both added and removed, or added twice.", s.sku.SKUID)
		}
		seen[s.sku.SKUID] = true
		plans, err := tenantDisabledPlans(op, id, s, a.DisabledPlans)
		if err != nil {
			return backend.OnlineUser{}, err
		}
		if i := held(s.sku.SKUID); i >= 0 {
			next[i].DisabledPlans = plans // update in place: no new seat
			continue
		}
		next = append(next, backend.AssignedLicense{SKUID: s.sku.SKUID, DisabledPlans: plans})
		gained = append(gained, s)
	}
	if err := t.checkSeatsLocked(op, id, gained); err != nil {
		return backend.OnlineUser{}, err
	}
	for i := range next {
		if len(next[i].DisabledPlans) == 0 {
			next[i].DisabledPlans = nil
		}
	}
	if len(next) == 0 {
		next = nil
	}
	t.countSeatsLocked(u, -1)
	u.user.AssignedLicenses = next
	t.countSeatsLocked(u, +1)
	u.user.Mail = t.mailAddressLocked(u)
	t.seq++
	u.seq = t.seq
	t.log.Debug("memory tenant assigned licenses", "id", u.user.ID, "licenses", len(next))
	return u.snapshot(), nil
}

// tenantDisabledPlans checks that each disabled plan is a service plan of
// the SKU s and returns them lower-cased, sorted and without duplicates.
func tenantDisabledPlans(op, id string, s *tenantSKU, disabled []string) ([]string, error) {
	plans := make([]string, 0, len(disabled))
	for _, p := range disabled {
		if !slices.ContainsFunc(s.sku.ServicePlans, func(sp backend.ServicePlan) bool { return strings.EqualFold(sp.ID, p) }) {
			return nil, backend.Invalid(op, id, backend.ReasonUnknownServicePlan, "Service plan %s is not part of SKU %s (%s).", p, s.sku.SKUID, s.sku.PartNumber)
		}
		plans = append(plans, strings.ToLower(p))
	}
	slices.Sort(plans)
	return slices.Compact(plans), nil
}

// checkSeatsLocked checks that each SKU a user gains is usable and has a
// free seat.
func (t *Tenant) checkSeatsLocked(op, id string, gained []*tenantSKU) error {
	for _, s := range gained {
		if !s.sku.Usable() {
			return &backend.Error{
				Kind: backend.FailedPrecondition, Op: op, Key: id, Reason: backend.ReasonNoFreeLicense,
				Msg: fmt.Sprintf("Subscription with SKU %s (%s) does not have any available licenses: the subscription is %s.", s.sku.SKUID, s.sku.PartNumber, s.sku.CapabilityStatus),
			}
		}
		if t.consumedLocked(s.sku.SKUID) >= s.sku.Enabled {
			return tenantNoSeat(op, id, s.sku)
		}
	}
	return nil
}

// mailAddressLocked returns the user's mail: the UPN once a license with an
// enabled Exchange plan gives the user a mailbox, "" before.
func (t *Tenant) mailAddressLocked(u *tenantUser) string {
	for _, l := range u.user.AssignedLicenses {
		s := t.skuLocked(l.SKUID)
		if s == nil {
			continue
		}
		for _, p := range s.sku.ServicePlans {
			if backend.ExchangeMailboxPlan(p.Name) && !slices.Contains(l.DisabledPlans, p.ID) {
				return u.user.UserPrincipalName
			}
		}
	}
	return ""
}

// AssignLicensesMany applies each change independently; results and errors
// pair with the input by index. Each item is checked against the faults of
// "AssignLicenses" and recorded as an "AssignLicenses" call. A fault on
// "AssignLicensesMany" fails every item.
func (t *Tenant) AssignLicensesMany(ctx context.Context, changes []backend.LicenseChange) ([]backend.OnlineUser, []error) {
	const op = "AssignLicensesMany"
	out := make([]backend.OnlineUser, len(changes))
	errs := make([]error, len(changes))
	if err := t.begin(ctx, op, ""); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	t.record(op, "", nil)
	for i, c := range changes {
		out[i], errs[i] = t.AssignLicenses(ctx, c.UserID, c.Add, c.Remove)
	}
	return out, errs
}
