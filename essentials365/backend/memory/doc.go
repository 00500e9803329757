// Package memory provides in-memory drivers for the contracts of package
// backend: an Active Directory domain ([Directory]), a Microsoft 365 tenant
// ([Tenant]) and its Exchange Online ([Exchange], from [Tenant.Exchange]:
// addresses and distribution groups in the tenant's address space). They are real, public drivers in the manner of
// gocloud.dev's memblob, not interaction mocks: they keep the services'
// rules and run the same conformance suites (package backendtest) as the
// LDAP and Microsoft Graph drivers. Users test their own programs with them.
//
// # Directory
//
// [Directory] keeps what a Windows or Samba domain controller enforces:
//
//   - Names: no control characters (NUL, CR, LF, other C0 codes, DEL) nor
//     bytes that are not UTF-8 in any name or lookup ("name-characters",
//     backend.CheckName), the same check as the LDAP driver's.
//   - sAMAccountName: required ("sam-required"), at most 20 characters
//     ("sam-length"), none of " / \ [ ] : ; | = , + * ? < > @ and not
//     ending with a period ("sam-characters"); unique regardless of case
//     (AlreadyExists).
//   - userPrincipalName: optional; name@suffix ("upn-syntax", no spaces
//     "upn-characters"); unique regardless of case.
//   - The user's DN is CN=<display name, or sAMAccountName>,CN=Users,<base>,
//     escaped as RFC 4514 says; when that CN is taken, the user is named
//     "<display name> (<sAMAccountName>)" (backend.UniqueCN); the common name
//     has at most 64 characters ("cn-length").
//   - The password policy, Windows' default domain policy unless
//     [DirectoryOptions].PasswordPolicy says otherwise, and per user a
//     fine-grained one ([Directory.SetFineGrainedPolicy]): a minimum length
//     ("password-length"); with complexity, characters of 3 kinds among
//     upper case, lower case, digits, symbols and letters without case
//     ("password-complexity") and not containing the sAMAccountName nor any
//     3+ character token of the display name split at , . - _ # tab and
//     space ("password-contains-name", Windows' rule: Samba checks it only
//     through a "check password script"). A user's change is checked in
//     AD's order: the old password ("old-password"), the minimum age, 1
//     day by default, lifted when the user must change the password at
//     next logon ("password-min-age", saying when the change becomes
//     possible), the rules above, then the history of 24 passwords
//     ("password-history"). An administrator's reset is checked against
//     neither the minimum age nor the history. A password older than the
//     maximum age (42 days by default) no longer logs on
//     ("password-expired").
//   - pwdLastSet semantics: a user who must change the password at next
//     logon has a zero PasswordLastSet; every other set or change stamps it
//     with the clock of [DirectoryOptions].Now.
//   - Change tracking like uSNChanged: every write takes the next change
//     number; deletions leave tombstones so that Changes reports them.
//
// Passwords are kept only as salted hashes and never returned.
// [Directory.Authenticate] checks one with LDAP bind semantics, so tests can
// assert that a user can (or cannot) log on.
//
// Errors are *backend.Error values with a backend.Kind, and a Reason naming
// the rule for InvalidArgument.
//
// # Seeding
//
// A Tenant is seeded at construction: [TenantOptions] takes Domains,
// SKUs (with Microsoft's published GUIDs: [SKUEnterprisePack],
// [SKUO365BusinessPremium], [SKUO365BusinessEssentials],
// [SKUBusinessPremium], [SKUExchangeStandard]) and Users with their
// licences, applied under the tenant's rules. AddVerifiedDomain, AddSKU
// and CreateUser seed imperatively as well.
//
// # Faults
//
// Every driver embeds a fault injector and a call log. FailNext(op, n, err)
// makes the next n calls of op (an [Op] constant such as [OpCreateUser],
// or [OpAny]) return err; an Op the driver does not have panics, naming
// the driver's operations, so that a misspelt fault never passes silently; AddFault installs a function consulted on every call
// until ClearFaults, to fail calls by rate, key or context. Calls returns
// the ordered log of calls (operation, key, error), CountCalls counts them
// by operation and ResetCalls empties the log. An injected fault is checked
// after the context and before any state changes, so a failed call has no
// effect.
//
// # Concurrency
//
// Every driver in this package is safe for concurrent use by multiple
// goroutines. Iterators copy one page at a time under a lock and tolerate
// writes made while they run: they see users added after their position and
// skip users deleted before they reach them.
package memory
