// Package domains links an organisation's internet domain to its Microsoft
// 365 tenant, as step 3 of the Windows Server Essentials integration did:
// add the domain, publish the verification record, verify, publish the
// service records the tenant reports, check them in live DNS, make the
// domain the default for new online IDs, and remove it when nothing uses
// it any more.
//
// A [Service] works over the tenant's domain administration
// (backend.DomainAdmin, discovered on the tenant), the dnsrecords package
// (validation, generation, SPF merge, records files, live check) and an
// optional DNS zone (backend.Zone: the rfc2136 driver for BIND and other
// RFC 2136 servers, the samba driver for a Samba DC's internal DNS, the
// memory zone for tests). With a zone the SDK can write, the records are
// written there; without one, or when the zone refuses updates, they are
// written to a NewDNSRecords_(n).txt file for the administrator to publish.
//
// Linking is plan then apply: [Service.PlanLink] reads and validates,
// [Service.ApplyLink] writes and can be run again: it completes a half-done
// link and leaves finished steps alone. Records the SDK wrote to a zone are
// listed in the result, so a failed run can be completed or undone.
//
// Verification waits on public DNS (Microsoft says it usually takes about
// an hour, and up to 72 hours); [Service.WaitVerified] polls with backoff
// and reports, on each round, what is still missing.
//
// Once a domain is verified, its DNS records must not be changed from the
// Microsoft 365 portal while this SDK manages them: the portal and the SDK
// would overwrite each other.
package domains
