package accounts

import (
	"context"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Disable disables the user's network account and blocks sign-in to its
// online account; the online account and its data stay (use this rather
// than Delete to keep an employee's mail).
func (s *Service) Disable(ctx context.Context, user string) error {
	return s.setEnabled(ctx, "accounts: disable", user, false)
}

// Enable enables the user's network account and, if its online account is
// assigned, allows sign-in again.
func (s *Service) Enable(ctx context.Context, user string) error {
	return s.setEnabled(ctx, "accounts: enable", user, true)
}

func (s *Service) setEnabled(ctx context.Context, op, user string, enabled bool) error {
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return err
	}
	if err := s.do(ctx, op, u.SAMAccountName, func() error { return s.dir.SetEnabled(ctx, u.ID, enabled) }); err != nil {
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
	want := u.Enabled && m.State == Assigned
	if ou.AccountEnabled == want {
		return false, nil
	}
	err = s.do(ctx, op, ou.ID, func() error { return s.tenant.UpdateUser(ctx, ou.ID, backend.OnlineUserUpdate{AccountEnabled: &want}) })
	if err != nil {
		return false, backend.WithOp(err, op, u.SAMAccountName)
	}
	return true, nil
}

// Delete deletes the user's online account (Microsoft 365 keeps it
// restorable for 30 days; its data then follows Microsoft 365's retention
// policies) and then the network account. If the network account cannot be
// deleted, the online account is restored, so nothing is left half-done.
func (s *Service) Delete(ctx context.Context, user string) error {
	const op = "accounts: delete"
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
		if err := s.do(ctx, op, ou.ID, func() error { return s.tenant.DeleteUser(ctx, ou.ID) }); err != nil && backend.KindOf(err) != backend.NotFound {
			return backend.WithOp(err, op, u.SAMAccountName)
		}
	}
	if err := s.do(ctx, op, u.SAMAccountName, func() error { return s.dir.DeleteUser(ctx, u.ID) }); err != nil {
		if hasOnline {
			if rerr := s.do(ctx, op, ou.ID, func() error { _, e := s.tenant.RestoreUser(ctx, ou.ID); return e }); rerr != nil {
				s.log.ErrorContext(ctx, "online account deleted but network account not; restore failed", "user", u.SAMAccountName, "online", ou.UserPrincipalName, "err", rerr)
			}
		}
		return backend.WithOp(err, op, u.SAMAccountName)
	}
	_ = s.store.Delete(ctx, keySync+u.ID.String())
	_ = s.store.Delete(ctx, keyPending+u.ID.String())
	return nil
}
