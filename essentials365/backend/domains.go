package backend

import "context"

// DomainAdmin is implemented by tenants that can add, verify, make default
// and remove custom domains (Graph's domains API). It is separate from
// [Tenant] because the account flows only read domains; it is discovered by
// type assertion on the tenant.
type DomainAdmin interface {
	// AddDomain adds an unverified custom domain to the tenant.
	// AlreadyExists when the tenant has it; InvalidArgument
	// ([ReasonDomainName]) for a name the service refuses.
	AddDomain(ctx context.Context, name string) (Domain, error)
	// VerificationRecords returns the records that prove ownership of an
	// unverified domain (a TXT "MS=ms…" and an equivalent MX).
	VerificationRecords(ctx context.Context, name string) ([]DNSRecord, error)
	// VerifyDomain asks the service to look the proof up in DNS;
	// FailedPrecondition ([ReasonVerificationRecordMissing]) when it is not
	// there yet.
	VerifyDomain(ctx context.Context, name string) (Domain, error)
	// ServiceConfigurationRecords returns the records the domain needs for
	// Microsoft 365's services (MX, SPF, autodiscover, ...);
	// FailedPrecondition ([ReasonDomainUnverified]) before verification.
	ServiceConfigurationRecords(ctx context.Context, name string) ([]DNSRecord, error)
	// SetDefaultDomain makes a verified domain the tenant's default (Graph:
	// PATCH /domains/{id} with isDefault); FailedPrecondition
	// ([ReasonDomainUnverified]) for an unverified one.
	SetDefaultDomain(ctx context.Context, name string) (Domain, error)
	// DomainReferences lists the objects that use the domain (Graph's
	// domainNameReferences): users by UPN and recipients by address, as
	// "user:ann@contoso.com" or "address:sales@contoso.com".
	DomainReferences(ctx context.Context, name string) ([]string, error)
	// DeleteDomain removes a domain no user or group uses;
	// FailedPrecondition ([ReasonDomainInUse], [ReasonDomainDefault],
	// [ReasonDomainInitial]) otherwise.
	DeleteDomain(ctx context.Context, name string) error
	// ForceDeleteDomain removes a domain that objects still use, after
	// renaming them onto the initial onmicrosoft.com domain (Graph: POST
	// /domains/{id}/forceDelete): users' UPNs are renamed, addresses on the
	// domain removed, and with disableUserAccounts the renamed users are
	// disabled. More than ForceDeleteLimit objects is FailedPrecondition
	// ([ReasonDomainTooManyReferences]); the default and the initial domain
	// are refused as by DeleteDomain.
	ForceDeleteDomain(ctx context.Context, name string, disableUserAccounts bool) error
}

// ForceDeleteLimit is the number of objects above which Graph refuses a
// forceDelete ("errors if more than 1000 objects").
const ForceDeleteLimit = 1000

// The reasons of the DomainAdmin contract, shared by every driver.
const (
	// ReasonDomainName (InvalidArgument): the service refuses the domain
	// name (not a domain name, an onmicrosoft.com name).
	ReasonDomainName Reason = "domain-name"
	// ReasonVerificationRecordMissing (FailedPrecondition): the
	// verification TXT record is not visible in public DNS yet.
	ReasonVerificationRecordMissing Reason = "verification-record-missing"
	// ReasonDomainVerifiedElsewhere (FailedPrecondition): another Microsoft
	// 365 organisation has verified the domain; it must be removed there
	// first.
	ReasonDomainVerifiedElsewhere Reason = "domain-verified-elsewhere"
	// ReasonDomainUnverified (FailedPrecondition): the operation needs a
	// verified domain.
	ReasonDomainUnverified Reason = "domain-unverified"
	// ReasonDomainInitial (FailedPrecondition): the initial onmicrosoft.com
	// domain cannot be removed.
	ReasonDomainInitial Reason = "domain-initial"
	// ReasonDomainDefault (FailedPrecondition): the default domain cannot be
	// removed; make another domain the default first.
	ReasonDomainDefault Reason = "domain-default"
	// ReasonDomainInUse (FailedPrecondition): users, groups or addresses
	// still use the domain.
	ReasonDomainInUse Reason = "domain-in-use"
	// ReasonDomainTooManyReferences (FailedPrecondition): a forced removal
	// would rename more than ForceDeleteLimit objects.
	ReasonDomainTooManyReferences Reason = "domain-too-many-references"
)
