package backend

import "context"

// Zone is a DNS zone the SDK reads and, where the server lets it, changes:
// the zone of a customer's domain on a name server the organisation runs
// (BIND, Knot, PowerDNS over RFC 2136, Samba's internal DNS, ...). A zone
// is a separate service: it is passed explicitly to the packages that use
// it (domains), never found on a tenant.
//
// Records handles the types of [DNSRecord] only (MX, TXT, CNAME, SRV);
// names are fully qualified without the final dot, and records come back
// in [DNSRecord.Canonical] form. A record's tenant fields (ID,
// SupportedService, Optional) are ignored.
//
// Op wording is "zone: list records", "zone: update records", "zone: check
// writable", the same in every driver.
type Zone interface {
	// Name returns the zone's apex, e.g. "contoso.com".
	Name() string
	// Records lists the records at the given owner names; with no names,
	// the whole zone (Unimplemented with [ReasonZoneTransferRefused] where
	// the server refuses zone transfers, as Samba's internal DNS does). A
	// name outside the zone is InvalidArgument ([ReasonZoneOutside]).
	Records(ctx context.Context, names ...string) ([]DNSRecord, error)
	// Update removes the records of remove and adds those of add, as one
	// change where the server allows it (RFC 2136 applies a message
	// atomically). Removing a record that is absent and adding one that is
	// present are no-ops, so an update can be replayed. A TTL of 0 is
	// written as 3600. A record outside the zone is InvalidArgument
	// ([ReasonZoneOutside]); a CNAME beside other data at the same name is
	// FailedPrecondition ([ReasonZoneCNAMEConflict]); a server that refuses
	// the change is PermissionDenied ([ReasonZoneRefused]) or, when it does
	// not host the zone, FailedPrecondition ([ReasonZoneNotAuthoritative]).
	Update(ctx context.Context, remove, add []DNSRecord) error
	// Writable returns nil when Update can change the zone, and the error
	// Update would return otherwise. Drivers may check by writing and
	// removing a probe record of their own.
	Writable(ctx context.Context) error
}

// The reasons of the Zone contract, shared by every zone driver.
const (
	// ReasonZoneOutside (InvalidArgument): a record's name is not in the
	// zone.
	ReasonZoneOutside Reason = "zone-outside"
	// ReasonZoneCNAMEConflict (FailedPrecondition): a CNAME cannot share
	// its name with other data (RFC 1034 §3.6.2).
	ReasonZoneCNAMEConflict Reason = "zone-cname-conflict"
	// ReasonZoneRefused (PermissionDenied): the server refused the update
	// (no key, wrong key, or a policy that does not allow the name).
	ReasonZoneRefused Reason = "zone-refused"
	// ReasonZoneNotAuthoritative (FailedPrecondition): the server does not
	// host the zone.
	ReasonZoneNotAuthoritative Reason = "zone-not-authoritative"
	// ReasonZoneTransferRefused (Unimplemented): listing the whole zone
	// needs a zone transfer the server refuses; list names instead.
	ReasonZoneTransferRefused Reason = "zone-transfer-refused"
	// ReasonZoneReadOnly (PermissionDenied): the zone was opened read-only.
	ReasonZoneReadOnly Reason = "zone-read-only"
)

// ZoneContains reports whether name is the zone's apex or below it.
func ZoneContains(zone, name string) bool {
	zone, name = CanonicalDNSName(zone), CanonicalDNSName(name)
	return name == zone || len(name) > len(zone) && name[len(name)-len(zone)-1:] == "."+zone
}
