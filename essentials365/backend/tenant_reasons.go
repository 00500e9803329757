package backend

// Reasons of the tenant contract ([Tenant], [BatchTenant]), shared by every
// tenant driver: the memory tenant decides them from its rules, the Graph
// driver recognizes them in Microsoft Graph's answers. Each says the Kind
// it comes with.
const (
	// ReasonUPNSyntax (InvalidArgument): the userPrincipalName has no
	// domain, an empty or over-long local part, or misplaced periods.
	ReasonUPNSyntax Reason = "upn-syntax"
	// ReasonUPNCharacters (InvalidArgument): the userPrincipalName's local
	// part holds a character Microsoft 365 refuses.
	ReasonUPNCharacters Reason = "upn-characters"
	// ReasonUPNDomainUnknown (InvalidArgument): the userPrincipalName's
	// domain is not a domain of the tenant.
	ReasonUPNDomainUnknown Reason = "upn-domain-unknown"
	// ReasonUPNDomainUnverified (InvalidArgument): the userPrincipalName's
	// domain is a domain of the tenant that is not verified (Graph's
	// message does not tell it from ReasonUPNDomainUnknown).
	ReasonUPNDomainUnverified Reason = "upn-domain-unverified"
	// ReasonDisplayNameRequired (InvalidArgument): the display name is
	// empty or too long.
	ReasonDisplayNameRequired Reason = "display-name-required"
	// ReasonMailNickname (InvalidArgument): the mailNickname is empty,
	// longer than 64 characters or holds a refused character.
	ReasonMailNickname Reason = "mail-nickname"
	// ReasonUsageLocation (InvalidArgument): the usage location is not a
	// two-letter country code.
	ReasonUsageLocation Reason = "usage-location"
	// ReasonPasswordPolicy (InvalidArgument): the password is missing or
	// breaks Microsoft 365's password policy.
	ReasonPasswordPolicy Reason = "password-policy"
	// ReasonImmutableID (InvalidArgument): the onPremisesImmutableId is
	// malformed.
	ReasonImmutableID Reason = "immutable-id"
	// ReasonWatermark (InvalidArgument): the watermark given to Changes
	// was not made by this tenant or driver.
	ReasonWatermark Reason = "watermark"
	// ReasonUnknownSKU (InvalidArgument): the tenant does not subscribe to
	// the SKU named.
	ReasonUnknownSKU Reason = "unknown-sku"
	// ReasonUnknownServicePlan (InvalidArgument): a disabled plan is not a
	// service plan of the SKU.
	ReasonUnknownServicePlan Reason = "unknown-service-plan"
	// ReasonLicenseNotAssigned (InvalidArgument): a licence to remove is
	// not assigned to the user.
	ReasonLicenseNotAssigned Reason = "license-not-assigned"
	// ReasonLicenseConflict (InvalidArgument): one SKU is both added and
	// removed, or added twice, in one call.
	ReasonLicenseConflict Reason = "license-conflict"
	// ReasonNoFreeLicense (FailedPrecondition): the SKU has no free seat,
	// or its subscription is suspended, locked out or deleted (see
	// [SKU.Available]).
	ReasonNoFreeLicense Reason = "no-free-license"
	// ReasonUsageLocationRequired (FailedPrecondition): a licence is
	// assigned to a user without a usage location.
	ReasonUsageLocationRequired Reason = "usage-location-required"
	// ReasonUsageLocationInUse (FailedPrecondition): the usage location of
	// a licensed user cannot be removed.
	ReasonUsageLocationInUse Reason = "usage-location-in-use"
)
