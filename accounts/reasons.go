package accounts

import (
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/state"
)

// Reasons of the safety rules: the guards, the local state and the flows
// that must finish. Each names the kind of error it comes with.
const (
	// ReasonDeletionGuard (FailedPrecondition): a reconcile would delete
	// more online accounts than Options.Guards.Deletions allows; nothing
	// was changed. Review with PlanReconcile, then pass
	// ReconcileOptions.AllowDeletions.
	ReasonDeletionGuard backend.Reason = "deletion-guard"
	// ReasonDisableGuard (FailedPrecondition): a reconcile would block the
	// sign-in of more online accounts than Options.Guards.Disables allows;
	// nothing was changed. Review, then pass ReconcileOptions.AllowDisables.
	ReasonDisableGuard backend.Reason = "disable-guard"
	// ReasonDirectorySuspicious (FailedPrecondition): a full reconcile
	// listed no users, or far fewer than the online accounts the SDK
	// manages (a base DN on the wrong partition, a filter, a permission);
	// nothing was changed. Check the directory connection, or pass
	// ReconcileOptions.AcceptDirectory when the listing is right.
	ReasonDirectorySuspicious backend.Reason = "directory-suspicious"
	// ReasonStateCorrupt (FailedPrecondition): an entry of the local state
	// (watermark, managed record, password version) is empty or cannot be
	// decoded; nothing was changed.
	ReasonStateCorrupt = state.ReasonStateCorrupt
	// ReasonPlanStale (FailedPrecondition): the state moved since the plan
	// was made (another run applied first); plan again.
	ReasonPlanStale backend.Reason = "plan-stale"
	// ReasonPendingUnreadable (FailedPrecondition): a pending password
	// update cannot be opened (wrong sealing key, corrupt entry, or a sealed
	// value replayed or moved from another user or version); it was not
	// pushed. Inspect it with PendingPasswords and drop it with
	// DiscardPendingPassword, then set the password again.
	ReasonPendingUnreadable backend.Reason = "pending-unreadable"
	// ReasonPendingStuck (same kind as the cloud's error, e.g. NotFound or
	// PermissionDenied): a pending password update failed with an error
	// that retrying will not fix (the online account was deleted, the
	// credential lacks a permission); it stays pending until fixed or
	// discarded.
	ReasonPendingStuck backend.Reason = "pending-stuck"
	// ReasonLicenseChoiceRequired (InvalidArgument): an online account
	// would be created or assigned without a licence and the caller did not
	// say so explicitly; choose licences, or set NoLicense.
	ReasonLicenseChoiceRequired backend.Reason = "license-choice-required"
	// ReasonProbableDuplicate (plan items only): the user probably has an
	// online account already, under another online ID; the item starts
	// unselected and names the candidates.
	ReasonProbableDuplicate backend.Reason = "probable-duplicate"
	// ReasonInterrupted (with the kind of its cause): CreateUser stopped
	// half way; running the same CreateUser again finishes it.
	ReasonInterrupted backend.Reason = "interrupted"
	// ReasonUnsafeDirectory (FailedPrecondition): a results or password
	// directory cannot be created, is not a directory, is not writable, or
	// (for passwords) can be read by others; nothing was changed.
	ReasonUnsafeDirectory backend.Reason = "unsafe-directory"
	// ReasonRestoreExpired (FailedPrecondition): the online account was
	// deleted more than 30 days ago and cannot be restored.
	ReasonRestoreExpired backend.Reason = "restore-expired"
	// ReasonRestoreTarget (FailedPrecondition): a restored online account
	// needs a user to link to (its user was deleted too); pass
	// RestoreOptions.User.
	ReasonRestoreTarget backend.Reason = "restore-target"
	// ReasonNoOnlineAccount (FailedPrecondition): the user has no online
	// account for this operation.
	ReasonNoOnlineAccount backend.Reason = "no-online-account"
	// ReasonNameTaken (AlreadyExists): CreateUser found a network user of
	// that name that it did not start creating; it is left alone.
	ReasonNameTaken backend.Reason = "name-taken"
)
