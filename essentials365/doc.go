// Package essentials365 is the entry point of the SDK: the Office 365
// integration of an on-premises Active Directory domain, through its whole
// lifecycle, as Windows Server Essentials' "Office 365 integration" was.
//
// An [Integration] is opened from explicit parts: a backend.Directory, a
// backend.Tenant, and [Options] (Exchange, the state store and its sealer,
// a logger, the clock, the retry policy, an audit hook). It hands out the
// feature services built over the same drivers, retry policy, state and
// audit hook ([Integration.Accounts]), and runs the lifecycle:
//
//   - [Integration.Check]: the requirements check, a [Report] with one
//     entry per check (pass, warn, fail, skipped), what was found and what
//     to do: one domain controller and the program talks to it, the mapping
//     attribute exists and can be written, the tenant is reachable (with the
//     sign-in failure told apart: network, wrong or expired secret, unknown
//     application or tenant, temporary unavailability), the Graph
//     application permissions each feature needs, no directory
//     synchronization (Entra Connect) on the tenant and no other directory
//     managing it, an enabled subscription, Exchange Online, the clocks.
//   - [Integration.Integrate]: checks, refuses on a failure (with the
//     report, nothing changed), records the integration in the state
//     store, and proposes the import of existing online accounts.
//     Integrating again is harmless; it is also how a disabled integration
//     is enabled again.
//   - [Integration.ChangeCredential] and [Integration.RotateSecret]: a new
//     credential is validated against the same tenant and the required
//     permissions before it replaces the old one.
//   - [Integration.Disable]: works with the tenant unreachable (no network
//     call), leaves the cloud exactly as it is, keeps the mappings in
//     Active Directory, and discards the pending password updates.
//   - [Integration.Status]: the Essentials "Office 365" page as data.
//
// # The gate
//
// The feature services handed out by an Integration reach the directory,
// the tenant and Exchange through a gate: unless the integration is
// integrated, every write through them returns a FailedPrecondition error
// with reason [ReasonNotIntegrated] or [ReasonIntegrationDisabled] before
// it reaches either side, so nothing is half-done (a network password is
// not changed when its online twin cannot be). Reads still work. The gate
// reads the integration record at every write, so a Disable made by
// another process sharing the state store takes effect at once; a record
// that cannot be read refuses the write. To manage
// Active Directory users while the integration is disabled, use the
// directory driver itself.
//
// # State
//
// The integration record lives in the state store under the key prefix
// "essentials365/": tenant id and name, initial and default domains,
// client id, when, the state and since when, the last requirements
// warnings and the last reconcile's outcome. A credential secret is stored
// only when the caller asks for it, sealed with the store's Sealer; it is
// never logged.
package essentials365
