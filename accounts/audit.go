package accounts

import (
	"context"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// The audit operations of this package: the Op of every audit.Event the
// Service records (see the package documentation for the schema).
const (
	// Directory side.
	AuditCreateUser       = "create-user"        // a network user was created
	AuditDeleteUser       = "delete-user"        // a network user was deleted
	AuditEnableUser       = "enable-user"        // a network user was enabled
	AuditDisableUser      = "disable-user"       // a network user was disabled
	AuditResetPassword    = "reset-password"     // an administrator set a network password
	AuditChangePassword   = "change-password"    // a user changed the network password
	AuditSetMustChange    = "set-must-change"    // "must change password at next logon" was set
	AuditSetMapping       = "set-mapping"        // the mapping attribute was written
	AuditCreateOnline     = "create-online"      // an online account was created
	AuditAllowSignIn      = "allow-sign-in"      // an online account's sign-in was allowed
	AuditBlockSignIn      = "block-sign-in"      // an online account's sign-in was blocked
	AuditDeleteOnline     = "delete-online"      // an online account was deleted (restorable 30 days)
	AuditRestoreOnline    = "restore-online"     // a deleted online account was restored
	AuditSetAnchor        = "set-anchor"         // onPremisesImmutableId was written
	AuditSetUsageLocation = "set-usage-location" // usageLocation was written
	AuditAssignLicenses   = "assign-licenses"    // licences were added
	AuditRemoveLicenses   = "remove-licenses"    // licences were removed
	AuditPushPassword     = "push-password"      // the online password was set (Outcome deferred: kept pending)
	AuditDiscardPending   = "discard-pending"    // a pending password update was dropped on request
	AuditRecordManaged    = "record-managed"     // the local record that an online account is managed was written
	AuditForgetManaged    = "forget-managed"     // that record was removed
	AuditResetWatermark   = "reset-watermark"    // the reconcile watermark was forgotten (ResetReconcile)
	AuditAddAlias         = "add-alias"          // an extra address was added to an online account (Exchange side; Target is the address)
	AuditRemoveAlias      = "remove-alias"       // an extra address was removed (Exchange side; Target is the address)
)

// event starts an audit event.
func ev(op string, side audit.Side, user, onlineID string) audit.Event {
	return audit.Event{Op: op, Side: side, User: user, OnlineID: onlineID}
}

// write runs fn through the retry policy and records it in the audit trail.
func (s *Service) write(ctx context.Context, op string, e audit.Event, fn func() error) error {
	key := e.User
	if (e.Side == audit.SideTenant || e.Side == audit.SideExchange) && e.OnlineID != "" {
		key = e.OnlineID
	}
	err := s.do(ctx, op, key, fn)
	s.trail.Record(ctx, e, err)
	return err
}

// record sends an event for a write made elsewhere (a batch item).
func (s *Service) record(ctx context.Context, e audit.Event, err error) {
	s.trail.Record(ctx, e, err)
}

// setEnabledOnline allows or blocks sign-in to an online account.
func (s *Service) setEnabledOnline(ctx context.Context, op, user string, ou backend.OnlineUser, enabled bool) error {
	name := AuditBlockSignIn
	if enabled {
		name = AuditAllowSignIn
	}
	return s.write(ctx, op, ev(name, audit.SideTenant, user, ou.UserPrincipalName), func() error {
		return s.tenant.UpdateUser(ctx, ou.ID, backend.OnlineUserUpdate{AccountEnabled: &enabled})
	})
}

// deleteOnline deletes an online account; NotFound counts as done.
func (s *Service) deleteOnline(ctx context.Context, op, user string, ou backend.OnlineUser) error {
	err := s.write(ctx, op, ev(AuditDeleteOnline, audit.SideTenant, user, ou.UserPrincipalName), func() error {
		return s.tenant.DeleteUser(ctx, ou.ID)
	})
	if backend.KindOf(err) == backend.NotFound {
		return nil
	}
	return err
}

// setMapping writes the user's mapping attribute.
func (s *Service) setMapping(ctx context.Context, op string, u backend.DirectoryUser, m Mapping) error {
	e := ev(AuditSetMapping, audit.SideDirectory, u.SAMAccountName, m.UPN)
	e.Detail = map[string]string{"state": string(m.State)}
	err := s.write(ctx, op, e, func() error { return s.dir.SetOnlineAccount(ctx, u.ID, m.String()) })
	return backend.WithOp(err, op, u.SAMAccountName)
}

// setMustChange sets "must change password at next logon".
func (s *Service) setMustChange(ctx context.Context, op string, u backend.DirectoryUser) error {
	err := s.write(ctx, op, ev(AuditSetMustChange, audit.SideDirectory, u.SAMAccountName, ""), func() error {
		return s.dir.SetMustChangePassword(ctx, u.ID, true)
	})
	return backend.WithOp(err, op, u.SAMAccountName)
}

// deleteDirUser deletes a network user.
func (s *Service) deleteDirUser(ctx context.Context, op string, u backend.DirectoryUser) error {
	return s.write(ctx, op, ev(AuditDeleteUser, audit.SideDirectory, u.SAMAccountName, ""), func() error {
		return s.dir.DeleteUser(ctx, u.ID)
	})
}
