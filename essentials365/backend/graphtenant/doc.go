// Package graphtenant is the Microsoft Graph driver of backend.Tenant: it
// manages a Microsoft 365 tenant's users, licenses and domains through
// Graph v1.0 with msgraph-sdk-go, signing in with any azcore.TokenCredential
// (azidentity's client secret, certificate, managed identity or device code
// credentials, or [StaticToken] for an emulator).
//
// A *Tenant implements backend.Tenant, backend.BatchTenant (JSON batching
// for bulk creates and license assignments) and backend.DomainAdmin. Graph
// model types never appear in its API.
//
// Only the msgraph-sdk-go packages it needs are imported (users, domains,
// subscribedskus, organization, directory, models, models/odataerrors) with
// msgraph-sdk-go-core's request adapter; the root msgraphsdk package and
// its seventy-odd request-builder packages are not, which roughly halves
// the CPU time of a cold build. The models package still takes minutes and
// several gigabytes to compile once.
//
// # Permissions
//
// Least-privileged Microsoft Graph application permissions, per operation:
//
//	Organization                      Organization.Read.All
//	ListUsers, GetUser,
//	GetUserByImmutableID, Changes     User.Read.All
//	CreateUser(s), UpdateUser,
//	DeleteUser, RestoreUser,
//	ListDeletedUsers                  User.ReadWrite.All
//	UpdateUser with a password        User.ReadWrite.All and, for the password,
//	                                  User-PasswordProfile.ReadWrite.All
//	SubscribedSKUs                    LicenseAssignment.Read.All
//	AssignLicenses(Many)              LicenseAssignment.ReadWrite.All and
//	                                  User.Read.All (the read-back)
//	Domains, VerificationRecords,
//	ServiceConfigurationRecords       Domain.Read.All
//	AddDomain, VerifyDomain,
//	DeleteDomain                      Domain.ReadWrite.All
//
// Resetting the password of an administrator also needs a directory role
// (Privileged Authentication Administrator) for the application.
//
// # Errors
//
// Every error is a *backend.Error whose Kind is read from Graph's answer:
//
//   - 404, or code Request_ResourceNotFound: NotFound.
//   - a detail ObjectConflict, a 409, a message saying the value
//     "already exists", or the directory's 400 "A conflicting object with
//     one or more of the specified property values is present in the
//     directory." (which comes without details): AlreadyExists.
//   - other 400s (Graph's Request_BadRequest): FailedPrecondition when the
//     rule is about the tenant's state (backend.ReasonNoFreeLicense,
//     backend.ReasonUsageLocationRequired,
//     backend.ReasonVerificationRecordMissing, backend.ReasonDomainInUse,
//     ...), InvalidArgument otherwise, with the rule in Reason when it is
//     recognized from Graph's message (backend.ReasonUPNDomainUnverified,
//     backend.ReasonUPNCharacters, backend.ReasonPasswordPolicy,
//     backend.ReasonUnknownSKU, ...).
//   - 401, 403: PermissionDenied.
//   - 429: Throttled, with RetryAfter from the Retry-After header (seconds
//     or an HTTP date).
//   - 503 or 504 with a Retry-After header: Throttled (Graph's way of
//     asking to slow down when it is overloaded); other 5xx: Unavailable.
//   - connection failures (refused, reset, timeouts): Unavailable.
//   - a canceled or expired context: Canceled.
//
// Graph's message "Property userPrincipalName is invalid." names no rule:
// the driver tells backend.ReasonUPNSyntax from backend.ReasonUPNCharacters
// with Microsoft 365's documented UPN rules (backend.OnlineLocalPartRule).
// The emulator of this SDK can name the rule in an error detail whose target is
// "essentials365.reason" (off by default, for debugging); when present,
// that Reason is used as is.
//
// # Batches and links
//
// JSON batches are fully parallel, as Graph requires ("a batch should be
// either fully sequential or fully parallel"; a mix is refused with 400):
// CreateUsers sends its creates in batches of 20, then reads the created
// users back in batches of 20; AssignLicensesMany does the same with
// assignLicense. @odata.nextLink and @odata.deltaLink are followed as
// opaque URLs (either /users/delta() or /users/microsoft.graph.delta()),
// once known to point at the configured service. The delta query asks its
// page size with "Prefer: odata.maxpagesize" (users/delta ignores $top).
//
// # As
//
// errors.As reaches, under the *backend.Error:
//
//   - *ResponseError: status, OData code and message, request id and
//     headers, for every answer of Graph with an error status (batch items
//     included). Its Error method is safe even when Graph's body lacks
//     error.message, unlike the SDK's.
//   - *odataerrors.ODataError (msgraph-sdk-go/models/odataerrors) when the
//     body was an OData error, else *abstractions.ApiError.
//   - the transport's error (*url.Error, net.Error, ...) for connection
//     failures.
//
// # Retries
//
// The driver never retries. Kiota's retry middleware is installed with a
// ShouldRetry that always declines, so a 429, 503 or 504 reaches the caller
// after exactly one request, as a Throttled or Unavailable error
// (backend.Retryable). The portable layer owns the one retry loop, driven
// by backend.Retryable and backend.RetryAfter. In a batch, Graph throttles
// items one by one: each 429 item comes back as its own Throttled error
// while its neighbours succeed, so callers retry only the failed items.
//
// Writes are paced, not retried: a [pacer.Limiter] keeps them under Graph's
// identity write quota (3,000 writes per 150 s per application and tenant,
// each batch item counting as one write), slows down when Graph reports
// x-ms-throttle-limit-percentage of 0.8 or more, and after a 429 halves its
// rate and holds writes until Retry-After has passed.
//
// # Compression
//
// Kiota's compression middleware, which allocates a new gzip writer (about
// 0.8 MB) for every request, is turned off; the driver gzips request bodies
// of Config.CompressMinBytes (1 KB) or more with pooled writers, and sends
// smaller ones as they are (BenchmarkRequestCompression: 816 KB against
// 2.5 KB allocated per PATCH, 830 KB against 33 KB per 20-item batch).
//
// # Concurrency
//
// A *Tenant and its *pacer.Limiter are safe for concurrent use by multiple
// goroutines. Bulk calls send up to Config.BatchConcurrency batches at once.
package graphtenant
