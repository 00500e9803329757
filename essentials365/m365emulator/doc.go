// Package m365emulator is a local Microsoft 365 emulator: an http.Handler
// that serves any [backend.Tenant] over Microsoft Graph v1.0's wire format,
// so that a real Graph client (the msgraph-sdk-go driver of this SDK, or
// plain net/http) can be tested offline, on loopback.
//
//	srv := httptest.NewServer(m365emulator.New(memory.NewTenant(nil), nil))
//	// point the Graph client's base URL at srv.URL + "/v1.0"
//
// It imports only the standard library and package backend.
//
// # Routes
//
// Under /v1.0:
//
//	GET    /users                        $select, $filter, $top, paging with $skiptoken;
//	                                     $count=true with ConsistencyLevel: eventual
//	POST   /users                        201 with the user
//	GET    /users/{id|userPrincipalName} $select
//	PATCH  /users/{id|userPrincipalName} 204
//	DELETE /users/{id|userPrincipalName} 204; the user goes to deleted items
//	POST   /users/{id}/assignLicense     200 with the user
//	GET    /users/delta()                also /users/delta and /users/microsoft.graph.delta();
//	                                     $select, $skiptoken, $deltatoken; $top ignored as Graph does
//	GET    /directory/deletedItems/microsoft.graph.user (also graph.user, the form msgraph-sdk-go sends)
//	POST   /directory/deletedItems/{id}/restore
//	GET    /subscribedSkus, /subscribedSkus/{id}    $select
//	GET    /organization, /organization/{id}        $select
//	GET    /domains, /domains/{name}                $select
//	POST   /domains                      201; needs a backend.DomainAdmin
//	DELETE /domains/{name}               204
//	GET    /domains/{name}/verificationDnsRecords
//	GET    /domains/{name}/serviceConfigurationRecords  $select
//	POST   /domains/{name}/verify        200 with availabilityStatus
//	POST   /$batch                       up to 20 requests, fully parallel or fully sequential
//
// Wherever a route has {id}, the key form users('key') is accepted too,
// and is the only form for a userPrincipalName starting with '$'
// (/users/$x@y.com is refused as Graph refuses it). The routes are one
// table (routes.go); adding an endpoint is one line and its handler.
//
// Names of query options are read in any case ($skipToken, as the Graph
// SDKs' request builders write it, is $skiptoken). $select on the
// organization, SKUs, domains and records keeps the selected properties
// (and @odata.type) and names them in @odata.context; a property the type
// lacks is 400.
//
// The $filter forms understood on users are userPrincipalName, id, mail,
// displayName and onPremisesImmutableId with eq, and startswith on
// userPrincipalName, displayName and mail. Any other filter, and any query
// option the emulator does not implement ($orderby, $search,
// $expand, ...), is answered 400 with Graph's error shape: never ignored.
//
// Without $select, users carry Graph's default property set; accountEnabled,
// mailNickname, usageLocation, assignedLicenses, lastPasswordChangeDateTime,
// onPremisesImmutableId and proxyAddresses appear only when selected.
// @odata.nextLink and @odata.deltaLink are absolute URLs built from the
// request's scheme and host, to /users/delta() or, with [Options].DeltaLinks,
// /users/microsoft.graph.delta(); "Prefer: odata.maxpagesize=n" sets the
// page size of lists and delta rounds. The delta tokens carry the tenant's opaque
// watermark; a deleted user comes as {"id":...,"@removed":{"reason":...}}
// with reason "changed" while restorable and "deleted" once purged.
//
// Request bodies with Content-Encoding: gzip are gunzipped (the Graph SDK
// compresses them by default); other encodings get 415, after which the SDK
// resends uncompressed. "@odata.type" is accepted in bodies. Any bearer
// token is accepted unless [Options].RequireAuth or [Options].Token is set.
//
// # TLS
//
// Microsoft's Graph clients follow only https paging links. Serve the
// emulator over TLS with a certificate of your own, or one from
// [NewTLSCertificate], whose authority ([TLSCertificate].CAPEM) the client
// trusts; links then use https. The package's tests run Microsoft's
// JavaScript Graph client (@microsoft/microsoft-graph-client, unmodified,
// testdata/jsclient) against the emulator so served, when Node.js is
// installed.
//
// # Errors
//
// Every error answer has Graph's shape, always with a message:
//
//	{"error":{"code":"...","message":"...","innerError":{"date":"...","request-id":"...","client-request-id":"..."}}}
//
// Backend errors map by kind: NotFound to 404 Request_ResourceNotFound;
// AlreadyExists to 400 Request_BadRequest with an ObjectConflict detail or,
// with [Options].Conflicts, the directory's generic conflict message
// without details;
// InvalidArgument and FailedPrecondition to 400 Request_BadRequest with the
// backend's message; PermissionDenied to 403 Authorization_RequestDenied;
// Throttled to 429 TooManyRequests with Retry-After; Unavailable to 503
// serviceNotAvailable; Unimplemented to 501.
//
// Emulator extension, off by default: with [Options].ReasonDetail, when the
// backend error names the rule that failed ([backend.ReasonOf]),
// error.details holds {"code":"<reason>","target":"essentials365.reason"}
// ([ReasonTarget]), for debugging. Microsoft Graph never sends this detail,
// so drivers are tested without it.
//
// # Batching
//
// POST /$batch takes Graph's {"requests":[...]} with relative URLs ("/users",
// "users/{id}/assignLicense"). More than 20 requests, duplicate ids
// (case-insensitive), unknown dependsOn, and a batch that is neither fully
// parallel (no dependsOn) nor fully sequential (each request depending on
// the one listed before it) are 400 for the whole batch, as Graph answers.
// Items run one at a time in the order listed; in a sequential batch an
// item whose predecessor failed gets 424 without running. Each answer has id,
// status, headers (with Content-Type: application/json) and body. With
// [Options].ShuffleBatch the answers come in a shuffled order.
//
// # Throttling and faults
//
// [Options].Throttling applies Graph's identity-service quotas ([Quota]);
// every answer carries x-ms-resource-unit. [Options].Faults injects 429s,
// 503s, connection resets and slow answers at a seeded rate, and
// [Server.Script] queues faults for the next requests matching a method and
// a path prefix. [Server.Stats] counts what was served.
//
// # Exchange Online
//
// With [Options].Exchange set, the emulator also serves Exchange Online's
// admin REST endpoint over that backend.Exchange (normally the memory
// tenant's, so mailboxes, groups and aliases share one address space):
//
//	POST /adminapi/beta/{tenant id or domain}/InvokeCommand
//	{"CmdletInput":{"CmdletName":"...","Parameters":{...}}}
//
// for Get-Recipient, Set-Mailbox and Set-DistributionGroup -EmailAddresses
// (#Exchange.GenericHashTable Add/Remove), Get-, New-, Set- and
// Remove-DistributionGroup, and Get-, Add- and
// Remove-DistributionGroupMember. Answers carry the envelope, annotations
// and Rate-Limit-* headers of a captured real answer; listings page with
// odata.maxpagesize and an absolute @odata.nextLink that clients re-POST
// to; errors use Exchange's shape with details[].message
// "<ExId>|<Exception.Type>|<text>" (and the same reason extension). An
// unknown parameter or cmdlet is refused, never ignored. exchange.go marks
// each shape with its source.
//
// # Concurrency
//
// A [Server] is safe for concurrent use: it keeps only counters, the fault
// script and throttling buckets, under a mutex, and relies on the tenant
// (which every backend driver makes safe for concurrent use) for data.
// Items of one $batch run sequentially.
package m365emulator
