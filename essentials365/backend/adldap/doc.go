// Package adldap is the Active Directory driver of essentials365: it
// implements [backend.Directory] over LDAP (github.com/go-ldap/ldap/v3)
// against a Windows or Samba domain controller.
//
// [Open] connects, binds and reads the domain's naming contexts:
//
//	d, err := adldap.Open(ctx, adldap.Config{
//		URL:      "ldaps://dc1.contoso.local",
//		User:     "admin@contoso.local",
//		Password: password,
//		CAFile:   "contoso-ca.pem",
//	})
//
// Users are addressed by objectGUID ([backend.GUID], the byte order AD
// stores; [backend.GUID.ImmutableID] gives Microsoft 365's immutableId).
// [Directory.ListUsers] and [Directory.Changes] select user accounts
// (sAMAccountType SAM_NORMAL_USER_ACCOUNT) that are not critical system
// objects, which leaves out Administrator, Guest, krbtgt and Samba's
// dns-<host> account, as Entra Connect does; the GetUser methods find any
// user account, those included. New users are created in Config.UsersDN
// (default CN=Users), named after their display name (else their
// sAMAccountName); when another object of the container has that name,
// the user is named "<display name> (<sAMAccountName>)"
// ([backend.UniqueCN]) and the returned DN shows it. The online account is
// recorded in Config.MappingAttribute (default
// msDS-cloudExtensionAttribute1). Every DN and filter value is escaped
// (RFC 4514, RFC 4515), and every name and lookup holding a control
// character is refused before any I/O ([backend.CheckName]): a domain
// controller would cut the value at a NUL and find another user.
//
// Config.BaseDN must be the domain's naming context: Open refuses the
// Configuration and Schema partitions, application partitions, containers
// and unknown DNs ([ReasonBaseDN]).
//
// # Password policy
//
// [Directory.PasswordPolicy] reads the domain's policy from the domain
// object; [Directory.UserPasswordPolicy] reads the user's
// msDS-ResultantPSO and the password settings object it names (a
// fine-grained policy), else the domain's. A user's change refused under
// the minimum password age (1 day by default) names when the change
// becomes possible; an administrator's reset, or "must change at next
// logon", is not subject to it.
//
// Changes follows uSNChanged against the server's highestCommittedUSN and
// reads deleted users with the show-deleted control, in the same search:
// on a connection already used, a run costs the rootDSE and one search.
// A long run (an empty watermark on a large domain) comes in parts of a
// few pages each (More set), so it is never held in memory at once. USNs belong to one
// domain controller: point the driver at one DC; a watermark from another
// DC is refused (FailedPrecondition, [backend.ReasonWatermarkStale]).
//
// # TLS
//
// Passwords travel only over TLS: ldaps:// or ldap:// with Config.StartTLS.
// A bind over plain LDAP is refused unless Config.AllowPlaintextBind is set,
// and even then password writes are refused (FailedPrecondition, rule
// "tls-required"), since AD accepts unicodePwd over an encrypted connection
// only. The server certificate is verified against Config.CA and
// Config.CAFile, or the system roots; a certificate that fails is
// FailedPrecondition with [ReasonTLSCertificate] over LDAPS and StartTLS
// alike (never retried). Config.InsecureSkipVerify turns
// verification off; it is an escape hatch for laboratories, never a
// default.
//
// # Errors
//
// Errors are *backend.Error values whose Op is the contract's wording
// (backend.OpDirectoryXxx, the memory directory's too) and whose Reason is
// a backend.ReasonXxx constant, or one of this package's ReasonXxx for
// what only this driver decides. LDAP result codes map to kinds: 32
// NotFound; 68 AlreadyExists; 19 and 53 naming a password rule
// InvalidArgument with the rule as Reason ("password-length",
// "password-complexity", "password-contains-name", "password-history",
// "password-min-age", "old-password"); other 19 InvalidArgument; other 53
// FailedPrecondition; 50 PermissionDenied; 51, 52 and network failures
// Unavailable; 8 and 13 FailedPrecondition "tls-required"; 49
// PermissionDenied with its data sub-code decoded: 52e and 525
// "invalid-credentials", 532 "password-expired", 533 "account-disabled",
// 701 "account-expired", 773 "password-must-change", 775 "account-locked".
// A done context gives Canceled. The driver checks sAMAccountName rules
// before any I/O ("sam-required", "sam-length", "sam-characters").
//
// The driver never retries; a dead pooled connection is replaced by a new
// one on the next call, so the driver recovers by itself when the server
// restarts.
//
// # As
//
// The *ldap.Error behind an error is reachable with errors.As; a network
// failure keeps its net.Error. No other types are exposed.
//
// # Concurrency
//
// A [Directory] is safe for concurrent use by multiple goroutines. It keeps
// up to Config.MaxConns bound connections, each used by one call at a time;
// a call waits for a free connection. Every call is bounded by its context
// and Config.Timeout: when the context is done during a call, the call's
// connection is closed, which aborts the request. ListUsers and Changes
// run on connections of their own (counted in MaxConns, kept between
// calls, checked before reuse) that read entries with a small built-in
// decoder (about one allocation per user, against some 300 through
// go-ldap), so that a listing costs less client CPU than OpenLDAP's
// ldapsearch (BenchmarkEnumerate); ListUsers holds its connection while
// the caller iterates. [Directory.Authenticate] binds on a
// connection of its own.
package adldap
