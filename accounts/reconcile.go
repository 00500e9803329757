package accounts

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// ReconcileOptions tune PlanReconcile, ApplyReconcile and Reconcile.
type ReconcileOptions struct {
	// Full re-reads every user instead of the changes since the last run,
	// and also finds managed online accounts whose network user is gone.
	Full bool
	// AllowDeletions lets this run pass the deletion guard.
	AllowDeletions bool
	// AllowDisables lets this run pass the disable guard.
	AllowDisables bool
	// AllowFirstRunDeletions lets a first run (no saved watermark) delete;
	// by default its deletions are held back and reported.
	AllowFirstRunDeletions bool
	// AcceptDirectory lets a full run go on although the directory listed
	// no users, or far fewer than the managed accounts (see
	// ReasonDirectorySuspicious).
	AcceptDirectory bool
}

// ReconcileActionType is what a reconcile does to an online account.
type ReconcileActionType string

// The actions of a reconcile.
const (
	ReconcileEnable  ReconcileActionType = "enable"  // allow sign-in again
	ReconcileDisable ReconcileActionType = "disable" // block sign-in
	ReconcileDelete  ReconcileActionType = "delete"  // delete (restorable for 30 days)
)

// ReconcileAction is one change of a reconcile plan.
type ReconcileAction struct {
	Type         ReconcileActionType
	UserID       backend.GUID
	User         string // sAMAccountName, when known
	OnlineID     string
	OnlineUserID string
	// Why says what in the directory asks for it.
	Why string
}

// ReconcileNotice is an online account a reconcile leaves alone although
// something about it looks wrong, and why.
type ReconcileNotice struct {
	OnlineID     string
	OnlineUserID string
	Detail       string
}

// ReconcilePlan is what a reconcile would do. It is computed by
// PlanReconcile without writing anything, and executed by ApplyReconcile.
type ReconcilePlan struct {
	// Full is set for a full run (asked for, or a first run).
	Full bool
	// FirstRun is set when no watermark was saved: its deletions are held
	// back unless ReconcileOptions.AllowFirstRunDeletions.
	FirstRun bool
	// Examined counts the directory changes read.
	Examined int
	// DirectoryUsers counts the users a full run listed.
	DirectoryUsers int
	// Managed counts the online accounts the SDK manages (the base of the
	// guards' percentages); ManagedSeen those whose user a full run listed.
	Managed     int
	ManagedSeen int
	Actions     []ReconcileAction
	// Notices lists accounts left alone, e.g. anchored to a user this
	// directory does not have.
	Notices []ReconcileNotice
	// PendingPasswords counts the pending password updates the apply
	// retries.
	PendingPasswords int
	// Stops lists the guards that stop this plan under the options it was
	// made with; ApplyReconcile checks them again under its own.
	Stops []GuardStop

	from       string
	fromExists bool
	next       string
	newManaged []managedLink
}

// managedLink is an account a plan records as managed: only what the
// record needs, so a first run over many users stays small.
type managedLink struct {
	userID       backend.GUID
	user         string // sAMAccountName
	onlineUserID string
	onlineID     string
}

// ReconcileReport says what ApplyReconcile did.
type ReconcileReport struct {
	Full     bool
	FirstRun bool
	Examined int
	Enabled  []string // online IDs whose sign-in was allowed again
	Disabled []string // online IDs whose sign-in was blocked
	Deleted  []string // online IDs deleted
	// HeldDeletions lists the online IDs a first run did not delete.
	HeldDeletions []string
	// Notices are the plan's accounts left alone.
	Notices []ReconcileNotice
	// Stopped is set when a guard stopped the run before any write; the
	// error says which, Stops lists them all.
	Stopped bool
	Stops   []GuardStop
	// PasswordsRetried counts pending online password updates pushed;
	// PasswordFailures those that failed again or could not be read.
	PasswordsRetried int
	PasswordFailures int
	// Failures lists the changes that failed; they are retried next run.
	Failures []*ItemResult
}

// list adds a's online ID to the report's list for its type (Deleted,
// Disabled or Enabled); other actions are not listed.
func (r *ReconcileReport) list(a ReconcileAction) {
	switch a.Type {
	case ReconcileDelete:
		r.Deleted = append(r.Deleted, a.OnlineID)
	case ReconcileDisable:
		r.Disabled = append(r.Disabled, a.OnlineID)
	case ReconcileEnable:
		r.Enabled = append(r.Enabled, a.OnlineID)
	}
}

// watermarkRecord is the stored form of the directory watermark.
type watermarkRecord struct {
	Version   int    `json:"v"`
	Watermark string `json:"watermark"`
}

// readWatermark returns the saved watermark and whether there is one. An
// entry that is empty or cannot be decoded is an error, never a first run.
func (s *Service) readWatermark(ctx context.Context, op string) (string, bool, error) {
	b, err := s.store.Get(ctx, keyDirWatermark)
	if backend.KindOf(err) == backend.NotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, backend.WithOp(err, op, keyDirWatermark)
	}
	var r watermarkRecord
	if len(b) == 0 {
		return "", false, stateCorrupt(op, keyDirWatermark, errors.New("the entry is empty"))
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Version != 1 || r.Watermark == "" {
		return "", false, stateCorrupt(op, keyDirWatermark, err)
	}
	return r.Watermark, true, nil
}

// ResetReconcile forgets the saved directory watermark: the next reconcile
// is a first run (full, and deleting nothing unless asked). Use it after
// pointing the Service at another domain, or when the saved watermark is
// reported corrupt.
func (s *Service) ResetReconcile(ctx context.Context) error {
	const op = "accounts: reset reconcile"
	err := s.store.Delete(ctx, keyDirWatermark)
	s.record(ctx, audit.Event{Op: AuditResetWatermark, Side: audit.SideLocal}, err)
	return backend.WithOp(err, op, keyDirWatermark)
}

// PlanReconcile computes what a reconcile would change, without writing
// anything: online accounts to block or allow because their user was
// disabled or enabled in Active Directory, and managed online accounts to
// delete because their user was deleted. It reads the directory's changes
// since the last applied run or, with Full (or on a first run), every
// user. Only online accounts the SDK provably manages are ever in the plan
// (see the package documentation); others are listed as Notices.
func (s *Service) PlanReconcile(ctx context.Context, opts *ReconcileOptions) (*ReconcilePlan, error) {
	const op = "accounts: plan reconcile"
	var o ReconcileOptions
	if opts != nil {
		o = *opts
	}
	from, exists, err := s.readWatermark(ctx, op)
	if err != nil {
		return nil, err
	}
	p := &ReconcilePlan{from: from, fromExists: exists, FirstRun: !exists}
	p.Full = o.Full || !exists
	// A full run reads every managed record; an incremental one counts
	// them (the guards' base) and reads those of the changed users only.
	var (
		managed      map[backend.GUID]managedRecord
		managedCount int
	)
	if p.Full {
		if managed, err = s.managedRecords(ctx, op); err != nil {
			return nil, err
		}
	} else {
		keys, err := s.store.List(ctx, keyManaged)
		if err != nil {
			return nil, backend.WithOp(err, op, keyManaged)
		}
		managed, managedCount = map[backend.GUID]managedRecord{}, len(keys)
	}
	pending, err := s.store.List(ctx, keyPending)
	if err != nil {
		return nil, backend.WithOp(err, op, keyPending)
	}
	p.PendingPasswords = len(pending)
	s.recon.mu.Lock()
	defer s.recon.mu.Unlock()
	idx, err := s.onlineIndexLocked(ctx, op, p.Full)
	if err != nil {
		return nil, err
	}
	seen := map[backend.GUID]bool{}       // in a change, upserted or deleted
	listed := map[backend.GUID]bool{}     // upserted by a full run
	managedIDs := map[backend.GUID]bool{} // full: every managed; incremental: newly managed
	if p.Full {
		for g := range managed {
			managedIDs[g] = true
		}
	}
	watermark := ""
	if !p.Full {
		watermark = from
	}
	for {
		var ch backend.DirectoryChanges
		err := s.do(ctx, op, "", func() (e error) { ch, e = s.dir.Changes(ctx, watermark); return })
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		for _, c := range ch.Changes {
			p.Examined++
			seen[c.User.ID] = true
			_, wasManaged := managed[c.User.ID]
			if !p.Full {
				if wasManaged, err = s.loadManaged(ctx, op, managed, c.User.ID); err != nil {
					return nil, err
				}
			}
			if c.Type == backend.Deleted {
				s.planDeleted(p, idx, managed, c.User)
				continue
			}
			if p.Full {
				p.DirectoryUsers++
				listed[c.User.ID] = true
			}
			if s.planUpserted(p, idx, managed, c.User) && (p.Full || !wasManaged) {
				managedIDs[c.User.ID] = true
			}
		}
		watermark = ch.Watermark
		if !ch.More {
			break
		}
	}
	p.next = watermark
	p.Managed = managedCount + len(managedIDs)
	if p.Full {
		for g := range managedIDs {
			if listed[g] {
				p.ManagedSeen++
			}
		}
		if err := s.planOrphans(ctx, op, p, idx, managed, seen); err != nil {
			return nil, err
		}
	}
	p.Stops = s.checkGuards(p, o)
	return p, nil
}

// planUpserted plans the sign-in of a user's mapped online account. It
// reports whether the user has a managed online account.
func (s *Service) planUpserted(p *ReconcilePlan, idx *onlineIndex, managed map[backend.GUID]managedRecord, u backend.DirectoryUser) bool {
	m, err := ParseMapping(u.OnlineAccount)
	if err != nil || m.ID == "" {
		return false // not linked through this SDK: not ours to follow
	}
	e, ok := idx.get(m.ID)
	if !ok {
		p.Notices = append(p.Notices, ReconcileNotice{OnlineID: m.UPN, OnlineUserID: m.ID,
			Detail: "the user " + u.SAMAccountName + " records this online account, but it no longer exists (deleted in the portal?): bring it back with Restore, or Assign another"})
		return false
	}
	ou := e.onlineUser(m.ID)
	if ou.ImmutableID != u.ID.ImmutableID() {
		detail := "the user " + u.SAMAccountName + " records this online account, but the account carries another user's anchor; left alone: check the mapping"
		if ou.ImmutableID == "" {
			detail = "the user " + u.SAMAccountName + " records this online account, but the account has no anchor yet (an interrupted import?); left alone: run PlanImport and ApplyImport to finish it"
		}
		p.Notices = append(p.Notices, ReconcileNotice{OnlineID: ou.UserPrincipalName, OnlineUserID: ou.ID, Detail: detail})
		return false
	}
	if r, ok := managed[u.ID]; !ok || r.OnlineUserID != ou.ID {
		p.newManaged = append(p.newManaged, managedLink{userID: u.ID, user: u.SAMAccountName, onlineUserID: ou.ID, onlineID: ou.UserPrincipalName})
	}
	want := u.Enabled && m.State == MappingAssigned
	if ou.AccountEnabled != want {
		a := ReconcileAction{Type: ReconcileDisable, UserID: u.ID, User: u.SAMAccountName, OnlineID: ou.UserPrincipalName, OnlineUserID: ou.ID,
			Why: "the user is disabled in the directory"}
		switch {
		case want:
			a.Type, a.Why = ReconcileEnable, "the user is enabled in the directory"
		case m.State != MappingAssigned:
			a.Why = "the online account is unassigned"
		}
		p.Actions = append(p.Actions, a)
	}
	return true
}

// planDeleted plans the deletion of a deleted user's online account, when
// the SDK manages it.
func (s *Service) planDeleted(p *ReconcilePlan, idx *onlineIndex, managed map[backend.GUID]managedRecord, u backend.DirectoryUser) {
	anchor := u.ID.ImmutableID()
	r, isManaged := managed[u.ID]
	m, _ := ParseMapping(u.OnlineAccount)
	id := r.OnlineUserID
	e, ok := idx.get(id)
	if !ok {
		id, ok = idx.byAnchor[anchor]
		e = idx.byID[id]
	}
	ou := e.onlineUser(id)
	if !ok || ou.ImmutableID != anchor {
		return // no online account, or not this user's
	}
	if !(isManaged && r.OnlineUserID == ou.ID) && m.ID != ou.ID {
		p.Notices = append(p.Notices, ReconcileNotice{OnlineID: ou.UserPrincipalName, OnlineUserID: ou.ID,
			Detail: "its network user was deleted, but the SDK has no record of managing this account; left alone: delete it in the Microsoft 365 admin center if it is no longer needed"})
		return
	}
	user := u.SAMAccountName
	if user == "" {
		user = r.User
	}
	p.Actions = append(p.Actions, ReconcileAction{Type: ReconcileDelete, UserID: u.ID, User: user, OnlineID: ou.UserPrincipalName, OnlineUserID: ou.ID,
		Why: "the user was deleted from the directory"})
}

// planOrphans finds, on a full run, the managed online accounts whose user
// is gone, and reports accounts anchored to users this directory does not
// have.
func (s *Service) planOrphans(ctx context.Context, op string, p *ReconcilePlan, idx *onlineIndex, managed map[backend.GUID]managedRecord, seen map[backend.GUID]bool) error {
	planned := map[string]bool{}
	for _, a := range p.Actions {
		planned[a.OnlineUserID] = true
	}
	for g, r := range managed {
		if seen[g] {
			continue
		}
		e, ok := idx.get(r.OnlineUserID)
		ou := e.onlineUser(r.OnlineUserID)
		if !ok || ou.ImmutableID != g.ImmutableID() || planned[ou.ID] {
			continue
		}
		err := s.do(ctx, op, g.String(), func() error { _, e := s.dir.GetUser(ctx, g); return e })
		if backend.KindOf(err) != backend.NotFound {
			if err != nil {
				return backend.WithOp(err, op, g.String())
			}
			continue // exists (changed after our listing): keep
		}
		planned[ou.ID] = true
		p.Actions = append(p.Actions, ReconcileAction{Type: ReconcileDelete, UserID: g, User: r.User, OnlineID: ou.UserPrincipalName, OnlineUserID: ou.ID,
			Why: "the user no longer exists in the directory"})
	}
	for imm, id := range idx.byAnchor {
		ou := idx.byID[id].onlineUser(id)
		g, err := backend.GUIDFromImmutableID(imm)
		if err != nil {
			p.Notices = append(p.Notices, ReconcileNotice{OnlineID: ou.UserPrincipalName, OnlineUserID: ou.ID,
				Detail: "its anchor (onPremisesImmutableId) is not an objectGUID of AccountActive Directory; not managed by this SDK, left alone"})
			continue
		}
		if seen[g] || planned[ou.ID] {
			continue
		}
		if _, ok := managed[g]; ok {
			continue
		}
		p.Notices = append(p.Notices, ReconcileNotice{OnlineID: ou.UserPrincipalName, OnlineUserID: ou.ID,
			Detail: "anchored to a user this directory does not have (synced from another directory, or made by another tool); not managed by this SDK, left alone"})
	}
	return nil
}

// ApplyReconcile executes a plan from PlanReconcile. It first checks the
// guards again under opts and stops before any write when one fires (the
// report lists what would have changed, the error says what to do). Then
// it retries the pending password updates, re-reads each account before
// changing it (all of them with one delta query of the tenant; an action
// that no longer applies is skipped), and moves the
// watermark only when every change went through, so a failed one is seen
// again next run. A plan made before another run applied is refused
// (ReasonPlanStale).
func (s *Service) ApplyReconcile(ctx context.Context, p *ReconcilePlan, opts *ReconcileOptions) (*ReconcileReport, error) {
	const op = "accounts: apply reconcile"
	if p == nil {
		return nil, backend.Invalid(op, "", ReasonPlanRequired, "a plan from PlanReconcile is required")
	}
	var o ReconcileOptions
	if opts != nil {
		o = *opts
	}
	rep := &ReconcileReport{Full: p.Full, FirstRun: p.FirstRun, Examined: p.Examined, Notices: p.Notices}
	if stops := s.checkGuards(p, o); len(stops) > 0 {
		rep.Stopped, rep.Stops = true, stops
		for _, a := range p.Actions {
			rep.list(a)
		}
		return rep, stops[0].err(op)
	}
	from, exists, err := s.readWatermark(ctx, op)
	if err != nil {
		return rep, err
	}
	if from != p.from || exists != p.fromExists {
		return rep, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Reason: ReasonPlanStale,
			Msg: "another reconcile was applied since this plan was made; nothing was changed: plan again"}
	}

	pw := s.retryPending(ctx, op)
	rep.PasswordsRetried, rep.PasswordFailures = pw.pushed, pw.failed

	failed := false
	for _, l := range p.newManaged {
		u := backend.DirectoryUser{ID: l.userID, SAMAccountName: l.user}
		ou := backend.OnlineUser{ID: l.onlineUserID, UserPrincipalName: l.onlineID}
		if err := s.recordManaged(ctx, op, u, ou); err != nil {
			failed = true
			r := &ItemResult{User: l.user, OnlineID: l.onlineID, OnlineUserID: l.onlineUserID}
			r.setError(err)
			rep.Failures = append(rep.Failures, r)
		}
	}
	s.recon.mu.Lock()
	defer s.recon.mu.Unlock()
	var idx *onlineIndex
	for _, a := range p.Actions {
		if a.Type == ReconcileDelete && p.FirstRun && !o.AllowFirstRunDeletions {
			rep.HeldDeletions = append(rep.HeldDeletions, a.OnlineID)
			continue
		}
		if idx == nil {
			// One re-read of every account the plan changes: the delta
			// since the plan (or, for a tenant without one, a GET each).
			var err error
			if s.recon.noDelta {
				idx = newOnlineIndex()
			} else if idx, err = s.onlineIndexLocked(ctx, op, false); err != nil {
				return rep, err
			}
		}
		done, err := s.applyAction(ctx, op, idx, a)
		if err != nil {
			failed = true
			r := &ItemResult{User: a.User, OnlineID: a.OnlineID, OnlineUserID: a.OnlineUserID}
			r.setError(backend.WithOp(err, op, a.OnlineID))
			rep.Failures = append(rep.Failures, r)
			continue
		}
		if !done {
			continue
		}
		rep.list(a)
	}
	// The watermark moves only when every change was applied, so a failed
	// one is seen again next run (each action is idempotent).
	if !failed && p.next != "" {
		b, _ := json.Marshal(watermarkRecord{Version: 1, Watermark: p.next})
		if err := s.store.Put(ctx, keyDirWatermark, b); err != nil {
			return rep, backend.WithOp(err, op, keyDirWatermark)
		}
	}
	return rep, pw.err
}

// applyAction checks the account as re-read (idx, refreshed since the
// plan, or a GET when the tenant has no delta query) and re-reads its user,
// and makes one change; it reports false when the change no longer
// applies.
func (s *Service) applyAction(ctx context.Context, op string, idx *onlineIndex, a ReconcileAction) (bool, error) {
	var ou backend.OnlineUser
	if idx.watermark != "" {
		e, ok := idx.get(a.OnlineUserID)
		if !ok {
			return false, nil
		}
		ou = e.onlineUser(a.OnlineUserID)
	} else {
		var err error
		ou, err = s.getOnline(ctx, op, a.OnlineUserID)
		if backend.KindOf(err) == backend.NotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	if ou.ImmutableID != a.UserID.ImmutableID() {
		return false, nil // re-linked since the plan: not this user's any more
	}
	var u backend.DirectoryUser
	err := s.do(ctx, op, a.User, func() (e error) { u, e = s.dir.GetUser(ctx, a.UserID); return })
	if a.Type == ReconcileDelete {
		if backend.KindOf(err) != backend.NotFound {
			return false, err // the user is back (or cannot be read): keep
		}
		if err := s.deleteOnline(ctx, op, a.User, ou); err != nil {
			return false, err
		}
		idx.remove(ou.ID)
		_ = s.forgetManaged(ctx, op, a.UserID, a.User, a.OnlineID)
		_ = s.store.Delete(ctx, keySync+a.UserID.String())
		return true, nil
	}
	if err != nil {
		return false, err
	}
	m, _ := ParseMapping(u.OnlineAccount)
	if m.ID != ou.ID {
		return false, nil
	}
	want := u.Enabled && m.State == MappingAssigned
	if ou.AccountEnabled == want || want != (a.Type == ReconcileEnable) {
		return false, nil
	}
	if err := s.setEnabledOnline(ctx, op, u.SAMAccountName, ou, want); err != nil {
		return false, err
	}
	idx.setEnabled(ou.ID, want)
	return true, nil
}

// Reconcile plans and applies in one call: it makes the online accounts
// follow changes made directly in Active Directory (a disabled user's
// online account is blocked, an enabled one allowed again, a deleted user's
// managed online account deleted, restorable for 30 days) and retries the
// pending password updates. The guards apply as in ApplyReconcile.
func (s *Service) Reconcile(ctx context.Context, opts *ReconcileOptions) (*ReconcileReport, error) {
	p, err := s.PlanReconcile(ctx, opts)
	if err != nil {
		return nil, err
	}
	return s.ApplyReconcile(ctx, p, opts)
}

// loadManaged reads the managed record of user g into managed, and reports
// whether there is one. A record that cannot be read is an error.
func (s *Service) loadManaged(ctx context.Context, op string, managed map[backend.GUID]managedRecord, g backend.GUID) (bool, error) {
	if _, ok := managed[g]; ok {
		return true, nil
	}
	k := keyManaged + g.String()
	b, err := s.store.Get(ctx, k)
	if backend.KindOf(err) == backend.NotFound {
		return false, nil
	}
	if err != nil {
		return false, backend.WithOp(err, op, k)
	}
	var r managedRecord
	if err := json.Unmarshal(b, &r); err != nil || r.OnlineUserID == "" {
		return false, stateCorrupt(op, k, err)
	}
	managed[g] = r
	return true, nil
}
