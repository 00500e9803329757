package m365emulator

import (
	"log/slog"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Options configure a [Server]. The zero value (or a nil *Options) serves
// the tenant with no latency, no throttling, no faults and any bearer token.
type Options struct {
	// Logger receives one debug record per request and batch item; nil
	// discards.
	Logger *slog.Logger
	// Now is the clock used for throttling windows and error dates; nil
	// means time.Now.
	Now func() time.Time

	// RequireAuth makes every request carry an "Authorization: Bearer ..."
	// header; a request without one gets 401 InvalidAuthenticationToken.
	RequireAuth bool
	// Token, when set, is the only bearer token accepted (it implies
	// RequireAuth). Tokens are never validated otherwise.
	Token string

	// ReadLatency is slept before each GET is served, WriteLatency before
	// each POST, PATCH, PUT or DELETE. A fully parallel $batch sleeps
	// once, for the largest latency among its items; a sequential one
	// sleeps before each item, since each waits for the one before. Sleeps
	// end early when the request's context is done.
	ReadLatency  time.Duration
	WriteLatency time.Duration

	// PageSize is the page size of GET /users when the request has no
	// $top; 0 means 100, Graph's default.
	PageSize int

	// Throttling, when set, enforces Microsoft Graph's identity-service
	// quotas (see [Quota]); nil never throttles.
	Throttling *Quota
	// ZeroRetryAfter makes every 429 (quota, fault or backend error) carry
	// "Retry-After: 0", so that clients retry at once; for fast tests.
	ZeroRetryAfter bool

	// Faults injects failures by rate; nil injects none. Scripted faults
	// are added with [Server.Script].
	Faults *Faults
	// Seed seeds the pseudo-random source behind rate faults and batch
	// shuffling, so that a sequence of requests replays identically.
	Seed uint64

	// Conflicts chooses how a conflict (the backend's AlreadyExists) is
	// answered; the zero value is ConflictsWithDetails.
	Conflicts ConflictForm

	// ReasonDetail adds to error answers the emulator-only detail that
	// names the backend's Reason (see [ReasonTarget]). Off by default, so
	// that a driver tested against the emulator reads the errors as it
	// will read Graph's; turn it on to debug.
	ReasonDetail bool

	// RecordTypes chooses the @odata.type form of domain DNS records; the
	// zero value is ODataTypesPrefixed.
	RecordTypes ODataTypeForm

	// DeltaLinks chooses the path of the @odata.nextLink and
	// @odata.deltaLink of users/delta; the zero value is DeltaLinksPlain.
	// Clients must follow either, as opaque URLs.
	DeltaLinks DeltaLinkForm

	// ShuffleBatch returns the responses of a $batch in a shuffled order
	// (Graph promises no order), to prove that clients match them by id.
	ShuffleBatch bool

	// Mail, when set, supplies the secondary addresses listed in a user's
	// proxyAddresses (as "smtp:" entries after the primary "SMTP:" one).
	Mail backend.Mail

	// Exchange, when set, is served as Exchange Online's admin REST
	// endpoint, POST /adminapi/beta/{tenant}/InvokeCommand (see
	// exchange.go); nil answers there as a tenant without Exchange Online.
	Exchange backend.Exchange

	// Authority, when set, is the token issuer: only its tokens are
	// accepted, each route needs its application permission, and the
	// application routes (addPassword, removePassword) are served (see
	// auth.go).
	Authority *Authority

	// DNSServer ("host:port"), when set, is the DNS server POST
	// /domains/{id}/verify consults: verification succeeds only when the
	// domain's MS=ms… TXT record is visible there. Empty: the backend
	// alone decides.
	DNSServer string
}

// ConflictForm is the shape of Graph's 400 answer to a conflicting write.
// Both are documented: "Another object with the same value for property
// userPrincipalName already exists." with an ObjectConflict detail naming
// the property (microsoft-graph-docs issue 1508, microsoft-graph-docs-contrib
// issue 8421), and "A conflicting object with one or more of the specified
// property values is present in the directory." with no detail
// (https://learn.microsoft.com/graph/api/user-post-users, community
// reports of the directory's conflict answer).
type ConflictForm int

// The conflict answer forms.
const (
	// ConflictsWithDetails names the property, with an ObjectConflict
	// detail.
	ConflictsWithDetails ConflictForm = iota
	// ConflictsWithoutDetails answers the directory's generic conflict
	// message, without details.
	ConflictsWithoutDetails
)

// ODataTypeForm is the form of the @odata.type of domain DNS records.
// Graph answers "#microsoft.graph.domainDnsMxRecord"; the API reference's
// example of serviceConfigurationRecords
// (https://learn.microsoft.com/graph/api/domain-list-serviceconfigurationrecords)
// shows "microsoft.graph.domainDnsMxRecord", without the '#', which the
// Graph SDK for Go does not recognize as a subtype. Clients must read
// both (recordType names the type either way).
type ODataTypeForm int

// The @odata.type forms.
const (
	// ODataTypesPrefixed writes "#microsoft.graph.domainDns...Record".
	ODataTypesPrefixed ODataTypeForm = iota
	// ODataTypesBare writes "microsoft.graph.domainDns...Record".
	ODataTypesBare
)

// DeltaLinkForm is the path form of the links users/delta answers with.
// Graph's documents show both: "/users/delta()" in the user-delta API
// reference (https://learn.microsoft.com/graph/api/user-delta) and
// "/users/microsoft.graph.delta()", the namespace-qualified function the
// Graph SDKs' request builders address and the form found in links
// Graph returns to them (https://learn.microsoft.com/graph/delta-query-users).
type DeltaLinkForm int

// The delta link forms.
const (
	// DeltaLinksPlain writes links to /users/delta().
	DeltaLinksPlain DeltaLinkForm = iota
	// DeltaLinksQualified writes links to /users/microsoft.graph.delta().
	DeltaLinksQualified
)

func (f DeltaLinkForm) path() string {
	if f == DeltaLinksQualified {
		return "/users/microsoft.graph.delta()"
	}
	return "/users/delta()"
}
