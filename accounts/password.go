package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// SyncState says where a password change stands on the online side.
type SyncState string

const (
	// SyncSynced: the online account has the new password.
	SyncSynced SyncState = "synced"
	// SyncPending: the cloud side failed; the update is kept (sealed) and
	// retried by RetryPendingPasswords and Reconcile.
	SyncPending SyncState = "pending"
	// SyncNoOnlineAccount: the user has no online account to sync.
	SyncNoOnlineAccount SyncState = "no-online-account"
)

// PasswordSyncAdvice is what to tell an administrator when a password was
// changed in the cloud, which breaks password synchronization.
const PasswordSyncAdvice = "The online password was changed in the Microsoft 365 portal, which breaks password synchronization. " +
	"Change the user's network password (with SetPassword, or the user at next logon) to bring both back in step, " +
	"and remind the user never to change the password in the portal."

// markSynced remembers the online account's password time as synced.
func (s *Service) markSynced(ctx context.Context, id backend.GUID, ou backend.OnlineUser) {
	t := ou.LastPasswordChange
	if t.IsZero() {
		t = s.now()
	}
	s.markSyncedAt(ctx, id, t)
}

func (s *Service) markSyncedAt(ctx context.Context, id backend.GUID, t time.Time) {
	if err := s.store.Put(ctx, keySync+id.String(), []byte(t.UTC().Format(time.RFC3339Nano))); err != nil {
		s.log.WarnContext(ctx, "cannot record password sync time", "user", id.String(), "err", err)
	}
}

func (s *Service) lastSync(ctx context.Context, id backend.GUID) (time.Time, bool) {
	b, err := s.store.Get(ctx, keySync+id.String())
	if err != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	return t, err == nil
}

// syncBroken reports whether the online password changed after the last
// sync: the failure mode the Essentials documentation warns about.
func (s *Service) syncBroken(ctx context.Context, id backend.GUID, ou backend.OnlineUser) bool {
	last, ok := s.lastSync(ctx, id)
	if !ok || ou.LastPasswordChange.IsZero() {
		return false
	}
	return ou.LastPasswordChange.After(last.Add(s.opts.SyncSkew))
}

// SetPassword sets a user's password as an administrator does, on the
// network account and on its online account. The network change comes
// first; if the cloud side then fails, the update is kept sealed in the
// Store and retried later (SyncPending): it is never lost, logged or
// written in clear. A failure that retrying will not fix (the online
// account was deleted, a permission is missing) also returns an error
// (ReasonPendingStuck) with SyncPending.
func (s *Service) SetPassword(ctx context.Context, user, password string) (SyncState, error) {
	const op = "accounts: set password"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return "", err
	}
	if err := s.checkOnlinePassword(ctx, op, u, password); err != nil {
		return "", err
	}
	if err := s.precheckNetworkPassword(ctx, op, u, password); err != nil {
		return "", err
	}
	if err := s.write(ctx, op, ev(AuditResetPassword, audit.SideDirectory, u.SAMAccountName, ""), func() error {
		return s.dir.ResetPassword(ctx, u.ID, password, false)
	}); err != nil {
		return "", backend.WithOp(err, op, u.SAMAccountName)
	}
	return s.syncPassword(ctx, op, u, password)
}

// ChangePassword changes a user's password as the user does (the old one
// must be right), on the network account and on its online account, with
// the same guarantees as SetPassword.
func (s *Service) ChangePassword(ctx context.Context, user, oldPassword, newPassword string) (SyncState, error) {
	const op = "accounts: change password"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return "", err
	}
	if err := s.checkOnlinePassword(ctx, op, u, newPassword); err != nil {
		return "", err
	}
	if err := s.precheckNetworkPassword(ctx, op, u, newPassword); err != nil {
		return "", err
	}
	if err := s.write(ctx, op, ev(AuditChangePassword, audit.SideDirectory, u.SAMAccountName, ""), func() error {
		return s.dir.ChangePassword(ctx, u.ID, oldPassword, newPassword)
	}); err != nil {
		return "", backend.WithOp(err, op, u.SAMAccountName)
	}
	return s.syncPassword(ctx, op, u, newPassword)
}

// checkOnlinePassword refuses, before any change, a password the online
// side would refuse, so the two never drift apart. Microsoft 365 asks for 8
// to 256 characters from 3 of 4 classes.
func (s *Service) checkOnlinePassword(_ context.Context, op string, u backend.DirectoryUser, pw string) error {
	m, _ := ParseMapping(u.OnlineAccount)
	if m.ID == "" {
		return nil
	}
	if !backend.OnlinePasswordOK(pw) {
		return backend.Invalid(op, u.SAMAccountName, ReasonOnlinePasswordPolicy,
			"Microsoft 365 needs a password of 8 to 256 characters with 3 of: upper-case, lower-case, digits, symbols")
	}
	return nil
}

// pendingEntry is the stored form of a pending password update. The
// password is sealed with additional data naming the user, the version and
// the online account, so a sealed value replayed from an older version or
// moved from another user does not open.
type pendingEntry struct {
	Version      uint64    `json:"version"`
	User         string    `json:"user"`
	OnlineUserID string    `json:"onlineUserId"`
	OnlineID     string    `json:"onlineId"`
	Created      time.Time `json:"created"`
	Attempts     int       `json:"attempts"`
	LastAttempt  time.Time `json:"lastAttempt,omitzero"`
	LastError    string    `json:"lastError,omitempty"`
	Sealed       []byte    `json:"sealed"`
}

// pwVersion counts a user's password updates: Issued is the last version
// given to an update, Synced the last one the online account took.
type pwVersion struct {
	Issued uint64 `json:"issued"`
	Synced uint64 `json:"synced"`
}

func pendingAAD(id backend.GUID, version uint64, onlineUserID string) []byte {
	return []byte("essentials365/accounts/pending/v1\x00" + id.String() + "\x00" + strconv.FormatUint(version, 10) + "\x00" + onlineUserID)
}

// lockUser serializes password updates of one user within the process (the
// FileStore's lock keeps other processes out).
func (s *Service) lockUser(id backend.GUID) func() {
	v, _ := s.userLocks.LoadOrStore(id, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

func (s *Service) readVersion(ctx context.Context, op string, id backend.GUID) (pwVersion, error) {
	var v pwVersion
	b, err := s.store.Get(ctx, keyPwVersion+id.String())
	if backend.KindOf(err) == backend.NotFound {
		return v, nil
	}
	if err != nil {
		return v, backend.WithOp(err, op, id.String())
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, stateCorrupt(op, keyPwVersion+id.String(), err)
	}
	return v, nil
}

func (s *Service) writeVersion(ctx context.Context, op string, id backend.GUID, v pwVersion) error {
	b, _ := json.Marshal(v)
	return backend.WithOp(s.store.Put(ctx, keyPwVersion+id.String(), b), op, id.String())
}

func (s *Service) readPending(ctx context.Context, op string, id backend.GUID) (pendingEntry, error) {
	var p pendingEntry
	b, err := s.store.Get(ctx, keyPending+id.String())
	if err != nil {
		return p, backend.WithOp(err, op, id.String())
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Version == 0 || len(p.Sealed) == 0 {
		if err == nil {
			err = errors.New("the entry lacks its version or sealed value")
		}
		return p, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: id.String(), Reason: ReasonPendingUnreadable, Err: err,
			Msg: "the pending password update is corrupt; it was not pushed: discard it with DiscardPendingPassword and set the password again"}
	}
	return p, nil
}

// syncPassword pushes a password the network account already has to the
// user's online account, or keeps it pending (sealed) when the cloud fails.
// It is the one way a password reaches the cloud.
func (s *Service) syncPassword(ctx context.Context, op string, u backend.DirectoryUser, pw string) (SyncState, error) {
	m, _ := ParseMapping(u.OnlineAccount)
	if m.ID == "" {
		return SyncNoOnlineAccount, nil
	}
	unlock := s.lockUser(u.ID)
	defer unlock()
	ver, verr := s.readVersion(ctx, op, u.ID)
	if verr == nil {
		ver.Issued++
		verr = s.writeVersion(ctx, op, u.ID, ver)
	}
	kept := verr
	if kept == nil {
		// Written ahead of the push: a process killed during the push
		// leaves the update pending, never lost.
		kept = s.keepPending(ctx, op, u, m, ver.Issued, pw)
	}
	err := s.pushPassword(ctx, op, u.SAMAccountName, m.ID, m.UPN, pw)
	if err == nil {
		s.markSyncedAt(ctx, u.ID, s.now())
		if verr == nil {
			ver.Synced = ver.Issued
			_ = s.writeVersion(ctx, op, u.ID, ver)
		}
		// This entry, and any older one, is done with.
		if old, rerr := s.readPending(ctx, op, u.ID); rerr == nil && (verr != nil || old.Version <= ver.Synced) {
			_ = s.store.Delete(ctx, keyPending+u.ID.String())
		}
		return SyncSynced, nil
	}
	if kept == nil {
		kept = s.recordAttempt(ctx, op, u.ID, ver.Issued, err)
	}
	if kept != nil {
		// Not even kept: the caller must know the cloud side is behind.
		return "", &backend.Error{Kind: backend.KindOf(err), Op: op, Key: u.SAMAccountName, Reason: ReasonPendingUnreadable, Err: errors.Join(err, kept),
			Msg: "the network password changed but the online password did not, and the update could not be kept: set the password again once the state store works"}
	}
	s.log.WarnContext(ctx, "online password update pending", "user", u.SAMAccountName, "kind", backend.KindOf(err).String())
	if !backend.Retryable(err) && backend.KindOf(err) != backend.Canceled {
		return SyncPending, stuck(op, u.SAMAccountName, err)
	}
	return SyncPending, nil
}

// recordAttempt counts a failed push on the pending entry of version ver.
func (s *Service) recordAttempt(ctx context.Context, op string, id backend.GUID, ver uint64, cause error) error {
	p, err := s.readPending(ctx, op, id)
	if err != nil {
		return err
	}
	if p.Version != ver {
		return nil // replaced since: nothing to count on
	}
	p.Attempts++
	p.LastAttempt, p.LastError = s.now(), cause.Error()
	b, _ := json.Marshal(p)
	return s.store.Put(ctx, keyPending+id.String(), b)
}

func stuck(op, key string, err error) error {
	return &backend.Error{Kind: backend.KindOf(err), Op: op, Key: key, Reason: ReasonPendingStuck, Err: err,
		Msg: "the network password changed but the online account refused the new one; the update is kept pending: " +
			"fix the cause (a deleted online account, a missing permission) and run RetryPendingPasswords, or drop it with DiscardPendingPassword"}
}

// keepPending writes the sealed pending entry of version ver, before its
// first push.
func (s *Service) keepPending(ctx context.Context, _ string, u backend.DirectoryUser, m Mapping, ver uint64, pw string) error {
	sealed, err := s.sealer.SealWith([]byte(pw), pendingAAD(u.ID, ver, m.ID))
	if err != nil {
		return err
	}
	b, _ := json.Marshal(pendingEntry{Version: ver, User: u.SAMAccountName, OnlineUserID: m.ID, OnlineID: m.UPN, Created: s.now(), Sealed: sealed})
	return s.store.Put(ctx, keyPending+u.ID.String(), b)
}

// pushPassword sets the online password. It does not read the account
// back: the sync time recorded after it is the local clock's, which
// Options.SyncSkew tolerates against the tenant's
// lastPasswordChangeDateTime.
func (s *Service) pushPassword(ctx context.Context, op, user, onlineUserID, onlineID, pw string) error {
	upd := backend.OnlineUserUpdate{Password: &backend.PasswordProfile{Password: pw}}
	err := s.do(ctx, op, onlineID, func() error { return s.tenant.UpdateUser(ctx, onlineUserID, upd) })
	e := ev(AuditPushPassword, audit.SideTenant, user, onlineID)
	if err != nil {
		e.Outcome = audit.OutcomeDeferred
	}
	s.record(ctx, e, err)
	return err
}

// PendingPassword is a pending online password update.
type PendingPassword struct {
	UserID       backend.GUID
	User         string
	OnlineID     string
	OnlineUserID string
	// Version orders the user's password updates.
	Version uint64
	// Created is when the update was kept; Age is how long ago.
	Created time.Time
	Age     time.Duration
	// Attempts counts the pushes tried; LastError is the last failure.
	Attempts    int
	LastAttempt time.Time
	LastError   string
	// Problem is set when the entry cannot be pushed as it is
	// (ReasonPendingUnreadable: corrupt, or replayed over a newer update);
	// discard it and set the password again.
	Problem backend.Reason
}

// PendingPasswords lists the online password updates waiting to be
// retried, with their age, attempts and last error. An entry that cannot be
// read is listed with its Problem, so it can be discarded.
func (s *Service) PendingPasswords(ctx context.Context) ([]PendingPassword, error) {
	const op = "accounts: list pending passwords"
	keys, err := s.store.List(ctx, keyPending)
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	var out []PendingPassword
	for _, k := range keys {
		g, err := backend.ParseGUID(strings.TrimPrefix(k, keyPending))
		if err != nil {
			continue
		}
		p, err := s.readPending(ctx, op, g)
		if backend.KindOf(err) == backend.NotFound {
			continue
		}
		pp := PendingPassword{UserID: g, User: p.User, OnlineID: p.OnlineID, OnlineUserID: p.OnlineUserID, Version: p.Version,
			Created: p.Created, Attempts: p.Attempts, LastAttempt: p.LastAttempt, LastError: p.LastError}
		if !p.Created.IsZero() {
			pp.Age = s.now().Sub(p.Created)
		}
		if err != nil {
			pp.Problem = ReasonPendingUnreadable
			pp.LastError = err.Error()
		} else if v, verr := s.readVersion(ctx, op, g); verr != nil || p.Version != v.Issued || p.Version <= v.Synced {
			pp.Problem = ReasonPendingUnreadable
		}
		out = append(out, pp)
	}
	return out, nil
}

// DiscardPendingPassword drops a user's pending online password update
// (for example after its online account was deleted in the portal). The
// user is named as everywhere else, or by objectGUID when the network user
// no longer exists. Discarding leaves the online password behind the
// network one: set the password again to bring them back in step.
func (s *Service) DiscardPendingPassword(ctx context.Context, user string) error {
	const op = "accounts: discard pending password"
	var id backend.GUID
	name := user
	if u, err := s.findUser(ctx, op, user); err == nil {
		id, name = u.ID, u.SAMAccountName
	} else if g, gerr := backend.ParseGUID(strings.TrimSpace(user)); gerr == nil && backend.KindOf(err) == backend.NotFound {
		id = g
	} else {
		return err
	}
	unlock := s.lockUser(id)
	defer unlock()
	if _, err := s.store.Get(ctx, keyPending+id.String()); err != nil {
		if backend.KindOf(err) == backend.NotFound {
			return backend.Errorf(backend.NotFound, op, name, "no pending password update for this user")
		}
		return backend.WithOp(err, op, name)
	}
	err := s.store.Delete(ctx, keyPending+id.String())
	s.record(ctx, ev(AuditDiscardPending, audit.SideLocal, name, ""), err)
	return backend.WithOp(err, op, name)
}

// pendingResult counts what a retry of pending updates did.
type pendingResult struct {
	pushed, failed int
	err            error
}

// RetryPendingPasswords pushes the pending online password updates. It
// returns how many went through; those that fail again stay pending and
// are counted in the error, as are entries that cannot be read (wrong
// sealing key, corrupt, replayed or moved).
func (s *Service) RetryPendingPasswords(ctx context.Context) (int, error) {
	r := s.retryPending(ctx, "accounts: retry pending passwords")
	return r.pushed, r.err
}

func (s *Service) retryPending(ctx context.Context, op string) pendingResult {
	var r pendingResult
	keys, err := s.store.List(ctx, keyPending)
	if err != nil {
		r.err = backend.WithOp(err, op, "")
		return r
	}
	var errs []error
	for _, k := range keys {
		g, err := backend.ParseGUID(strings.TrimPrefix(k, keyPending))
		if err != nil {
			continue
		}
		pushed, err := s.retryOne(ctx, op, g)
		if pushed {
			r.pushed++
		}
		if err != nil {
			r.failed++
			if backend.Retryable(err) {
				continue // transient: stays pending, not an error
			}
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		first := errs[0]
		r.err = &backend.Error{Kind: backend.KindOf(first), Op: op, Reason: backend.ReasonOf(first), Err: errors.Join(errs...),
			Msg: strconv.Itoa(len(errs)) + " pending password updates cannot be pushed: see PendingPasswords"}
	}
	return r
}

// retryOne pushes one user's pending update, under the user's lock, and
// deletes the entry only if it is still the one that was pushed.
func (s *Service) retryOne(ctx context.Context, op string, id backend.GUID) (bool, error) {
	unlock := s.lockUser(id)
	defer unlock()
	p, err := s.readPending(ctx, op, id)
	if backend.KindOf(err) == backend.NotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ver, err := s.readVersion(ctx, op, id)
	if err != nil {
		return false, err
	}
	if p.Version <= ver.Synced && ver.Synced == ver.Issued {
		// A newer password already reached the cloud: this one is obsolete.
		return false, s.store.Delete(ctx, keyPending+id.String())
	}
	if p.Version != ver.Issued {
		return false, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: p.User, Reason: ReasonPendingUnreadable,
			Msg: "the pending password update is not the user's latest (replayed from a backup?); it was not pushed: discard it with DiscardPendingPassword and set the password again"}
	}
	pw, err := s.sealer.OpenWith(p.Sealed, pendingAAD(id, p.Version, p.OnlineUserID))
	if err != nil {
		return false, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: p.User, Reason: ReasonPendingUnreadable, Err: err,
			Msg: "the pending password update cannot be opened (wrong sealing key, damaged, or moved from another user); it was not pushed: discard it with DiscardPendingPassword and set the password again"}
	}
	if perr := s.pushPassword(ctx, op, p.User, p.OnlineUserID, p.OnlineID, string(pw)); perr != nil {
		if werr := s.recordAttempt(ctx, op, id, p.Version, perr); werr != nil {
			s.log.WarnContext(ctx, "cannot record a pending password attempt", "user", p.User, "err", werr)
		}
		if backend.Retryable(perr) || backend.KindOf(perr) == backend.Canceled {
			return false, backend.WithOp(perr, op, p.User)
		}
		return false, stuck(op, p.User, perr)
	}
	s.markSyncedAt(ctx, id, s.now())
	ver.Synced = p.Version
	if err := s.writeVersion(ctx, op, id, ver); err != nil {
		return true, err
	}
	if cur, err := s.readPending(ctx, op, id); err == nil && cur.Version == p.Version {
		return true, backend.WithOp(s.store.Delete(ctx, keyPending+id.String()), op, p.User)
	}
	return true, nil
}

// pendingOf reports whether a pending update waits for user id.
func (s *Service) pendingOf(ctx context.Context, id backend.GUID) bool {
	_, err := s.store.Get(ctx, keyPending+id.String())
	return err == nil
}
