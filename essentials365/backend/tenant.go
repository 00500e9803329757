package backend

import (
	"context"
	"iter"
	"strings"
	"time"
)

// Tenant is a Microsoft 365 tenant as Microsoft Graph shows it: online
// users, subscribed SKUs and their licenses, and the tenant's domains.
//
// Online users are addressed by their object id; GetUser also accepts a
// userPrincipalName, as Graph does.
type Tenant interface {
	// Organization returns the tenant's identity.
	Organization(ctx context.Context) (Organization, error)

	// ListUsers streams the tenant's online users, page by page. Iteration
	// stops at the first error, which is yielded with a zero OnlineUser.
	ListUsers(ctx context.Context) iter.Seq2[OnlineUser, error]
	// GetUser returns the user with that object id or userPrincipalName
	// (case-insensitive), or NotFound.
	GetUser(ctx context.Context, idOrUPN string) (OnlineUser, error)
	// GetUserByImmutableID returns the user whose onPremisesImmutableId is
	// id, or NotFound.
	GetUserByImmutableID(ctx context.Context, id string) (OnlineUser, error)

	// CreateUser creates an online user. The UPN must be unique
	// (AlreadyExists), use allowed characters and a verified domain of the
	// tenant (InvalidArgument naming the rule).
	CreateUser(ctx context.Context, u NewOnlineUser) (OnlineUser, error)
	// UpdateUser changes the fields of upd that are set.
	UpdateUser(ctx context.Context, id string, upd OnlineUserUpdate) error
	// DeleteUser deletes the user; it can be restored for 30 days.
	DeleteUser(ctx context.Context, id string) error
	// RestoreUser restores a user deleted less than 30 days ago.
	RestoreUser(ctx context.Context, id string) (OnlineUser, error)
	// ListDeletedUsers lists the users that can still be restored.
	ListDeletedUsers(ctx context.Context) ([]OnlineUser, error)

	// SubscribedSKUs returns the tenant's subscriptions.
	SubscribedSKUs(ctx context.Context) ([]SKU, error)
	// AssignLicenses adds and removes licenses of a user in one call. Adding
	// needs the user's usageLocation (FailedPrecondition otherwise) and a
	// free seat (FailedPrecondition, [ReasonNoFreeLicense]).
	AssignLicenses(ctx context.Context, id string, add []LicenseAssignment, remove []string) (OnlineUser, error)

	// Domains lists the tenant's domains.
	Domains(ctx context.Context) ([]Domain, error)

	// Changes returns the users changed since the watermark (Graph's
	// users/delta). An empty watermark starts a full round: every user is
	// returned. The returned watermark is opaque; when More is set, call
	// again at once with it.
	Changes(ctx context.Context, watermark string) (TenantChanges, error)
}

// BatchTenant is implemented by tenants that can do many writes per
// round trip (Graph's JSON batching). Each result pairs with the input at
// the same index; the call itself fails only when nothing was attempted.
type BatchTenant interface {
	Tenant
	CreateUsers(ctx context.Context, users []NewOnlineUser) ([]OnlineUser, []error)
	AssignLicensesMany(ctx context.Context, changes []LicenseChange) ([]OnlineUser, []error)
}

// PagedChanges is implemented by tenants whose delta query can answer in
// pages smaller than their own page size, as Graph does for a request
// with "Prefer: odata.maxpagesize=n". ChangesMax is Changes with pages of
// at most maxPage changes (maxPage <= 0 means the tenant's page size).
type PagedChanges interface {
	ChangesMax(ctx context.Context, watermark string, maxPage int) (TenantChanges, error)
}

// Organization identifies a tenant.
type Organization struct {
	ID          string
	DisplayName string
}

// OnlineUser is a user of the tenant.
type OnlineUser struct {
	ID                string
	UserPrincipalName string
	DisplayName       string
	// GivenName and Surname are Graph's givenName and surname; either may
	// be empty.
	GivenName    string
	Surname      string
	MailNickname string
	Mail         string
	// UsageLocation is the two-letter country code; needed for licensing.
	UsageLocation  string
	AccountEnabled bool
	// ImmutableID is onPremisesImmutableId: for a user this SDK manages,
	// the base64 of the on-premises objectGUID.
	ImmutableID string
	// LastPasswordChange is lastPasswordChangeDateTime; it moves on every
	// password change, whoever made it.
	LastPasswordChange time.Time
	AssignedLicenses   []AssignedLicense
	// DeletedAt is set for users listed by ListDeletedUsers.
	DeletedAt time.Time
}

// Licensed reports whether the user holds at least one license.
func (u OnlineUser) Licensed() bool { return len(u.AssignedLicenses) > 0 }

// LicensedOn reports whether the user holds a license of a Usable SKU
// among skus (the tenant's subscriptions): a user whose only licences are
// on suspended, locked-out or deleted subscriptions has no service.
func (u OnlineUser) LicensedOn(skus []SKU) bool {
	for _, l := range u.AssignedLicenses {
		for _, s := range skus {
			if strings.EqualFold(s.SKUID, l.SKUID) && s.Usable() {
				return true
			}
		}
	}
	return false
}

// AssignedLicense is a license a user holds.
type AssignedLicense struct {
	SKUID         string
	DisabledPlans []string
}

// NewOnlineUser is what [Tenant.CreateUser] takes.
type NewOnlineUser struct {
	UserPrincipalName string
	DisplayName       string
	// GivenName and Surname are optional (Graph's givenName and surname).
	GivenName string
	Surname   string
	// MailNickname defaults to the UPN's local part; at most 64 characters.
	MailNickname  string
	UsageLocation string
	Password      string
	// ForceChangePassword asks the user to change it at next sign-in.
	ForceChangePassword bool
	// Disabled creates the account with sign-in blocked.
	Disabled    bool
	ImmutableID string
}

// OnlineUserUpdate lists the changes [Tenant.UpdateUser] makes; nil fields
// are left as they are.
type OnlineUserUpdate struct {
	AccountEnabled *bool
	DisplayName    *string
	UsageLocation  *string
	ImmutableID    *string
	Password       *PasswordProfile
}

// PasswordProfile sets a user's password.
type PasswordProfile struct {
	Password            string
	ForceChangePassword bool
}

// LicenseAssignment adds a SKU with some of its service plans turned off.
type LicenseAssignment struct {
	SKUID         string
	DisabledPlans []string
}

// LicenseChange is one user's license change, for BatchTenant.
type LicenseChange struct {
	UserID string
	Add    []LicenseAssignment
	Remove []string
}

// Capability statuses of a subscription (subscribedSku.capabilityStatus,
// https://learn.microsoft.com/graph/api/resources/subscribedsku): Enabled;
// Warning, an expired subscription in its grace period, whose licences
// still work; Suspended, LockedOut and Deleted, whose licences give no
// service and cannot be assigned.
const (
	CapabilityEnabled   = "Enabled"
	CapabilityWarning   = "Warning"
	CapabilitySuspended = "Suspended"
	CapabilityLockedOut = "LockedOut"
	CapabilityDeleted   = "Deleted"
)

// SKU is a subscribed product (subscribedSku).
type SKU struct {
	// ID is the subscribedSku id; SKUID the product's GUID.
	ID         string
	SKUID      string
	PartNumber string
	// CapabilityStatus is one of the Capability constants; "" is read as
	// Enabled.
	CapabilityStatus string
	// Enabled is prepaidUnits.enabled, Consumed is consumedUnits.
	Enabled      int
	Consumed     int
	ServicePlans []ServicePlan
}

// Usable reports whether the subscription's licences work: its
// CapabilityStatus is Enabled (or empty) or Warning.
func (s SKU) Usable() bool {
	switch s.CapabilityStatus {
	case "", CapabilityEnabled, CapabilityWarning:
		return true
	}
	return false
}

// Available is the number of free seats: enabled minus consumed, never
// negative, and none when the subscription is not Usable (suspended,
// locked out or deleted).
func (s SKU) Available() int {
	if !s.Usable() {
		return 0
	}
	if n := s.Enabled - s.Consumed; n > 0 {
		return n
	}
	return 0
}

// ServicePlan is one service of a SKU (Exchange Online, SharePoint, ...).
type ServicePlan struct {
	ID                 string
	Name               string
	ProvisioningStatus string
}

// Domain is a domain of the tenant.
type Domain struct {
	Name       string
	IsVerified bool
	IsDefault  bool
	// IsInitial marks the tenant's onmicrosoft.com domain.
	IsInitial          bool
	AuthenticationType string
	SupportedServices  []string
}

// TenantChanges is one answer of [Tenant.Changes].
type TenantChanges struct {
	Changes   []TenantChange
	Watermark string
	More      bool
}

// TenantChange is one changed online user.
type TenantChange struct {
	Type ChangeType
	User OnlineUser
	// Permanent is set on a deletion that cannot be restored.
	Permanent bool
}
