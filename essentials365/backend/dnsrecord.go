package backend

import (
	"fmt"
	"strings"
)

// DNSType is a DNS record type the SDK reads and writes: the types
// Microsoft 365 asks a custom domain to publish.
type DNSType string

// The record types.
const (
	DNSTypeMX    DNSType = "MX"
	DNSTypeTXT   DNSType = "TXT"
	DNSTypeCNAME DNSType = "CNAME"
	DNSTypeSRV   DNSType = "SRV"
)

// ParseDNSType reads a record type in any case and in Graph's spelling
// ("Mx", "Txt", "CName", "Srv") as well as the usual one ("MX", ...).
func ParseDNSType(s string) (DNSType, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "MX":
		return DNSTypeMX, true
	case "TXT":
		return DNSTypeTXT, true
	case "CNAME":
		return DNSTypeCNAME, true
	case "SRV":
		return DNSTypeSRV, true
	}
	return "", false
}

// GraphName returns the type as Microsoft Graph spells it in a
// domainDnsRecord's recordType: "Mx", "Txt", "CName", "Srv".
func (t DNSType) GraphName() string {
	switch t {
	case DNSTypeMX:
		return "Mx"
	case DNSTypeTXT:
		return "Txt"
	case DNSTypeCNAME:
		return "CName"
	case DNSTypeSRV:
		return "Srv"
	}
	return string(t)
}

// DNSRecord is one DNS record, the one record type shared by the tenant's
// domain administration ([DomainAdmin]), the dnsrecords and domains
// packages and the DNS-zone drivers ([Zone]). Only the value fields of its
// Type are set: Preference and Exchange for MX, Text for TXT, Target for
// CNAME, and Priority, Weight, Port and Target for SRV.
//
// Names are fully qualified, without the final dot. The tenant fields (ID,
// SupportedService, Optional) are set on records a tenant reports and are
// ignored by zones and by [DNSRecord.Same].
type DNSRecord struct {
	// Name is the owner name (autodiscover.contoso.com,
	// _sip._tls.contoso.com).
	Name string
	Type DNSType
	// TTL in seconds; 0 lets the writer choose (3600 for Microsoft 365's
	// records).
	TTL uint32

	Preference uint16 // MX
	Exchange   string // MX
	Text       string // TXT, unsplit and unescaped
	Target     string // CNAME and SRV
	Priority   uint16 // SRV
	Weight     uint16 // SRV
	Port       uint16 // SRV

	// ID is the tenant's id of the record (Graph's domainDnsRecord id).
	ID string
	// SupportedService is Graph's service name: "Email",
	// "OfficeCommunicationsOnline", "Intune", or empty for verification.
	SupportedService string
	// Optional reports that the tenant marks the record optional.
	Optional bool
}

// Value returns the record's main value: the exchange, text or target.
func (r DNSRecord) Value() string {
	switch r.Type {
	case DNSTypeMX:
		return r.Exchange
	case DNSTypeTXT:
		return r.Text
	}
	return r.Target
}

// Canonical returns r with its names in lower case and without final dots,
// the form in which records are compared and stored.
func (r DNSRecord) Canonical() DNSRecord {
	r.Name = CanonicalDNSName(r.Name)
	r.Exchange = CanonicalDNSName(r.Exchange)
	r.Target = CanonicalDNSName(r.Target)
	return r
}

// Same reports whether r and o are the same record: the same owner, type
// and data, names compared without case or final dot. TTLs and the tenant
// fields are not compared.
func (r DNSRecord) Same(o DNSRecord) bool {
	a, b := r.Canonical(), o.Canonical()
	if a.Name != b.Name || a.Type != b.Type {
		return false
	}
	switch a.Type {
	case DNSTypeMX:
		return a.Preference == b.Preference && a.Exchange == b.Exchange
	case DNSTypeTXT:
		return a.Text == b.Text
	case DNSTypeCNAME:
		return a.Target == b.Target
	case DNSTypeSRV:
		return a.Priority == b.Priority && a.Weight == b.Weight && a.Port == b.Port && a.Target == b.Target
	}
	return false
}

// String renders r in zone-file presentation, e.g.
// `contoso.com. 3600 IN MX 0 contoso-com.mail.protection.outlook.com.`.
func (r DNSRecord) String() string {
	head := fmt.Sprintf("%s. %d IN %s ", strings.TrimSuffix(r.Name, "."), r.TTL, r.Type)
	switch r.Type {
	case DNSTypeMX:
		return head + fmt.Sprintf("%d %s.", r.Preference, strings.TrimSuffix(r.Exchange, "."))
	case DNSTypeTXT:
		return head + fmt.Sprintf("%q", r.Text)
	case DNSTypeSRV:
		return head + fmt.Sprintf("%d %d %d %s.", r.Priority, r.Weight, r.Port, strings.TrimSuffix(r.Target, "."))
	}
	return head + strings.TrimSuffix(r.Target, ".") + "."
}

// SRVParts splits an SRV owner name into Graph's service and protocol and
// the name below them: "_sip._tls.contoso.com" gives "_sip", "_tls",
// "contoso.com". ok is false when the name does not start with two
// underscore labels.
func (r DNSRecord) SRVParts() (service, protocol, base string, ok bool) {
	labels := strings.SplitN(CanonicalDNSName(r.Name), ".", 3)
	if len(labels) < 3 || !strings.HasPrefix(labels[0], "_") || !strings.HasPrefix(labels[1], "_") {
		return "", "", "", false
	}
	return labels[0], labels[1], labels[2], true
}

// CanonicalDNSName returns name in lower case, trimmed, without the final
// dot.
func CanonicalDNSName(name string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
}

// Values Microsoft documents for every tenant of the worldwide cloud, the
// one catalogue of Microsoft 365's DNS records ("External Domain Name
// System records for Office 365" and "Add DNS records to connect your
// domain"). The dnsrecords package and the memory tenant both build their
// records from these.
const (
	M365AutodiscoverTarget = "autodiscover.outlook.com"
	M365OWATarget          = "mail.office365.com"
	M365SIPFedTarget       = "sipfed.online.lync.com"
	M365SIPDirTarget       = "sipdir.online.lync.com"
	M365WebDirTarget       = "webdir.online.lync.com"
	M365EnrollmentTarget   = "enterpriseenrollment-s.manage.microsoft.com"
	M365RegistrationTarget = "enterpriseregistration.windows.net"
	M365SPFInclude         = "spf.protection.outlook.com"
	M365MXSuffix           = "mail.protection.outlook.com"
	// M365VerificationSuffix is the suffix of the verification MX's
	// exchange (ms12345678.msv1.invalid).
	M365VerificationSuffix = "msv1.invalid"
	// M365VerificationMXPreference is the verification MX's preference.
	M365VerificationMXPreference = 32767
	// M365TTL is the TTL Microsoft gives every record: one hour.
	M365TTL = 3600
)

// Graph's supportedService values.
const (
	M365ServiceEmail         = "Email"
	M365ServiceCommunication = "OfficeCommunicationsOnline"
	M365ServiceIntune        = "Intune"
)

// M365VerificationRecords returns the two records that prove ownership of
// domain for the verification value text ("MS=ms12345678"): the TXT, and
// the equivalent MX Graph also lists.
func M365VerificationRecords(domain, text string) []DNSRecord {
	domain = CanonicalDNSName(domain)
	token := strings.TrimPrefix(strings.TrimPrefix(text, "MS="), "ms=")
	return []DNSRecord{
		{Name: domain, Type: DNSTypeTXT, TTL: M365TTL, Text: text},
		{Name: domain, Type: DNSTypeMX, TTL: M365TTL, Preference: M365VerificationMXPreference,
			Exchange: token + "." + M365VerificationSuffix, Optional: true},
	}
}

// M365MailRecords returns the Exchange Online records of domain: the MX to
// mailExchange (the host the tenant gives), the SPF TXT and the
// autodiscover CNAME.
func M365MailRecords(domain, mailExchange string) []DNSRecord {
	domain = CanonicalDNSName(domain)
	return []DNSRecord{
		{Name: domain, Type: DNSTypeMX, TTL: M365TTL, Exchange: CanonicalDNSName(mailExchange), SupportedService: M365ServiceEmail},
		{Name: domain, Type: DNSTypeTXT, TTL: M365TTL, Text: "v=spf1 include:" + M365SPFInclude + " -all", SupportedService: M365ServiceEmail},
		{Name: "autodiscover." + domain, Type: DNSTypeCNAME, TTL: M365TTL, Target: M365AutodiscoverTarget, SupportedService: M365ServiceEmail},
	}
}

// M365FederationRecords returns the Teams federation SRV record of domain.
func M365FederationRecords(domain string) []DNSRecord {
	domain = CanonicalDNSName(domain)
	return []DNSRecord{
		{Name: "_sipfederationtls._tcp." + domain, Type: DNSTypeSRV, TTL: M365TTL, Priority: 100, Weight: 1, Port: 5061,
			Target: M365SIPFedTarget, SupportedService: M365ServiceCommunication},
	}
}

// M365SkypeRecords returns the legacy Skype for Business client records of
// domain (optional since Skype for Business Online retired).
func M365SkypeRecords(domain string) []DNSRecord {
	domain = CanonicalDNSName(domain)
	return []DNSRecord{
		{Name: "_sip._tls." + domain, Type: DNSTypeSRV, TTL: M365TTL, Priority: 100, Weight: 1, Port: 443,
			Target: M365SIPDirTarget, SupportedService: M365ServiceCommunication, Optional: true},
		{Name: "sip." + domain, Type: DNSTypeCNAME, TTL: M365TTL, Target: M365SIPDirTarget,
			SupportedService: M365ServiceCommunication, Optional: true},
		{Name: "lyncdiscover." + domain, Type: DNSTypeCNAME, TTL: M365TTL, Target: M365WebDirTarget,
			SupportedService: M365ServiceCommunication, Optional: true},
	}
}

// M365MDMRecords returns the Intune enrollment and Entra device
// registration CNAMEs of domain.
func M365MDMRecords(domain string) []DNSRecord {
	domain = CanonicalDNSName(domain)
	return []DNSRecord{
		{Name: "enterpriseregistration." + domain, Type: DNSTypeCNAME, TTL: M365TTL, Target: M365RegistrationTarget, SupportedService: M365ServiceIntune},
		{Name: "enterpriseenrollment." + domain, Type: DNSTypeCNAME, TTL: M365TTL, Target: M365EnrollmentTarget, SupportedService: M365ServiceIntune},
	}
}

// The reasons of record conversions, shared by every package that reads
// records.
const (
	// ReasonDNSRecordType (InvalidArgument): a record type other than MX,
	// TXT, CNAME and SRV.
	ReasonDNSRecordType Reason = "record-type"
	// ReasonDNSRecordValue (InvalidArgument): a record value that is
	// missing, negative or out of range.
	ReasonDNSRecordValue Reason = "record-value"
)

// GraphDNSRecord is Microsoft Graph's domainDnsRecord as JSON, with the
// fields of its subtypes domainDnsMxRecord, domainDnsTxtRecord,
// domainDnsCnameRecord and domainDnsSrvRecord ("domainDnsRecord resource
// type", Graph v1.0). The records of GET /domains/{id}/verificationDnsRecords
// and serviceConfigurationRecords decode straight into it; convert with
// [GraphDNSRecord.DNSRecord] and [NewGraphDNSRecord].
type GraphDNSRecord struct {
	ODataType        string `json:"@odata.type,omitempty"`
	ID               string `json:"id,omitempty"`
	IsOptional       bool   `json:"isOptional"`
	Label            string `json:"label"`
	RecordType       string `json:"recordType"`
	SupportedService string `json:"supportedService"`
	TTL              int64  `json:"ttl"`

	MailExchange string `json:"mailExchange,omitempty"`
	Preference   *int64 `json:"preference,omitempty"`

	Text string `json:"text,omitempty"`

	CanonicalName string `json:"canonicalName,omitempty"`

	NameTarget string `json:"nameTarget,omitempty"`
	Port       *int64 `json:"port,omitempty"`
	Priority   *int64 `json:"priority,omitempty"`
	Protocol   string `json:"protocol,omitempty"`
	Service    string `json:"service,omitempty"`
	Weight     *int64 `json:"weight,omitempty"`
}

// graphODataTypes maps a record type to its @odata.type.
var graphODataTypes = map[DNSType]string{
	DNSTypeMX:    "#microsoft.graph.domainDnsMxRecord",
	DNSTypeTXT:   "#microsoft.graph.domainDnsTxtRecord",
	DNSTypeCNAME: "#microsoft.graph.domainDnsCnameRecord",
	DNSTypeSRV:   "#microsoft.graph.domainDnsSrvRecord",
}

// recordType returns g's type from recordType, or from @odata.type (with or
// without its leading '#', as Graph's examples vary) when recordType is
// empty.
func (g GraphDNSRecord) recordType() (DNSType, bool) {
	if t, ok := ParseDNSType(g.RecordType); ok {
		return t, true
	}
	if g.RecordType != "" {
		return "", false
	}
	ot := strings.TrimPrefix(g.ODataType, "#")
	for t, o := range graphODataTypes {
		if strings.EqualFold(ot, strings.TrimPrefix(o, "#")) {
			return t, true
		}
	}
	return "", false
}

// DNSRecord converts g. An SRV record whose label is the domain gets its
// service and protocol prepended (Graph lists SRV records either way). A
// type other than Mx, Txt, CName and Srv is InvalidArgument
// ([ReasonDNSRecordType]); a negative TTL or a number outside 0-65535,
// [ReasonDNSRecordValue].
func (g GraphDNSRecord) DNSRecord() (DNSRecord, error) {
	const op = "backend: convert graph record"
	t, ok := g.recordType()
	if !ok {
		return DNSRecord{}, Invalid(op, g.Label, ReasonDNSRecordType, "record type %q is not one of Mx, Txt, CName, Srv", g.RecordType)
	}
	if g.TTL < 0 || g.TTL > 1<<31-1 {
		return DNSRecord{}, Invalid(op, g.Label, ReasonDNSRecordValue, "the TTL %d is outside 0-2147483647", g.TTL)
	}
	r := DNSRecord{Name: CanonicalDNSName(g.Label), Type: t, TTL: uint32(g.TTL), ID: g.ID,
		SupportedService: g.SupportedService, Optional: g.IsOptional}
	var err error
	u16 := func(what string, p *int64) uint16 {
		if p == nil || err != nil {
			return 0
		}
		if *p < 0 || *p > 65535 {
			err = Invalid(op, g.Label, ReasonDNSRecordValue, "the %s %d is outside 0-65535", what, *p)
			return 0
		}
		return uint16(*p)
	}
	switch t {
	case DNSTypeMX:
		r.Exchange, r.Preference = CanonicalDNSName(g.MailExchange), u16("preference", g.Preference)
	case DNSTypeTXT:
		r.Text = g.Text
	case DNSTypeCNAME:
		r.Target = CanonicalDNSName(g.CanonicalName)
	case DNSTypeSRV:
		r.Target = CanonicalDNSName(g.NameTarget)
		r.Priority, r.Weight, r.Port = u16("priority", g.Priority), u16("weight", g.Weight), u16("port", g.Port)
		prefix := strings.ToLower(strings.Trim(g.Service, ".") + "." + strings.Trim(g.Protocol, "."))
		if g.Service != "" && g.Protocol != "" && !strings.HasPrefix(r.Name, prefix+".") {
			r.Name = prefix + "." + r.Name
		}
	}
	if err != nil {
		return DNSRecord{}, err
	}
	return r, nil
}

// NewGraphDNSRecord converts r to Graph's shape, with its @odata.type. An
// SRV record keeps its full owner name as label and also names its service
// and protocol.
func NewGraphDNSRecord(r DNSRecord) GraphDNSRecord {
	g := GraphDNSRecord{ODataType: graphODataTypes[r.Type], ID: r.ID, IsOptional: r.Optional, Label: r.Name,
		RecordType: r.Type.GraphName(), SupportedService: r.SupportedService, TTL: int64(r.TTL)}
	n := func(v uint16) *int64 { x := int64(v); return &x }
	switch r.Type {
	case DNSTypeMX:
		g.MailExchange, g.Preference = r.Exchange, n(r.Preference)
	case DNSTypeTXT:
		g.Text = r.Text
	case DNSTypeCNAME:
		g.CanonicalName = r.Target
	case DNSTypeSRV:
		g.NameTarget = r.Target
		g.Priority, g.Weight, g.Port = n(r.Priority), n(r.Weight), n(r.Port)
		g.Service, g.Protocol, _, _ = r.SRVParts()
	}
	return g
}
