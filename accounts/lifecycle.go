package accounts

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// Disable disables the user's network account and blocks sign-in to its
// online account; the online account and its data stay (use this rather
// than Delete to keep an employee's mail).
func (s *Service) Disable(ctx context.Context, user string) error {
	return s.setEnabled(ctx, "accounts: disable user", user, false)
}

// Enable enables the user's network account and, if its online account is
// assigned, allows sign-in again.
func (s *Service) Enable(ctx context.Context, user string) error {
	return s.setEnabled(ctx, "accounts: enable user", user, true)
}

func (s *Service) setEnabled(ctx context.Context, op, user string, enabled bool) error {
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return err
	}
	name := AuditDisableUser
	if enabled {
		name = AuditEnableUser
	}
	if err := s.write(ctx, op, ev(name, audit.SideDirectory, u.SAMAccountName, ""), func() error { return s.dir.SetEnabled(ctx, u.ID, enabled) }); err != nil {
		return backend.WithOp(err, op, u.SAMAccountName)
	}
	u.Enabled = enabled
	_, err = s.followUser(ctx, op, u)
	return err
}

// followUser brings the online account in line with the directory user:
// sign-in follows the user's enabled state while the mapping is assigned;
// an unassigned account stays blocked. It reports whether it changed
// anything.
func (s *Service) followUser(ctx context.Context, op string, u backend.DirectoryUser) (bool, error) {
	m, err := ParseMapping(u.OnlineAccount)
	if err != nil || m.ID == "" {
		return false, nil // not ours to follow
	}
	ou, err := s.getOnline(ctx, op, m.ID)
	if err != nil {
		if backend.KindOf(err) == backend.NotFound {
			return false, nil
		}
		return false, backend.WithOp(err, op, u.SAMAccountName)
	}
	want := u.Enabled && m.State == MappingAssigned
	if ou.AccountEnabled == want {
		return false, nil
	}
	if err := s.setEnabledOnline(ctx, op, u.SAMAccountName, ou, want); err != nil {
		return false, backend.WithOp(err, op, u.SAMAccountName)
	}
	return true, nil
}

// Delete deletes the user's online account (Microsoft 365 keeps it
// restorable for 30 days, see Restore; its data then follows Microsoft
// 365's retention policies) and then the network account. If the network account cannot be
// deleted, the online account is restored, so nothing is left half-done.
func (s *Service) Delete(ctx context.Context, user string) error {
	const op = "accounts: delete user"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return err
	}
	ou, _, err := s.onlineOf(ctx, op, u)
	hasOnline := err == nil
	if err != nil && backend.KindOf(err) != backend.NotFound {
		return err
	}
	if hasOnline {
		if err := s.deleteOnline(ctx, op, u.SAMAccountName, ou); err != nil {
			return backend.WithOp(err, op, u.SAMAccountName)
		}
	}
	if err := s.deleteDirUser(ctx, op, u); err != nil {
		if hasOnline {
			if rerr := s.write(ctx, op, ev(AuditRestoreOnline, audit.SideTenant, u.SAMAccountName, ou.UserPrincipalName), func() error {
				_, e := s.tenant.RestoreUser(ctx, ou.ID)
				return e
			}); rerr != nil {
				s.log.ErrorContext(ctx, "online account deleted but network account not; restore failed", "user", u.SAMAccountName, "online", ou.UserPrincipalName, "err", rerr)
			}
		}
		return backend.WithOp(err, op, u.SAMAccountName)
	}
	_ = s.store.Delete(ctx, keySync+u.ID.String())
	_ = s.store.Delete(ctx, keyPending+u.ID.String())
	_ = s.store.Delete(ctx, keyPwVersion+u.ID.String())
	if hasOnline {
		_ = s.forgetManaged(ctx, op, u.ID, u.SAMAccountName, ou.UserPrincipalName)
	}
	return nil
}

// RestoreWindow is how long Microsoft 365 keeps a deleted online account
// restorable.
const RestoreWindow = 30 * 24 * time.Hour

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// User is the network user to link the restored account to (named as
	// everywhere else). Default: the user the account was linked to, when
	// it still exists; when it was deleted too, User is required
	// (ReasonRestoreTarget otherwise).
	User string
}

// Restore restores a deleted online account (named by object id or online
// ID) within 30 days of its deletion and links it correctly: its anchor is
// set to the network user it now belongs to, sign-in follows that user's
// enabled state, the mapping and the managed record are written, so the
// next reconcile keeps it. Linked to another user than before, that user
// must change password at next logon, so the new password reaches the
// account. Every check runs before the restore.
func (s *Service) Restore(ctx context.Context, onlineID string, opts *RestoreOptions) (UserStatus, error) {
	const op = "accounts: restore online account"
	var o RestoreOptions
	if opts != nil {
		o = *opts
	}
	var deleted []backend.OnlineUser
	if err := s.do(ctx, op, onlineID, func() (e error) { deleted, e = s.tenant.ListDeletedUsers(ctx); return }); err != nil {
		return UserStatus{}, backend.WithOp(err, op, onlineID)
	}
	i := slices.IndexFunc(deleted, func(u backend.OnlineUser) bool {
		return u.ID == onlineID || strings.EqualFold(u.UserPrincipalName, onlineID)
	})
	if i < 0 {
		return UserStatus{}, backend.Errorf(backend.NotFound, op, onlineID, "no deleted online account by this name or id: it was never deleted, or was purged")
	}
	ou := deleted[i]
	if !ou.DeletedAt.IsZero() && s.now().Sub(ou.DeletedAt) > RestoreWindow {
		return UserStatus{}, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: onlineID, Reason: ReasonRestoreExpired,
			Msg: "the account was deleted more than 30 days ago and cannot be restored"}
	}
	var u backend.DirectoryUser
	var err error
	sameUser := false
	if o.User != "" {
		if u, err = s.findUser(ctx, op, o.User); err != nil {
			return UserStatus{}, err
		}
		sameUser = u.ID.ImmutableID() == ou.ImmutableID
	} else {
		g, gerr := backend.GUIDFromImmutableID(ou.ImmutableID)
		if gerr == nil {
			err = s.do(ctx, op, onlineID, func() (e error) { u, e = s.dir.GetUser(ctx, g); return })
		}
		if gerr != nil || backend.KindOf(err) == backend.NotFound {
			return UserStatus{}, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: onlineID, Reason: ReasonRestoreTarget,
				Msg: "the network user this account belonged to no longer exists: pass RestoreOptions.User to link it to another user (create one first if needed)"}
		}
		if err != nil {
			return UserStatus{}, backend.WithOp(err, op, onlineID)
		}
		sameUser = true
	}
	if m, _ := ParseMapping(u.OnlineAccount); m.State == MappingAssigned && m.ID != ou.ID {
		return UserStatus{}, backend.Invalid(op, u.SAMAccountName, ReasonAlreadyMapped, "the user has another online account (%s); unassign it first", m.UPN)
	}
	if err := s.write(ctx, op, ev(AuditRestoreOnline, audit.SideTenant, u.SAMAccountName, ou.UserPrincipalName), func() (e error) {
		ou, e = s.tenant.RestoreUser(ctx, ou.ID)
		return
	}); err != nil {
		return UserStatus{}, backend.WithOp(err, op, onlineID)
	}
	if imm := u.ID.ImmutableID(); ou.ImmutableID != imm {
		if err := s.write(ctx, op, ev(AuditSetAnchor, audit.SideTenant, u.SAMAccountName, ou.UserPrincipalName), func() error {
			return s.tenant.UpdateUser(ctx, ou.ID, backend.OnlineUserUpdate{ImmutableID: &imm})
		}); err != nil {
			return UserStatus{}, backend.WithOp(err, op, ou.UserPrincipalName)
		}
		ou.ImmutableID = imm
	}
	if err := s.finishLink(ctx, op, u, ou, !sameUser); err != nil {
		return UserStatus{}, err
	}
	return s.Status(ctx, u.ID.String())
}
