package backend

import (
	"context"
	"fmt"
	"time"
)

// DirectoryRequirements is an optional capability of a [Directory]: the
// facts the integration's requirements check needs beyond [DomainInfo].
// It is discovered by type assertion on the directory driver.
type DirectoryRequirements interface {
	// RequirementFacts reads the domain controllers, the mapping
	// attribute's schema entry and rights, and the server's clock. It
	// writes nothing.
	RequirementFacts(ctx context.Context) (DirectoryFacts, error)
}

// DirectoryFacts are what [DirectoryRequirements.RequirementFacts] reports.
type DirectoryFacts struct {
	// DomainControllers are the DNS host names of the domain's domain
	// controllers (as registered in the Sites container), sorted.
	DomainControllers []string
	// Server is the DNS host name of the server the driver talks to.
	Server string
	// MappingAttribute is the attribute where the online account is
	// recorded.
	MappingAttribute string
	// SchemaHasMappingAttribute reports that the schema defines it.
	SchemaHasMappingAttribute bool
	// CanWriteMappingAttribute reports that the account the driver binds
	// with may write it on user objects (allowedAttributesEffective).
	CanWriteMappingAttribute bool
	// ServerTime is the server's clock when it answered; zero when unknown.
	ServerTime time.Time
}

// TenantRequirements is an optional capability of a [Tenant]: the facts
// the integration's requirements check needs beyond [Tenant.Organization].
// It is discovered by type assertion on the tenant driver.
type TenantRequirements interface {
	// RequirementFacts signs in, reads the organization's sync state, the
	// application permissions granted to the credential and the service's
	// clock. A sign-in failure is returned as an error of kind
	// PermissionDenied, FailedPrecondition or Unavailable with one of the
	// ReasonSignIn... reasons and a *SignInError cause.
	RequirementFacts(ctx context.Context) (TenantFacts, error)
}

// TenantFacts are what [TenantRequirements.RequirementFacts] reports.
type TenantFacts struct {
	// TenantID is the organization's id.
	TenantID string
	// ClientID is the application (client) id the driver signs in as, when
	// known.
	ClientID string
	// OnPremisesSyncEnabled is organization.onPremisesSyncEnabled: directory
	// synchronization (Entra Connect) is on, so synced users cannot be
	// managed through Graph.
	OnPremisesSyncEnabled bool
	// OnPremisesLastSync is organization.onPremisesLastSyncDateTime.
	OnPremisesLastSync time.Time
	// Roles are the application permissions granted (the access token's
	// roles claim), e.g. "User.ReadWrite.All". RolesKnown is false when
	// the driver cannot tell (then Roles is empty).
	Roles      []string
	RolesKnown bool
	// ServerTime is the service's clock (the Date of its answer); zero
	// when unknown.
	ServerTime time.Time
}

// SecretRotator is an optional capability of a [Tenant] whose credential
// is an application secret: the application adds and removes its own
// secrets (Graph's addPassword and removePassword, which need
// Application.ReadWrite.OwnedBy with the application owning itself, or
// Application.ReadWrite.All).
type SecretRotator interface {
	// AddSecret adds a client secret valid until end (zero: the service's
	// default, two years for Entra ID). The secret text is returned once.
	AddSecret(ctx context.Context, displayName string, end time.Time) (ClientSecret, error)
	// RemoveSecret removes the secret with that key id.
	RemoveSecret(ctx context.Context, keyID string) error
}

// ClientSecret is a new application secret. Text is the secret itself:
// never log it or store it in clear.
type ClientSecret struct {
	KeyID       string
	DisplayName string
	Hint        string
	Start, End  time.Time
	Text        string
}

// String hides the secret text.
func (c ClientSecret) String() string {
	return fmt.Sprintf("client secret %s (%s...)", c.KeyID, c.Hint)
}

// Reasons of a failed sign-in to the tenant, shared by every tenant driver.
// The Microsoft identity platform's error code is in the *SignInError
// cause.
const (
	// ReasonSignInNetwork (Unavailable): the sign-in service gave no answer
	// (DNS, TCP, TLS, timeout).
	ReasonSignInNetwork Reason = "sign-in-network"
	// ReasonSignInUnavailable (Unavailable): the sign-in service answered
	// that it is temporarily unavailable (5xx, temporarily_unavailable).
	ReasonSignInUnavailable Reason = "sign-in-unavailable"
	// ReasonSignInThrottled (Throttled): the tenant is throttled
	// (AADSTS90055).
	ReasonSignInThrottled Reason = "sign-in-throttled"
	// ReasonSecretInvalid (PermissionDenied): the client secret is wrong or
	// was deleted, or the secret's id was given instead of its value
	// (AADSTS7000215); a certificate assertion was refused (AADSTS700027).
	ReasonSecretInvalid Reason = "secret-invalid"
	// ReasonSecretExpired (PermissionDenied): the client secret has expired
	// (AADSTS7000222).
	ReasonSecretExpired Reason = "secret-expired"
	// ReasonAppNotFound (FailedPrecondition): no application with that
	// client id in the tenant (AADSTS700016).
	ReasonAppNotFound Reason = "app-not-found"
	// ReasonTenantNotFound (FailedPrecondition): no such tenant, or another
	// cloud's (AADSTS90002).
	ReasonTenantNotFound Reason = "tenant-not-found"
	// ReasonAppDisabled (FailedPrecondition): the application is disabled
	// (AADSTS70001).
	ReasonAppDisabled Reason = "app-disabled"
	// ReasonSignInBlocked (PermissionDenied): a Conditional Access policy
	// blocks the sign-in (AADSTS53003).
	ReasonSignInBlocked Reason = "sign-in-blocked"
	// ReasonSignInFailed (PermissionDenied): another sign-in error; see the
	// *SignInError cause.
	ReasonSignInFailed Reason = "sign-in-failed"
)

// SignInError is the Microsoft identity platform's answer to a failed
// token request, reachable with errors.As under the driver's *Error.
type SignInError struct {
	// StatusCode is the HTTP status (0 when there was no answer).
	StatusCode int
	// Code is the OAuth error ("invalid_client", "invalid_request", ...).
	Code string
	// AADSTS is the first of error_codes (7000215, ...), 0 when absent.
	AADSTS int
	// Description is error_description (for diagnosis only: Microsoft
	// does not keep its text stable).
	Description   string
	TraceID       string
	CorrelationID string
}

func (e *SignInError) Error() string {
	if e.AADSTS != 0 {
		return fmt.Sprintf("sign-in: %s (AADSTS%d, HTTP %d)", e.Code, e.AADSTS, e.StatusCode)
	}
	return fmt.Sprintf("sign-in: %s (HTTP %d)", e.Code, e.StatusCode)
}

// ClassifySignIn returns the kind and reason of a token endpoint's error
// answer, following Microsoft's advice to react on the OAuth error and the
// documented AADSTS codes.
func ClassifySignIn(e *SignInError) (Kind, Reason) {
	switch e.AADSTS {
	case 7000215, 700027:
		return PermissionDenied, ReasonSecretInvalid
	case 7000222:
		return PermissionDenied, ReasonSecretExpired
	case 700016:
		return FailedPrecondition, ReasonAppNotFound
	case 90002:
		return FailedPrecondition, ReasonTenantNotFound
	case 70001:
		return FailedPrecondition, ReasonAppDisabled
	case 53003:
		return PermissionDenied, ReasonSignInBlocked
	case 90055:
		return Throttled, ReasonSignInThrottled
	case 90033, 90006, 90024:
		return Unavailable, ReasonSignInUnavailable
	}
	switch {
	case e.Code == "temporarily_unavailable" || e.StatusCode >= 500:
		return Unavailable, ReasonSignInUnavailable
	case e.StatusCode == 429:
		return Throttled, ReasonSignInThrottled
	case e.Code == "invalid_client":
		return PermissionDenied, ReasonSecretInvalid
	}
	return PermissionDenied, ReasonSignInFailed
}
