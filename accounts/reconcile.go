package accounts

import (
	"context"
	"fmt"

	"github.com/essentials365/sdk/essentials365/backend"
)

const keyDirWatermark = "watermark/directory"

// ReconcileOptions tune Reconcile.
type ReconcileOptions struct {
	// Full re-reads every user instead of the changes since the last run,
	// and also finds online accounts whose network user is gone.
	Full bool
	// DryRun reports what would change and changes nothing.
	DryRun bool
	// AllowDeletions lets this run pass the deletion threshold.
	AllowDeletions bool
}

// ReconcileReport says what a Reconcile did (or, stopped or dry, would do).
type ReconcileReport struct {
	Full     bool
	Examined int
	Enabled  []string // online IDs whose sign-in was allowed again
	Disabled []string // online IDs whose sign-in was blocked
	Deleted  []string // online IDs deleted
	// Stopped is set when the deletion threshold stopped the run; nothing
	// was changed and the watermark did not move.
	Stopped bool
	// PasswordsRetried counts pending online password updates pushed.
	PasswordsRetried int
	// Failures lists the changes that failed; they are retried next run.
	Failures []*ItemResult
}

type reconcileAction struct {
	user   backend.DirectoryUser
	online backend.OnlineUser
	enable *bool
	delete bool
}

// Reconcile makes the online accounts follow changes made directly in
// Active Directory: a disabled user's online account is blocked, an enabled
// one allowed again, a deleted user's online account deleted (restorable
// for 30 days). It reads the directory's changes since the last run (kept
// in the Store) or, with Full, every user. Before deleting more accounts
// than the deletion threshold it stops and reports instead. It also retries
// pending password updates.
func (s *Service) Reconcile(ctx context.Context, opts *ReconcileOptions) (*ReconcileReport, error) {
	const op = "accounts: reconcile"
	var o ReconcileOptions
	if opts != nil {
		o = *opts
	}
	rep := &ReconcileReport{Full: o.Full}
	if !o.DryRun {
		n, err := s.RetryPendingPasswords(ctx)
		rep.PasswordsRetried = n
		if err != nil {
			s.log.WarnContext(ctx, "some pending passwords failed again", "err", err)
		}
	}
	watermark := ""
	if !o.Full {
		if b, err := s.store.Get(ctx, keyDirWatermark); err == nil {
			watermark = string(b)
		} else if backend.KindOf(err) != backend.NotFound {
			return nil, backend.WithOp(err, op, keyDirWatermark)
		}
	}
	full := o.Full || watermark == ""
	rep.Full = full

	idx, err := s.indexTenant(ctx, op)
	if err != nil {
		return nil, err
	}
	byID := map[string]backend.OnlineUser{}
	for _, u := range idx.byUPN {
		byID[u.ID] = u
	}
	var actions []reconcileAction
	seen := map[backend.GUID]bool{}
	add := func(c backend.DirectoryChange) {
		rep.Examined++
		u := c.User
		seen[u.ID] = true
		m, _ := ParseMapping(u.OnlineAccount)
		ou, ok := byID[m.ID]
		if !ok {
			ou, ok = idx.byImmutable[u.ID.ImmutableID()]
		}
		if !ok {
			return
		}
		if c.Type == backend.Deleted {
			actions = append(actions, reconcileAction{user: u, online: ou, delete: true})
			return
		}
		if m.ID == "" {
			return // linked by anchor only: not assigned through this SDK
		}
		want := u.Enabled && m.State == Assigned
		if ou.AccountEnabled != want {
			actions = append(actions, reconcileAction{user: u, online: ou, enable: &want})
		}
	}
	next := watermark
	for {
		var ch backend.DirectoryChanges
		err := s.do(ctx, op, "", func() (e error) { ch, e = s.dir.Changes(ctx, next); return })
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		for _, c := range ch.Changes {
			add(c)
		}
		next = ch.Watermark
		if !ch.More {
			break
		}
	}
	if full {
		// Online accounts anchored to users that no longer exist.
		for imm, ou := range idx.byImmutable {
			g, err := backend.GUIDFromImmutableID(imm)
			if err != nil || seen[g] {
				continue
			}
			if _, err := s.dir.GetUser(ctx, g); backend.KindOf(err) != backend.NotFound {
				continue // exists (changed after our listing) or unknown: keep
			}
			actions = append(actions, reconcileAction{user: backend.DirectoryUser{ID: g}, online: ou, delete: true})
		}
	}

	deletions := 0
	for _, a := range actions {
		if a.delete {
			deletions++
		}
	}
	if limit, over := s.overThreshold(deletions, len(idx.byImmutable)); over && !o.AllowDeletions {
		rep.Stopped = true
		for _, a := range actions {
			if a.delete {
				rep.Deleted = append(rep.Deleted, a.online.UserPrincipalName)
			}
		}
		return rep, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Reason: "deletion-threshold",
			Msg: fmt.Sprintf("the run would delete %d online accounts, more than the threshold of %s; nothing was changed: check the directory, then run again with AllowDeletions", deletions, limit)}
	}

	failed := false
	for _, a := range actions {
		var err error
		switch {
		case a.delete:
			if !o.DryRun {
				err = s.do(ctx, op, a.online.ID, func() error { return s.tenant.DeleteUser(ctx, a.online.ID) })
				if backend.KindOf(err) == backend.NotFound {
					err = nil
				}
			}
			if err == nil {
				rep.Deleted = append(rep.Deleted, a.online.UserPrincipalName)
				_ = s.store.Delete(ctx, keySync+a.user.ID.String())
			}
		case a.enable != nil:
			if !o.DryRun {
				want := *a.enable
				err = s.do(ctx, op, a.online.ID, func() error {
					return s.tenant.UpdateUser(ctx, a.online.ID, backend.OnlineUserUpdate{AccountEnabled: &want})
				})
			}
			if err == nil && *a.enable {
				rep.Enabled = append(rep.Enabled, a.online.UserPrincipalName)
			} else if err == nil {
				rep.Disabled = append(rep.Disabled, a.online.UserPrincipalName)
			}
		}
		if err != nil {
			failed = true
			r := &ItemResult{User: a.user.SAMAccountName, OnlineID: a.online.UserPrincipalName, OnlineUserID: a.online.ID}
			r.setError(backend.WithOp(err, op, a.online.UserPrincipalName))
			rep.Failures = append(rep.Failures, r)
		}
	}
	// The watermark moves only when every change was applied, so a failed
	// one is seen again next run (each action is idempotent).
	if !o.DryRun && !failed {
		if err := s.store.Put(ctx, keyDirWatermark, []byte(next)); err != nil {
			return rep, backend.WithOp(err, op, keyDirWatermark)
		}
	}
	return rep, nil
}

// overThreshold applies the deletion thresholds (count and percentage).
func (s *Service) overThreshold(deletions, mapped int) (string, bool) {
	if s.opts.DeletionThreshold >= 0 && deletions > s.opts.DeletionThreshold {
		return fmt.Sprintf("%d", s.opts.DeletionThreshold), true
	}
	if p := s.opts.DeletionThresholdPercent; p > 0 && mapped > 0 && float64(deletions)*100/float64(mapped) > p {
		return fmt.Sprintf("%g%% of %d mapped accounts", p, mapped), true
	}
	return "", false
}
