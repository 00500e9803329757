package dnsrecords

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/internal/dnsrr"
)

// Type is a DNS record type this package generates: the SDK's one record
// type, backend.DNSType.
type Type = backend.DNSType

// The record types Microsoft 365 asks for.
const (
	TypeMX    = backend.DNSTypeMX
	TypeTXT   = backend.DNSTypeTXT
	TypeCNAME = backend.DNSTypeCNAME
	TypeSRV   = backend.DNSTypeSRV
)

// Service is the Microsoft 365 service a record serves; records are generated
// and selected by service.
type Service string

// The services. ServiceOther holds tenant records this package does not
// recognise; they are passed through unchanged.
const (
	ServiceVerification Service = "verification" // proving the domain belongs to the tenant
	ServiceMail         Service = "mail"         // Exchange Online: MX, Autodiscover, SPF
	ServiceFederation   Service = "federation"   // Teams (and Skype) federation
	ServiceSkypeLegacy  Service = "skype-legacy" // legacy Skype for Business Online client records
	ServiceMDM          Service = "mdm"          // Intune enrollment and Entra device registration
	ServiceDKIM         Service = "dkim"         // DKIM signing of outgoing mail
	ServiceDMARC        Service = "dmarc"        // DMARC policy for the domain
	ServiceOther        Service = "other"
)

// AllServices returns the services Generate produces records for when
// Options.Services is empty, in output order.
func AllServices() []Service {
	return []Service{ServiceVerification, ServiceMail, ServiceFederation, ServiceSkypeLegacy, ServiceMDM, ServiceDKIM, ServiceDMARC}
}

// ParseService returns the service with the given name.
func ParseService(s string) (Service, error) {
	for _, v := range append(AllServices(), ServiceOther) {
		if strings.EqualFold(strings.TrimSpace(s), string(v)) {
			return v, nil
		}
	}
	return "", invalid(opGenerate, s, ReasonOption, "unknown service")
}

// Source says where a record's value came from.
type Source string

const (
	// SourceTenant: the value came from the tenant (Graph's
	// serviceConfigurationRecords or verificationDnsRecords, or a value the
	// caller read from the admin center or Exchange Online).
	SourceTenant Source = "tenant"
	// SourceDocumented: a fixed value Microsoft documents for every tenant
	// of the worldwide cloud (autodiscover.outlook.com, for instance).
	SourceDocumented Source = "documented"
	// SourceDerived: a tenant-specific value guessed offline from the domain
	// name. It is unverified until confirmed in the admin center.
	SourceDerived Source = "derived"
)

// Role identifies which of the Microsoft 365 records a Record is.
type Role string

// The records this package knows.
const (
	RoleVerificationTXT Role = "verification-txt"
	RoleVerificationMX  Role = "verification-mx"
	RoleMX              Role = "mx"
	RoleAutodiscover    Role = "autodiscover"
	RoleSPF             Role = "spf"
	RoleOWA             Role = "owa-alias"
	RoleSIPFederation   Role = "sipfederationtls"
	RoleSIPTLS          Role = "sip-tls"
	RoleSIP             Role = "sip"
	RoleLyncdiscover    Role = "lyncdiscover"
	RoleEnrollment      Role = "enterpriseenrollment"
	RoleRegistration    Role = "enterpriseregistration"
	RoleDKIM1           Role = "dkim-selector1"
	RoleDKIM2           Role = "dkim-selector2"
	RoleDMARC           Role = "dmarc"
	RoleOther           Role = "other"
)

// Explanation says in plain words why a record is needed.
type Explanation struct {
	// Purpose says what the record does.
	Purpose string
	// WithoutIt says what breaks when the record is missing or wrong.
	WithoutIt string
	// Warnings are cautions to read before adding the record.
	Warnings []string
}

// Record is one DNS record to add: the SDK's neutral backend.DNSRecord
// (owner name, type, TTL and value; its Optional field marks the records
// Microsoft 365 works without), with what this package knows about it.
// Names are fully qualified, in A-labels, without the final dot; a TXT text
// is unsplit (strings of more than 255 bytes are split when rendered).
type Record struct {
	backend.DNSRecord

	Role    Role
	Service Service
	Source  Source
	// Placeholder reports that the value holds a placeholder (msXXXXXXXX)
	// to be replaced with the tenant's value before use.
	Placeholder bool
	Explanation Explanation
}

// Unverified reports whether the value was derived offline and still has to
// be confirmed against the tenant.
func (r Record) Unverified() bool { return r.Source == SourceDerived }

// Host returns the owner name relative to domain: "@" for the domain itself.
func (r Record) Host(domain string) string {
	if r.Name == domain {
		return "@"
	}
	return strings.TrimSuffix(r.Name, "."+domain)
}

// RR returns the record as a github.com/miekg/dns resource record, with
// fully qualified names. A TXT text longer than 255 bytes is split into
// strings of 255 bytes, each kept in the escaped form miekg/dns uses (\" for
// a quote, \DDD for a byte outside printable ASCII).
func (r Record) RR() (dns.RR, error) {
	return dnsrr.ToRR(opGenerate, r.DNSRecord)
}

// RecordSet is the set of records a domain needs, in a stable order.
type RecordSet struct {
	Domain  Domain
	Records []Record
	// Warnings are notes about the whole set: SPF lookups over the limit,
	// values that could not be derived exactly, and the like.
	Warnings []string
	// MailMigration reports that the set was generated for a mail migration:
	// the Microsoft 365 MX is kept above the active MX (see
	// Options.MailMigration).
	MailMigration bool
}

// ByService returns the records of the set that serve s.
func (s *RecordSet) ByService(svc Service) []Record {
	var out []Record
	for _, r := range s.Records {
		if r.Service == svc {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the first record with the given role.
func (s *RecordSet) Find(role Role) (Record, bool) {
	for _, r := range s.Records {
		if r.Role == role {
			return r, true
		}
	}
	return Record{}, false
}

func rrtype(t Type) uint16 { return dnsrr.QType(t) }

func (s Service) label() string {
	switch s {
	case ServiceVerification:
		return "Domain verification"
	case ServiceMail:
		return "Exchange Online mail"
	case ServiceFederation:
		return "Teams federation"
	case ServiceSkypeLegacy:
		return "Skype for Business (legacy)"
	case ServiceMDM:
		return "Intune and device registration"
	case ServiceDKIM:
		return "DKIM mail signing"
	case ServiceDMARC:
		return "DMARC policy"
	}
	return fmt.Sprintf("Other (%s)", string(s))
}
