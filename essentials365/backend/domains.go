package backend

import "context"

// DomainAdmin is implemented by tenants that can add and verify custom
// domains (Graph's domains API). It is separate from [Tenant] because the
// account flows only read domains.
type DomainAdmin interface {
	// AddDomain adds an unverified custom domain to the tenant.
	AddDomain(ctx context.Context, name string) (Domain, error)
	// VerificationRecords returns the records that prove ownership of an
	// unverified domain (a TXT "MS=ms…" and an equivalent MX).
	VerificationRecords(ctx context.Context, name string) ([]DomainDNSRecord, error)
	// VerifyDomain asks the service to look the proof up in DNS;
	// FailedPrecondition (rule "verification-record-missing") when it is not
	// there yet.
	VerifyDomain(ctx context.Context, name string) (Domain, error)
	// ServiceConfigurationRecords returns the records the domain needs for
	// Microsoft 365's services (MX, SPF, autodiscover, ...).
	ServiceConfigurationRecords(ctx context.Context, name string) ([]DomainDNSRecord, error)
	// DeleteDomain removes a domain no user or group uses.
	DeleteDomain(ctx context.Context, name string) error
}

// DomainDNSRecord is one DNS record the tenant asks for, shaped after
// Graph's domainDnsRecord and its subtypes. Fields that do not apply to
// RecordType are zero.
type DomainDNSRecord struct {
	ID         string
	Label      string // owner name, e.g. "contoso.com" or "autodiscover.contoso.com"
	RecordType string // "Mx", "Txt", "CName", "Srv"
	TTL        int
	// SupportedService is Graph's value: "Email", "OfficeCommunicationsOnline",
	// "Intune", ...
	SupportedService string
	IsOptional       bool
	// MX
	MailExchange string
	Preference   int
	// TXT
	Text string
	// CNAME
	CanonicalName string
	// SRV
	NameTarget string
	Port       int
	Priority   int
	Protocol   string
	Service    string
	Weight     int
}
