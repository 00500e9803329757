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
//   - disable, enable, delete and restore following to the cloud
//     (Disable, Enable, Delete, Restore), and a reconcile for changes made
//     directly in Active Directory (PlanReconcile, ApplyReconcile, or
//     Reconcile for both), stopped by guards before mass changes;
//   - password sync on every change made through the SDK (SetPassword,
//     ChangePassword), never losing an update the cloud did not take
//     (PendingPasswords, RetryPendingPasswords, DiscardPendingPassword);
//   - licenses and services (Licenses, SetLicenses) and extra email
//     addresses (Aliases, AddAlias, RemoveAlias).
//
// Everything goes through one Service built by New with explicit
// dependencies: a backend.Directory, a backend.Tenant, and Options.
// Wherever a call takes a user, name it by sAMAccountName (without the
// domain: not DOMAIN\name), by userPrincipalName (with "@"), by the online
// ID of its online account (tried when no user has that UPN), or by
// objectGUID. LookupByOnlineID finds a user from its online account;
// AssignableOnlineAccounts lists the accounts Assign can give.
//
// # Mapping and ownership
//
// A user's online account is recorded in the user's mapping attribute in
// Active Directory (see Mapping), so the mapping lives with the user; the
// online account's onPremisesImmutableId (its anchor) holds the base64 of
// the user's objectGUID, as Entra Connect sets it.
//
// The SDK changes or deletes only online accounts it provably manages:
//
//   - an account recorded in the mapping attribute of a user of this
//     directory, and carrying that user's anchor; or
//   - an account carrying the anchor of a user of this directory and
//     recorded as managed in the local state when the SDK linked it (the
//     record outlives the user, so the account of a deleted user can be
//     told from one of another directory).
//
// An account anchored to a user this directory does not have (synced from
// another forest, made by another tool) is never changed or deleted by a
// reconcile: it is reported as a ReconcileNotice, and PlanImport keeps
// listing it (flagged ReasonOnlineLinked). An account anchored to a user
// of this directory but never linked through the SDK is left alone too.
//
// # Guards
//
// A reconcile is planned (PlanReconcile writes nothing) and then applied
// (ApplyReconcile checks the guards again, re-reads each account before
// changing it, through the tenant's delta query, and refuses a plan another run overtook, ReasonPlanStale).
// The guards are on by default (Options.Guards); each stops the run before
// any write, with a FailedPrecondition error that says what would have
// happened and which option lets it through:
//
//   - deletions (ReasonDeletionGuard) and disables (ReasonDisableGuard):
//     a run may change at most min(Max, max(1, Percent% of the managed
//     accounts)) of each; the defaults are Max 10 and Percent 10, so a
//     40-user company may lose 4 accounts in a run, a 500-user one 10.
//     Pass ReconcileOptions.AllowDeletions or AllowDisables after review.
//   - a full run whose directory lists no users, or fewer than
//     MinDirectoryPercent (default 50) of the managed accounts' users
//     (ReasonDirectorySuspicious: a base DN on the Configuration
//     partition, a filter, a permission). Pass AcceptDirectory after
//     review.
//   - a first run (no saved watermark: a new store, a MemoryStore after a
//     restart, ResetReconcile) is a full run that never deletes: its
//     deletions are held back and reported (ReconcileReport.HeldDeletions)
//     unless AllowFirstRunDeletions.
//
// No reconcile removes a licence (a disabled user keeps its licence and
// data); licences are removed one user at a time (Unassign, SetLicenses).
//
// # Cost of a reconcile
//
// A reconcile costs what changed, not the size of the tenant. The Service
// keeps a compact index of the tenant's online accounts (object id →
// userPrincipalName, anchor, sign-in; about 230 bytes an account), fed by
// the tenant's delta query (backend.Tenant.Changes, Graph's users/delta):
//
//   - a full run, and the first run of a Service (a new process), read the
//     whole tenant once, as a full delta round at Graph's largest page
//     (999 where the tenant takes a page size, backend.PagedChanges; give
//     the Graph driver Config.PageSize 999);
//   - an incremental run reads the directory's changes and the tenant's
//     changes since the last run: with nothing else changed, one delta
//     request in PlanReconcile, and one in ApplyReconcile to re-read the
//     accounts it changes before changing them (none when there is nothing
//     to change), then one request per write. There is no listing of the
//     tenant and no read per account;
//   - a delta token the tenant no longer accepts (Graph keeps them for a
//     limited time) costs one full round; a tenant without a delta query
//     (Unimplemented) is listed on every run and each account re-read
//     before it is changed.
//
// The index lives in the Service, not in the local state: it is a copy of
// the tenant, never a source of decisions on its own, and is rebuilt when
// in doubt. Reconciles of one Service run one at a time.
//
// # Local state
//
// Local state sits in a state.Store under keys "accounts/...": the
// directory watermark, the managed records, each user's last password sync
// and password update version, CreateUser's intents, and the pending
// password updates. Use state.NewFileStore for a directory the caller
// gives: it takes an exclusive lock (a second process gets
// state.ReasonStoreLocked), refuses a directory others can write, writes
// atomically and checksums every entry. Nothing resets silently: an empty
// or corrupt watermark or record is an error (ReasonStateCorrupt), never a
// first run; ResetReconcile forgets the watermark on purpose.
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
// Each update is kept pending before it is pushed (so a process killed
// mid-push loses nothing) and dropped once the cloud has it; when the cloud
// fails it stays: sealed with the Options.Sealer (AES-GCM) and bound, as
// additional data, to the user, the online account and a per-user version, so a value replayed from an older
// update or moved from another user does not open and is never pushed.
// Updates of one user are serialized, and an entry is deleted only if it
// is still the one that was pushed. PendingPasswords lists each entry with
// its age, attempts, last error and any problem; DiscardPendingPassword
// drops one; Status agrees with both. An entry that cannot be read (wrong
// key, corrupt, replayed) or a push that retrying cannot fix (the account
// was deleted, a permission is missing) is an error returned to the caller
// (ReasonPendingUnreadable, ReasonPendingStuck) and counted in the
// reconcile report, never only logged.
//
// # Flows that finish
//
// Every multi-step flow writes its commit marker last, so "done" means
// every step happened: ApplyBulkCreate and Assign create (or adopt) the
// online account, license it, make its sign-in follow the user's enabled
// state, set "must change password at next logon", record the account as
// managed and only then write the mapping. Running the same call again
// after an interruption (an error, a canceled context, a killed process)
// completes what is missing and creates nothing twice: an account left by
// an interrupted run carries the user's anchor and is adopted; PlanBulkCreate
// and PlanImport propose interrupted items again (Interrupted; an
// interrupted import gets a new temporary password and its file); a
// CreateUser interrupted after the network user was created marks it
// MappingCreating and the same CreateUser finishes it.
//
// # Seed rules
//
// A disabled user's online account is created (or adopted) with sign-in
// blocked. Every online account uses a licence: creating one without a
// licence needs NoLicense (ReasonLicenseChoiceRequired otherwise), and
// BulkPlan.Warnings say so, as they say when seats are short. Results and
// password directories are created with mode 0700 when missing, and checked
// (a directory, writable, and for passwords not writable by others) before
// any change. Restore brings a deleted online account back within 30 days
// and links it to its user, or to another one.
//
// PlanBulkCreate flags a user that probably has an online account already
// under another online ID (ReasonProbableDuplicate; unselected, with
// PlanItem.Candidates) so the administrator can assign that account
// instead. Only accounts that no user of this directory has (no anchor, no
// mapping) are candidates; the rules, case-insensitive, are:
//
//  1. an address of the user (its UPN, its mail) is the account's UPN or
//     mail;
//  2. the account's mailNickname, or the name before the @ of its UPN or
//     mail, is the user's sAMAccountName;
//  3. the account's display name is the user's display name, or its
//     "given surname" (either order);
//  4. the name before the @ of the account's UPN or mail is the user's
//     given name and surname joined by ".", "_", "-" or nothing.
//
// # Audit
//
// Every write to either side and to the local state is reported once,
// after it was attempted, as an audit.Event to Options.Audit and as a slog
// record at info level ("audit") on Options.Logger. The schema
// (audit.Version 1), stable and safe to persist as JSON:
//
//	version   1
//	time      when the write ended (Options.Now)
//	package   "accounts"
//	op        one of the Audit* constants (create-online, block-sign-in,
//	          delete-online, restore-online, assign-licenses,
//	          remove-licenses, push-password, set-mapping, ...)
//	side      "directory", "tenant" or "local"
//	user      the sAMAccountName concerned
//	onlineId  the online ID concerned
//	target    a licence SKU list, when the op concerns one
//	outcome   "succeeded", "failed", or "deferred" (a password kept pending)
//	kind, reason, error   the failure, when it failed
//	detail    op-specific facts (e.g. signIn=false)
//
// An event never holds a secret: no password, no sealed value.
//
// # Errors
//
// Errors are *backend.Error values: use errors.Is with backend.ErrNotFound,
// backend.ErrInvalidArgument, ... and backend.ReasonOf for the rule that
// failed (the Reason constants of this package, each documented with its
// kind, or the driver's). The driver's own error stays reachable through
// errors.As, as does a *LicenseShortfall for ReasonNoFreeLicense.
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
// per item through a callback and stop at the first check of a canceled
// context; running one again completes what was left without doing
// anything twice.
package accounts
