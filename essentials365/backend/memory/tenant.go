package memory

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof that *Tenant implements the tenant contracts.
var (
	_ backend.Tenant       = (*Tenant)(nil)
	_ backend.BatchTenant  = (*Tenant)(nil)
	_ backend.DomainAdmin  = (*Tenant)(nil)
	_ backend.PagedChanges = (*Tenant)(nil)
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

	// Domains are custom domains the tenant starts with, verified unless
	// their seed says otherwise; default none.
	Domains []DomainSeed
	// SKUs are the subscriptions the tenant starts with (see AddSKU for
	// the defaults of their fields), e.g. SKUEnterprisePack(25); default
	// none.
	SKUs []backend.SKU
	// Users are created, in order, under the tenant's rules (see
	// CreateUser) once the domains and SKUs are in place, each with its
	// licences; default none.
	Users []UserSeed
}

// DomainSeed is a custom domain in TenantOptions.Domains.
type DomainSeed struct {
	Name string
	// Default makes it the tenant's default domain.
	Default bool
	// Unverified adds it without verifying it, as AddDomain does.
	Unverified bool
}

// UserSeed is a user in TenantOptions.Users.
type UserSeed struct {
	User backend.NewOnlineUser
	// Licenses are assigned once the user exists (the user needs a
	// UsageLocation).
	Licenses []backend.LicenseAssignment
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

// NewTenant returns a tenant with its initial domain and the domains,
// SKUs and users of opts (nil gives an empty tenant). The seed is applied
// under the tenant's rules; a seed they refuse is a programming error, and
// NewTenant panics naming it. The call log starts empty.
func NewTenant(opts *TenantOptions) *Tenant {
	var o TenantOptions
	if opts != nil {
		o = *opts
	}
	t := &Tenant{
		recorder:    newRecorder("Tenant", tenantOps...),
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
	t.mail = &Mail{t: t, recorder: newRecorder("Exchange", mailOps...)}
	if err := t.seed(o); err != nil {
		panic("memory: NewTenant: " + err.Error())
	}
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
	if err := backend.CtxErr(ctx, tenantWording(op)); err != nil {
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
	err = tenantWorded(op, err)
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

// tenantOpWording is the wording of the tenant contract's operations in
// errors, the same in every tenant driver ("tenant: <verb> <object>").
var tenantOpWording = map[string]string{
	string(OpOrganization):                "tenant: get organization",
	string(OpListUsers):                   "tenant: list users",
	string(OpGetUser):                     "tenant: get user",
	string(OpGetUserByImmutableID):        "tenant: get user by immutable id",
	string(OpCreateUser):                  "tenant: create user",
	string(OpCreateUsers):                 "tenant: create user",
	string(OpUpdateUser):                  "tenant: update user",
	string(OpDeleteUser):                  "tenant: delete user",
	string(OpRestoreUser):                 "tenant: restore user",
	string(OpListDeletedUsers):            "tenant: list deleted users",
	string(OpSubscribedSKUs):              "tenant: list subscribed skus",
	string(OpAssignLicenses):              "tenant: assign licenses",
	string(OpAssignLicensesMany):          "tenant: assign licenses",
	string(OpDomains):                     "tenant: list domains",
	string(OpChanges):                     "tenant: list changes",
	string(OpChangePasswordInPortal):      "tenant: change password in portal",
	string(OpAddDomain):                   "tenant: add domain",
	string(OpVerificationRecords):         "tenant: list verification records",
	string(OpServiceConfigurationRecords): "tenant: list service configuration records",
	string(OpVerifyDomain):                "tenant: verify domain",
	string(OpDeleteDomain):                "tenant: delete domain",
	"SetDefaultDomain":                    "tenant: set default domain",
	"DomainReferences":                    "tenant: list domain references",
	"ForceDeleteDomain":                   "tenant: force delete domain",
	"RequirementFacts":                    "tenant: requirement facts",
	"AddSecret":                           "tenant: add secret",
	"RemoveSecret":                        "tenant: remove secret",
}

// tenantWording returns the error wording of the operation op (a method
// name).
func tenantWording(op string) string {
	if w, ok := tenantOpWording[op]; ok {
		return w
	}
	return op
}

// tenantWorded returns err with the wording of op when err is the
// tenant's own *backend.Error named after the method (a copy: the error
// may be shared).
func tenantWorded(op string, err error) error {
	e, ok := err.(*backend.Error)
	if !ok || e.Op != op {
		return err
	}
	c := *e
	c.Op = tenantWording(op)
	return &c
}
