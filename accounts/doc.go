// Package accounts manages on-premises Active Directory users and their
// Microsoft 365 online accounts together, through their whole life, as
// Windows Server Essentials' Office 365 integration did:
//
//   - bulk-create online accounts for existing users (PlanBulkCreate, then
//     ApplyBulkCreate), with a results file for what failed;
//   - import users from existing online accounts (PlanImport, ApplyImport),
//     with temporary passwords in per-user files;
//   - create a user with a new or existing online account (CreateUser),
//     assign one to an existing user (Assign) and unassign it (Unassign:
//     the license is freed, the mapping kept);
//   - the account's state (Status, ListStatus): active, inactive, and
//     "password sync broken" when the password was changed in the cloud;
//   - disable, enable and delete following to the cloud (Disable, Enable,
//     Delete), and Reconcile for changes made directly in Active Directory,
//     with a deletion safety threshold;
//   - password sync on every change made through the SDK (SetPassword,
//     ChangePassword), never losing an update the cloud did not take;
//   - licenses and services (Licenses, SetLicenses) and extra email
//     addresses (Aliases, AddAlias, RemoveAlias).
//
// Everything goes through one Service built by New with explicit
// dependencies: a backend.Directory, a backend.Tenant, and Options.
//
// # Mapping
//
// A user's online account is recorded in the user's mapping attribute in
// Active Directory (see Mapping), so the mapping lives with the user; the
// online account's onPremisesImmutableId holds the base64 of the user's
// objectGUID, as Entra Connect sets it. Local state (change watermarks, the
// time of each user's last password sync, pending password updates) sits in
// a state.Store: state.NewFileStore for a directory the caller gives (atomic writes),
// state.NewMemoryStore for tests.
//
// # Password synchronization
//
// The SDK syncs the passwords it sets: SetPassword and ChangePassword change
// the network password and then the online one. A password a user changes
// directly on a domain-joined computer does not pass through the SDK (it
// cannot read passwords back from Active Directory); new online accounts are
// therefore created with a random password and the user is asked to change
// the network password at next logon, through a program that calls
// ChangePassword (a self-service page, a helpdesk tool). When the online
// password was changed after the last sync (in the Microsoft 365 portal),
// Status reports PasswordSyncBroken with PasswordSyncAdvice.
//
// # Errors
//
// Errors are *backend.Error values: use errors.Is with backend.ErrNotFound,
// backend.ErrInvalidArgument, ... and backend.ReasonOf for the rule that
// failed (the Rule constants of this package, or the driver's). The
// driver's own error stays reachable through errors.As.
//
// # Retries
//
// Service is the SDK's one retry layer: throttled and unavailable calls are
// retried with backoff, honouring the service's Retry-After, within
// Options.Retry; drivers never retry. A retried create that finds the
// account already there checks the account's immutableId, so nothing is
// created twice.
//
// # Concurrency
//
// A Service is safe for concurrent use. Bulk operations report progress
// through a callback and stop at the first check of a canceled context;
// running one again completes what was left without doing anything twice.
package accounts
