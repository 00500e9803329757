package memory

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof that *Tenant implements the tenant contracts.
var (
	_ backend.Tenant      = (*Tenant)(nil)
	_ backend.BatchTenant = (*Tenant)(nil)
	_ backend.DomainAdmin = (*Tenant)(nil)
)

// TenantRetention is how long a deleted user can be restored before it is
// purged, as in Microsoft 365.
const TenantRetention = 30 * 24 * time.Hour

// tenantDefaultID is the tenant id used when TenantOptions.TenantID is empty.
const tenantDefaultID = "4a0c2b7e-3f1d-4c8e-9a65-2d7f0e1b5c3a"

// Messages Microsoft Graph gives for the same failures, so that a program
// sees the same words from the memory tenant and from the real service.
const (
	tenantMsgUPNTaken        = "Another object with the same value for property userPrincipalName already exists."
	tenantMsgImmutableTaken  = "Another object with the same value for property onPremisesImmutableId already exists."
	tenantMsgUPNInvalid      = "Property userPrincipalName is invalid."
	tenantMsgUPNDomain       = "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."
	tenantMsgPassword        = "The specified password does not comply with password complexity requirements. Please provide a different password."
	tenantMsgDisplayName     = "Invalid value specified for property 'displayName' of resource 'User'."
	tenantMsgUsageLocation   = "License assignment cannot be done for user with invalid usage location."
	tenantMsgNotFoundPattern = "Resource '%s' does not exist or one of its queried reference-property objects are not present."
)

// TenantOptions configures a memory [Tenant]. The zero value (or nil) gives
// a tenant named Contoso with the verified initial domain
// contoso.onmicrosoft.com and no SKUs.
type TenantOptions struct {
	// TenantID is the organization's id; default a fixed GUID string.
	TenantID string
	// DisplayName is the organization's name; default "Contoso".
	DisplayName string
	// InitialDomain is the verified onmicrosoft.com domain created with the
	// tenant; default "contoso.onmicrosoft.com". It is the default domain
	// until another one is made default.
	InitialDomain string
	// Now is the clock; default time.Now. Deleted users are purged lazily
	// once Now is 30 days past their deletion.
	Now func() time.Time
	// Logger receives debug records of writes; default discards.
	Logger *slog.Logger
	// PageSize is the page size of ListUsers and Changes; default 100.
	PageSize int
	// LookupTXT resolves TXT records for VerifyDomain. Default: none are
	// found, so only PublishVerification makes VerifyDomain succeed.
	LookupTXT func(ctx context.Context, name string) ([]string, error)
}

// Tenant is an in-memory Microsoft 365 tenant that keeps the rules Microsoft
// Graph enforces: unique and well-formed userPrincipalNames on verified
// domains, the password policy, usage locations and seat counts for
// licenses, 30 days of restorable deleted users, a delta query, and custom
// domains with their DNS records.
//
// Every call honours ctx and the faults injected with FailNext and
// AddFault, and is recorded in the call log (Calls); operation names are
// the method names, e.g. "CreateUser".
//
// A Tenant is safe for concurrent use by multiple goroutines.
type Tenant struct {
	recorder

	id          string
	displayName string
	now         func() time.Time
	log         *slog.Logger
	pageSize    int
	lookupTXT   func(ctx context.Context, name string) ([]string, error)
	mail        *Mail

	mu          sync.Mutex
	seq         uint64                 // change counter: bumped on every write
	users       map[string]*tenantUser // by object id, live and deleted
	order       []*tenantUser          // creation order, for ListUsers
	byUPN       map[string]*tenantUser // lower-cased UPN, live and deleted
	byImmutable map[string]*tenantUser // live and deleted
	byAlias     map[string]*tenantUser // lower-cased alias address
	tombstones  map[string]tenantTombstone
	deleted     map[string]*tenantUser // soft-deleted users, by object id
	consumed    map[string]int         // seats in use, by lower-cased skuId
	skus        []*tenantSKU
	domains     []*tenantDomain
	published   map[string]bool // domains whose verification TXT was published

	reqs tenantRequirements // settable requirement facts (requirements.go)
}

// tenantUser is the stored state of one online user.
type tenantUser struct {
	user        backend.OnlineUser // AssignedLicenses owned here; copy on the way out
	password    string
	forceChange bool
	deleted     bool
	deletedAt   time.Time
	purged      bool
	seq         uint64            // change counter of the last write
	aliases     map[string]string // lower-cased -> as given
}

// tenantTombstone remembers a purged user for Changes.
type tenantTombstone struct {
	user backend.OnlineUser
	seq  uint64
}

type tenantSKU struct {
	sku backend.SKU // Consumed is computed on the way out
}

// NewTenant returns an empty tenant with its initial domain; opts may be nil.
func NewTenant(opts *TenantOptions) *Tenant {
	var o TenantOptions
	if opts != nil {
		o = *opts
	}
	t := &Tenant{
		id:          cmp.Or(o.TenantID, tenantDefaultID),
		displayName: cmp.Or(o.DisplayName, "Contoso"),
		now:         o.Now,
		log:         o.Logger,
		pageSize:    o.PageSize,
		lookupTXT:   o.LookupTXT,
		users:       map[string]*tenantUser{},
		byUPN:       map[string]*tenantUser{},
		byImmutable: map[string]*tenantUser{},
		byAlias:     map[string]*tenantUser{},
		tombstones:  map[string]tenantTombstone{},
		deleted:     map[string]*tenantUser{},
		consumed:    map[string]int{},
		published:   map[string]bool{},
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.pageSize <= 0 {
		t.pageSize = 100
	}
	initial := strings.ToLower(cmp.Or(o.InitialDomain, "contoso.onmicrosoft.com"))
	t.domains = append(t.domains, &tenantDomain{
		name: initial, verified: true, isDefault: true, isInitial: true,
		services: []string{"Email", "OfficeCommunicationsOnline"},
	})
	t.mail = &Mail{t: t}
	return t
}

// Mail returns the Exchange side of this tenant: aliases of its users on
// its verified domains.
func (t *Tenant) Mail() *Mail { return t.mail }

// clock returns the current time in UTC.
func (t *Tenant) clock() time.Time { return t.now().UTC() }

// begin checks the context and the injected faults of op. On failure it
// records the call and returns the error.
func (t *Tenant) begin(ctx context.Context, op, key string) error {
	if err := backend.CtxErr(ctx, op); err != nil {
		t.record(op, key, err)
		return err
	}
	if err := t.fault(ctx, op, key); err != nil {
		t.record(op, key, err)
		return err
	}
	return nil
}

// done records the call and returns err.
func (t *Tenant) done(op, key string, err error) error {
	t.record(op, key, err)
	if err != nil {
		t.log.Debug("memory tenant call failed", "op", op, "key", key, "err", err)
	}
	return err
}

// Organization returns the tenant's id and name.
func (t *Tenant) Organization(ctx context.Context) (backend.Organization, error) {
	const op = "Organization"
	if err := t.begin(ctx, op, ""); err != nil {
		return backend.Organization{}, err
	}
	return backend.Organization{ID: t.id, DisplayName: t.displayName}, t.done(op, "", nil)
}

// tenantNotFound is Graph's 404 for a user.
func tenantNotFound(op, key string) error {
	return backend.Errorf(backend.NotFound, op, key, tenantMsgNotFoundPattern, key)
}

// purgeLocked permanently deletes the users deleted more than
// TenantRetention ago. It runs lazily at the start of every call.
func (t *Tenant) purgeLocked() {
	now := t.clock()
	for id, u := range t.deleted {
		if now.Sub(u.deletedAt) < TenantRetention {
			continue
		}
		delete(t.deleted, id)
		delete(t.users, id)
		delete(t.byUPN, strings.ToLower(u.user.UserPrincipalName))
		if u.user.ImmutableID != "" && t.byImmutable[u.user.ImmutableID] == u {
			delete(t.byImmutable, u.user.ImmutableID)
		}
		u.purged = true
		t.seq++
		gone := backend.OnlineUser{
			ID:                u.user.ID,
			UserPrincipalName: u.user.UserPrincipalName,
			DisplayName:       u.user.DisplayName,
			ImmutableID:       u.user.ImmutableID,
			DeletedAt:         u.deletedAt,
		}
		t.tombstones[id] = tenantTombstone{user: gone, seq: t.seq}
		t.log.Debug("memory tenant purged user", "id", id, "upn", u.user.UserPrincipalName)
	}
}

// lookupLocked finds a live user by object id or UPN (case-insensitive).
func (t *Tenant) lookupLocked(idOrUPN string) (*tenantUser, bool) {
	k := strings.ToLower(strings.TrimSpace(idOrUPN))
	if u, ok := t.users[k]; ok && !u.deleted {
		return u, true
	}
	if u, ok := t.byUPN[k]; ok && !u.deleted {
		return u, true
	}
	return nil, false
}

// snapshot returns a copy of the user safe to hand out.
func (u *tenantUser) snapshot() backend.OnlineUser {
	out := u.user
	out.AssignedLicenses = tenantCloneLicenses(u.user.AssignedLicenses)
	if u.deleted {
		out.DeletedAt = u.deletedAt
	}
	return out
}

func tenantCloneLicenses(in []backend.AssignedLicense) []backend.AssignedLicense {
	if len(in) == 0 {
		return nil
	}
	out := make([]backend.AssignedLicense, len(in))
	for i, l := range in {
		out[i] = backend.AssignedLicense{SKUID: l.SKUID, DisabledPlans: slices.Clone(l.DisabledPlans)}
	}
	return out
}

// GetUser returns the live user with that object id or UPN.
func (t *Tenant) GetUser(ctx context.Context, idOrUPN string) (backend.OnlineUser, error) {
	const op = "GetUser"
	if err := t.begin(ctx, op, idOrUPN); err != nil {
		return backend.OnlineUser{}, err
	}
	t.mu.Lock()
	t.purgeLocked()
	u, ok := t.lookupLocked(idOrUPN)
	var out backend.OnlineUser
	if ok {
		out = u.snapshot()
	}
	t.mu.Unlock()
	if !ok {
		return backend.OnlineUser{}, t.done(op, idOrUPN, tenantNotFound(op, idOrUPN))
	}
	return out, t.done(op, idOrUPN, nil)
}

// GetUserByImmutableID returns the live user whose onPremisesImmutableId is
// id.
func (t *Tenant) GetUserByImmutableID(ctx context.Context, id string) (backend.OnlineUser, error) {
	const op = "GetUserByImmutableID"
	if err := t.begin(ctx, op, id); err != nil {
		return backend.OnlineUser{}, err
	}
	t.mu.Lock()
	t.purgeLocked()
	u, ok := t.byImmutable[id]
	ok = ok && id != "" && !u.deleted
	var out backend.OnlineUser
	if ok {
		out = u.snapshot()
	}
	t.mu.Unlock()
	if !ok {
		return backend.OnlineUser{}, t.done(op, id, backend.Errorf(backend.NotFound, op, id, "no user has onPremisesImmutableId %q", id))
	}
	return out, t.done(op, id, nil)
}

// ListUsers streams the live users in creation order. Each page is copied
// under the lock, so writes between pages are allowed; a user created while
// iterating may or may not be seen.
func (t *Tenant) ListUsers(ctx context.Context) iter.Seq2[backend.OnlineUser, error] {
	const op = "ListUsers"
	return func(yield func(backend.OnlineUser, error) bool) {
		if err := t.begin(ctx, op, ""); err != nil {
			yield(backend.OnlineUser{}, err)
			return
		}
		next := 0
		for {
			if err := backend.CtxErr(ctx, op); err != nil {
				t.done(op, "", err)
				yield(backend.OnlineUser{}, err)
				return
			}
			t.mu.Lock()
			t.purgeLocked()
			page := make([]backend.OnlineUser, 0, t.pageSize)
			for next < len(t.order) && len(page) < t.pageSize {
				u := t.order[next]
				next++
				if !u.deleted && !u.purged {
					page = append(page, u.snapshot())
				}
			}
			last := next >= len(t.order)
			t.mu.Unlock()
			for _, u := range page {
				if !yield(u, nil) {
					t.done(op, "", nil)
					return
				}
			}
			if last {
				t.done(op, "", nil)
				return
			}
		}
	}
}

// tenantSplitAddress splits local@domain at its last '@'.
func tenantSplitAddress(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return "", "", false
	}
	return addr[:i], addr[i+1:], true
}

// tenantCheckUPNSyntax validates a UPN's local part and that it has a
// domain part.
func tenantCheckUPNSyntax(op, upn string) error {
	local, domain, ok := tenantSplitAddress(upn)
	if !ok || domain == "" {
		return backend.Invalid(op, upn, "upn-syntax", tenantMsgUPNInvalid)
	}
	switch backend.OnlineLocalPartRule(local) {
	case "characters":
		return backend.Invalid(op, upn, "upn-characters", tenantMsgUPNInvalid)
	case "syntax":
		return backend.Invalid(op, upn, "upn-syntax", tenantMsgUPNInvalid)
	}
	return nil
}

// checkUPNDomainLocked checks that the UPN's domain is a verified domain of
// the tenant.
func (t *Tenant) checkUPNDomainLocked(op, upn string) error {
	_, domain, _ := tenantSplitAddress(upn)
	d := t.domainLocked(domain)
	if d == nil {
		return backend.Invalid(op, upn, "upn-domain-unknown", tenantMsgUPNDomain)
	}
	if !d.verified {
		return backend.Invalid(op, upn, "upn-domain-unverified", tenantMsgUPNDomain)
	}
	return nil
}

// tenantUsageLocationOK accepts a two-letter country code.
func tenantUsageLocationOK(loc string) bool {
	if len(loc) != 2 {
		return false
	}
	for _, r := range loc {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// tenantNewID returns a new object id.
func tenantNewID() string { return backend.NewGUID().String() }

// CreateUser creates an online user, keeping Graph's rules: unique UPN on a
// verified domain, display name, mailNickname, password policy, unique
// immutable id.
func (t *Tenant) CreateUser(ctx context.Context, nu backend.NewOnlineUser) (backend.OnlineUser, error) {
	const op = "CreateUser"
	key := nu.UserPrincipalName
	if err := t.begin(ctx, op, key); err != nil {
		return backend.OnlineUser{}, err
	}
	u, err := t.createUser(op, nu)
	return u, t.done(op, key, err)
}

func (t *Tenant) createUser(op string, nu backend.NewOnlineUser) (backend.OnlineUser, error) {
	key := nu.UserPrincipalName
	upn := strings.TrimSpace(nu.UserPrincipalName)
	if err := tenantCheckUPNSyntax(op, upn); err != nil {
		return backend.OnlineUser{}, err
	}
	if strings.TrimSpace(nu.DisplayName) == "" {
		return backend.OnlineUser{}, backend.Invalid(op, key, "display-name-required", tenantMsgDisplayName)
	}
	nick := nu.MailNickname
	if nick == "" {
		nick, _, _ = tenantSplitAddress(upn)
	}
	if nick == "" || len(nick) > 64 || strings.ContainsAny(nick, " @\t\r\n\"\\,;:<>[]()") {
		return backend.OnlineUser{}, backend.Invalid(op, key, "mail-nickname", "Invalid value specified for property 'mailNickname' of resource 'User'.")
	}
	if nu.UsageLocation != "" && !tenantUsageLocationOK(nu.UsageLocation) {
		return backend.OnlineUser{}, backend.Invalid(op, key, "usage-location", "Invalid value specified for property 'usageLocation' of resource 'User'.")
	}
	if !backend.OnlinePasswordOK(nu.Password) {
		return backend.OnlineUser{}, backend.Invalid(op, key, "password-policy", tenantMsgPassword)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	if err := t.checkUPNDomainLocked(op, upn); err != nil {
		return backend.OnlineUser{}, err
	}
	if _, taken := t.byUPN[strings.ToLower(upn)]; taken {
		return backend.OnlineUser{}, backend.Errorf(backend.AlreadyExists, op, key, tenantMsgUPNTaken)
	}
	if _, taken := t.byAlias[strings.ToLower(upn)]; taken {
		return backend.OnlineUser{}, backend.Errorf(backend.AlreadyExists, op, key, "Another object with the same value for property proxyAddresses already exists.")
	}
	if nu.ImmutableID != "" {
		if _, taken := t.byImmutable[nu.ImmutableID]; taken {
			return backend.OnlineUser{}, backend.Errorf(backend.AlreadyExists, op, key, tenantMsgImmutableTaken)
		}
	}
	now := t.clock()
	t.seq++
	u := &tenantUser{
		user: backend.OnlineUser{
			ID:                 tenantNewID(),
			UserPrincipalName:  upn,
			DisplayName:        nu.DisplayName,
			MailNickname:       nick,
			UsageLocation:      strings.ToUpper(nu.UsageLocation),
			AccountEnabled:     !nu.Disabled,
			ImmutableID:        nu.ImmutableID,
			LastPasswordChange: now,
		},
		password:    nu.Password,
		forceChange: nu.ForceChangePassword,
		seq:         t.seq,
		aliases:     map[string]string{},
	}
	t.users[u.user.ID] = u
	t.order = append(t.order, u)
	t.byUPN[strings.ToLower(upn)] = u
	if nu.ImmutableID != "" {
		t.byImmutable[nu.ImmutableID] = u
	}
	t.log.Debug("memory tenant created user", "id", u.user.ID, "upn", upn)
	return u.snapshot(), nil
}

// CreateUsers creates each user independently; results and errors pair with
// the input by index. Each item is checked against the faults of
// "CreateUser" and recorded as a "CreateUser" call, so injected faults work
// the same for single and batched creates. A fault on "CreateUsers" fails
// every item.
func (t *Tenant) CreateUsers(ctx context.Context, users []backend.NewOnlineUser) ([]backend.OnlineUser, []error) {
	const op = "CreateUsers"
	out := make([]backend.OnlineUser, len(users))
	errs := make([]error, len(users))
	if err := t.begin(ctx, op, ""); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	t.record(op, "", nil)
	for i, nu := range users {
		out[i], errs[i] = t.CreateUser(ctx, nu)
	}
	return out, errs
}

// UpdateUser changes the fields of upd that are set. A password change moves
// LastPasswordChange to now.
func (t *Tenant) UpdateUser(ctx context.Context, id string, upd backend.OnlineUserUpdate) error {
	const op = "UpdateUser"
	if err := t.begin(ctx, op, id); err != nil {
		return err
	}
	return t.done(op, id, t.updateUser(op, id, upd))
}

func (t *Tenant) updateUser(op, id string, upd backend.OnlineUserUpdate) error {
	if upd.DisplayName != nil && strings.TrimSpace(*upd.DisplayName) == "" {
		return backend.Invalid(op, id, "display-name-required", tenantMsgDisplayName)
	}
	if upd.UsageLocation != nil && *upd.UsageLocation != "" && !tenantUsageLocationOK(*upd.UsageLocation) {
		return backend.Invalid(op, id, "usage-location", "Invalid value specified for property 'usageLocation' of resource 'User'.")
	}
	if upd.Password != nil && !backend.OnlinePasswordOK(upd.Password.Password) {
		return backend.Invalid(op, id, "password-policy", tenantMsgPassword)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	u, ok := t.lookupLocked(id)
	if !ok {
		return tenantNotFound(op, id)
	}
	if upd.UsageLocation != nil && *upd.UsageLocation == "" && len(u.user.AssignedLicenses) > 0 {
		return backend.Errorf(backend.FailedPrecondition, op, id, "%s", "usageLocation cannot be removed from a user who holds licenses.")
	}
	if upd.ImmutableID != nil && *upd.ImmutableID != "" && *upd.ImmutableID != u.user.ImmutableID {
		if _, taken := t.byImmutable[*upd.ImmutableID]; taken {
			return backend.Errorf(backend.AlreadyExists, op, id, tenantMsgImmutableTaken)
		}
	}
	// Every check passed: apply.
	if upd.AccountEnabled != nil {
		u.user.AccountEnabled = *upd.AccountEnabled
	}
	if upd.DisplayName != nil {
		u.user.DisplayName = *upd.DisplayName
	}
	if upd.UsageLocation != nil {
		u.user.UsageLocation = strings.ToUpper(*upd.UsageLocation)
	}
	if upd.ImmutableID != nil {
		if u.user.ImmutableID != "" {
			delete(t.byImmutable, u.user.ImmutableID)
		}
		u.user.ImmutableID = *upd.ImmutableID
		if u.user.ImmutableID != "" {
			t.byImmutable[u.user.ImmutableID] = u
		}
	}
	if upd.Password != nil {
		u.password = upd.Password.Password
		u.forceChange = upd.Password.ForceChangePassword
		u.user.LastPasswordChange = t.clock()
	}
	t.seq++
	u.seq = t.seq
	t.log.Debug("memory tenant updated user", "id", u.user.ID)
	return nil
}

// ChangePasswordInPortal simulates the user changing the password in the
// Office 365 portal: the password and LastPasswordChange change, and the
// user shows up in Changes. It honours ctx and the faults of op
// "ChangePasswordInPortal"; the password policy applies.
func (t *Tenant) ChangePasswordInPortal(ctx context.Context, idOrUPN, newPassword string) error {
	const op = "ChangePasswordInPortal"
	if err := t.begin(ctx, op, idOrUPN); err != nil {
		return err
	}
	return t.done(op, idOrUPN, t.updateUser(op, idOrUPN, backend.OnlineUserUpdate{
		Password: &backend.PasswordProfile{Password: newPassword},
	}))
}

// CheckPassword reports whether password is the live user's current
// password. It exists for tests of password synchronization and is not
// recorded in the call log.
func (t *Tenant) CheckPassword(idOrUPN, password string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.lookupLocked(idOrUPN)
	return ok && u.password == password
}

// DeleteUser moves the user to deleted items: it can be restored for 30
// days, its UPN stays reserved, its seats are released and its aliases are
// removed.
func (t *Tenant) DeleteUser(ctx context.Context, id string) error {
	const op = "DeleteUser"
	if err := t.begin(ctx, op, id); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	u, ok := t.lookupLocked(id)
	if !ok {
		return t.done(op, id, tenantNotFound(op, id))
	}
	t.countSeatsLocked(u, -1)
	u.deleted = true
	u.deletedAt = t.clock()
	t.deleted[u.user.ID] = u
	for k := range u.aliases {
		delete(t.byAlias, k)
	}
	u.aliases = map[string]string{}
	t.seq++
	u.seq = t.seq
	t.log.Debug("memory tenant deleted user", "id", u.user.ID)
	return t.done(op, id, nil)
}

// RestoreUser restores a user deleted less than 30 days ago, with its
// licenses; FailedPrecondition (rule "no-free-license") when a seat it held
// is no longer free.
func (t *Tenant) RestoreUser(ctx context.Context, id string) (backend.OnlineUser, error) {
	const op = "RestoreUser"
	if err := t.begin(ctx, op, id); err != nil {
		return backend.OnlineUser{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	u, ok := t.users[strings.ToLower(id)]
	if !ok || !u.deleted {
		return backend.OnlineUser{}, t.done(op, id, tenantNotFound(op, id))
	}
	for _, l := range u.user.AssignedLicenses {
		s := t.skuLocked(l.SKUID)
		if s != nil && t.consumedLocked(s.sku.SKUID) >= s.sku.Enabled {
			return backend.OnlineUser{}, t.done(op, id, tenantNoSeat(op, id, s.sku))
		}
	}
	u.deleted = false
	u.deletedAt = time.Time{}
	delete(t.deleted, u.user.ID)
	t.countSeatsLocked(u, +1)
	t.seq++
	u.seq = t.seq
	t.log.Debug("memory tenant restored user", "id", u.user.ID)
	return u.snapshot(), t.done(op, id, nil)
}

// ListDeletedUsers lists the users that can still be restored, oldest
// deletion first, with DeletedAt set.
func (t *Tenant) ListDeletedUsers(ctx context.Context) ([]backend.OnlineUser, error) {
	const op = "ListDeletedUsers"
	if err := t.begin(ctx, op, ""); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.purgeLocked()
	var out []backend.OnlineUser
	for _, u := range t.order {
		if u.deleted && !u.purged {
			out = append(out, u.snapshot())
		}
	}
	t.mu.Unlock()
	slices.SortStableFunc(out, func(a, b backend.OnlineUser) int { return a.DeletedAt.Compare(b.DeletedAt) })
	return out, t.done(op, "", nil)
}

// Changes returns the users changed since watermark: the users created,
// updated or restored as Upserted, the users deleted as Deleted (Permanent
// once purged). Each user appears once per answer, in its latest state. ""
// starts a full round of the live users; a user deleted while the round is
// paged is reported as Deleted on a later page.
func (t *Tenant) Changes(ctx context.Context, watermark string) (backend.TenantChanges, error) {
	const op = "Changes"
	if err := t.begin(ctx, op, ""); err != nil {
		return backend.TenantChanges{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	pos, ok := tenantParseWatermark(watermark, t.seq)
	if !ok {
		return backend.TenantChanges{}, t.done(op, "", backend.Invalid(op, "", "watermark", "the watermark %q was not returned by this tenant", watermark))
	}
	// Deletions are reported when they happened after both the position
	// and the start of a full round: those before the round are of users
	// the caller never saw.
	deletedAfter := max(pos.since, pos.start)
	type item struct {
		seq uint64
		c   backend.TenantChange
	}
	var items []item
	for _, u := range t.users {
		switch {
		case u.seq <= pos.since:
		case !u.deleted:
			items = append(items, item{u.seq, backend.TenantChange{Type: backend.Upserted, User: u.snapshot()}})
		case u.seq > deletedAfter:
			gone := backend.OnlineUser{ID: u.user.ID, UserPrincipalName: u.user.UserPrincipalName, DisplayName: u.user.DisplayName, ImmutableID: u.user.ImmutableID, DeletedAt: u.deletedAt}
			items = append(items, item{u.seq, backend.TenantChange{Type: backend.Deleted, User: gone}})
		}
	}
	for _, ts := range t.tombstones {
		if ts.seq > deletedAfter {
			items = append(items, item{ts.seq, backend.TenantChange{Type: backend.Deleted, User: ts.user, Permanent: true}})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.seq, b.seq) })
	res := backend.TenantChanges{}
	if len(items) > t.pageSize {
		items = items[:t.pageSize]
		res.More = true
		res.Watermark = tenantPosition{since: items[len(items)-1].seq, start: pos.start}.String()
	} else {
		res.Watermark = tenantPosition{since: t.seq}.String()
	}
	res.Changes = make([]backend.TenantChange, len(items))
	for i, it := range items {
		res.Changes[i] = it.c
	}
	return res, t.done(op, "", nil)
}

// tenantPosition is where a delta reader stands: the change counter
// reached, and the counter when its full round started (0 outside a full
// round).
type tenantPosition struct{ since, start uint64 }

// String encodes the position as an opaque watermark.
func (p tenantPosition) String() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "m365delta.%d.%d", p.since, p.start))
}

// tenantParseWatermark decodes a watermark; "" is the start of a full round
// at the current counter cur.
func tenantParseWatermark(w string, cur uint64) (tenantPosition, bool) {
	if w == "" {
		return tenantPosition{start: cur}, true
	}
	raw, err := base64.RawURLEncoding.DecodeString(w)
	if err != nil {
		return tenantPosition{}, false
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != "m365delta" {
		return tenantPosition{}, false
	}
	since, err1 := strconv.ParseUint(parts[1], 10, 64)
	start, err2 := strconv.ParseUint(parts[2], 10, 64)
	if err1 != nil || err2 != nil || since > cur || start > cur {
		return tenantPosition{}, false
	}
	return tenantPosition{since: since, start: start}, true
}

// AddSKU adds a subscription. Enabled is the number of seats; Consumed is
// ignored (it is computed from assignments). ID defaults to
// "<tenantID>_<SKUID>", CapabilityStatus to "Enabled" and each plan's
// ProvisioningStatus to "Success".
func (t *Tenant) AddSKU(sku backend.SKU) (backend.SKU, error) {
	const op = "AddSKU"
	if sku.SKUID == "" || sku.PartNumber == "" {
		return backend.SKU{}, backend.Invalid(op, sku.SKUID, "sku", "a SKU needs a SKUID and a PartNumber")
	}
	if sku.Enabled < 0 {
		return backend.SKU{}, backend.Invalid(op, sku.SKUID, "sku", "enabled seats cannot be negative")
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
	const op = "SetSeats"
	if enabled < 0 {
		return backend.Invalid(op, skuID, "sku", "enabled seats cannot be negative")
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
		Kind: backend.FailedPrecondition, Op: op, Key: key, Reason: "no-free-license",
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
		return backend.OnlineUser{}, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: id, Reason: "usage-location-required", Msg: tenantMsgUsageLocation}
	}
	next := tenantCloneLicenses(u.user.AssignedLicenses)
	held := func(skuID string) int {
		return slices.IndexFunc(next, func(l backend.AssignedLicense) bool { return strings.EqualFold(l.SKUID, skuID) })
	}
	seen := map[string]bool{}
	for _, r := range remove {
		s := t.skuLocked(r)
		if s == nil {
			return backend.OnlineUser{}, backend.Invalid(op, id, "unknown-sku", "License %s does not correspond to a valid company License.", r)
		}
		i := held(r)
		if i < 0 {
			return backend.OnlineUser{}, backend.Invalid(op, id, "license-not-assigned", "User does not have a corresponding license %s (%s).", s.sku.SKUID, s.sku.PartNumber)
		}
		seen[s.sku.SKUID] = true
		next = slices.Delete(next, i, i+1)
	}
	var gained []*tenantSKU
	for _, a := range add {
		s := t.skuLocked(a.SKUID)
		if s == nil {
			return backend.OnlineUser{}, backend.Invalid(op, id, "unknown-sku", "License %s does not correspond to a valid company License.", a.SKUID)
		}
		if seen[s.sku.SKUID] {
			return backend.OnlineUser{}, backend.Invalid(op, id, "license-conflict", "License %s is both added and removed, or added twice.", s.sku.SKUID)
		}
		seen[s.sku.SKUID] = true
		plans := make([]string, 0, len(a.DisabledPlans))
		for _, p := range a.DisabledPlans {
			if !slices.ContainsFunc(s.sku.ServicePlans, func(sp backend.ServicePlan) bool { return strings.EqualFold(sp.ID, p) }) {
				return backend.OnlineUser{}, backend.Invalid(op, id, "unknown-service-plan", "Service plan %s is not part of SKU %s (%s).", p, s.sku.SKUID, s.sku.PartNumber)
			}
			plans = append(plans, strings.ToLower(p))
		}
		slices.Sort(plans)
		plans = slices.Compact(plans)
		if i := held(s.sku.SKUID); i >= 0 {
			next[i].DisabledPlans = plans // update in place: no new seat
			continue
		}
		next = append(next, backend.AssignedLicense{SKUID: s.sku.SKUID, DisabledPlans: plans})
		gained = append(gained, s)
	}
	for _, s := range gained {
		if t.consumedLocked(s.sku.SKUID) >= s.sku.Enabled {
			return backend.OnlineUser{}, tenantNoSeat(op, id, s.sku)
		}
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

// mailAddressLocked returns the user's mail: the UPN once a license with an
// enabled Exchange plan gives the user a mailbox, "" before.
func (t *Tenant) mailAddressLocked(u *tenantUser) string {
	for _, l := range u.user.AssignedLicenses {
		s := t.skuLocked(l.SKUID)
		if s == nil {
			continue
		}
		for _, p := range s.sku.ServicePlans {
			if strings.HasPrefix(strings.ToUpper(p.Name), "EXCHANGE") && !slices.Contains(l.DisabledPlans, p.ID) {
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

// tenantDigits derives n decimal digits from the parts, deterministically.
func tenantDigits(n int, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	v := binary.BigEndian.Uint64(h[:8])
	mod := uint64(1)
	for range n {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", n, v%mod)
}

// tenantStableID derives a GUID-shaped id from the parts, deterministically.
func tenantStableID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	var g backend.GUID
	copy(g[:], h[:16])
	g[7] = g[7]&0x0f | 0x50 // version 5-like: name-based
	g[8] = g[8]&0x3f | 0x80
	return g.String()
}
