package accounts

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// SyncState says where a password change stands on the online side.
type SyncState string

const (
	// Synced: the online account has the new password.
	Synced SyncState = "synced"
	// Pending: the cloud side failed; the update is kept (sealed) and
	// retried by RetryPendingPasswords and Reconcile.
	Pending SyncState = "pending"
	// NoOnlineAccount: the user has no online account to sync.
	NoOnlineAccount SyncState = "no-online-account"
)

// PasswordSyncAdvice is what to tell an administrator when a password was
// changed in the cloud, which breaks password synchronization.
const PasswordSyncAdvice = "The online password was changed in the Microsoft 365 portal, which breaks password synchronization. " +
	"Change the user's network password (with SetPassword, or the user at next logon) to bring both back in step, " +
	"and remind the user never to change the password in the portal."

const (
	keySync    = "sync/"
	keyPending = "pending/"
)

// markSynced remembers the online account's password time as synced.
func (s *Service) markSynced(ctx context.Context, id backend.GUID, ou backend.OnlineUser) {
	t := ou.LastPasswordChange
	if t.IsZero() {
		t = s.now()
	}
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

type pendingPassword struct {
	OnlineID string `json:"onlineId"`
	Password string `json:"password"`
}

// SetPassword sets a user's password as an administrator does, on the
// network account and on its online account. The network change comes
// first; if the cloud side then fails, the update is kept sealed in the
// Store and retried later (SyncState Pending, nil error): it is never lost,
// logged or written in clear.
func (s *Service) SetPassword(ctx context.Context, user, password string) (SyncState, error) {
	const op = "accounts: set password"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return "", err
	}
	if err := s.checkOnlinePassword(ctx, op, u, password); err != nil {
		return "", err
	}
	if err := s.do(ctx, op, u.SAMAccountName, func() error { return s.dir.ResetPassword(ctx, u.ID, password, false) }); err != nil {
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
	if err := s.do(ctx, op, u.SAMAccountName, func() error { return s.dir.ChangePassword(ctx, u.ID, oldPassword, newPassword) }); err != nil {
		return "", backend.WithOp(err, op, u.SAMAccountName)
	}
	return s.syncPassword(ctx, op, u, newPassword)
}

// checkOnlinePassword refuses, before any change, a password the online
// side would refuse, so the two never drift apart. Microsoft 365 asks for 8
// to 256 characters from 3 of 4 classes.
func (s *Service) checkOnlinePassword(ctx context.Context, op string, u backend.DirectoryUser, pw string) error {
	m, _ := ParseMapping(u.OnlineAccount)
	if m.ID == "" {
		return nil
	}
	if !backend.OnlinePasswordOK(pw) {
		return backend.Invalid(op, u.SAMAccountName, "online-password-policy",
			"Microsoft 365 needs a password of 8 to 256 characters with 3 of: upper-case, lower-case, digits, symbols")
	}
	return nil
}

func (s *Service) syncPassword(ctx context.Context, op string, u backend.DirectoryUser, pw string) (SyncState, error) {
	m, _ := ParseMapping(u.OnlineAccount)
	if m.ID == "" {
		return NoOnlineAccount, nil
	}
	if err := s.pushPassword(ctx, op, u.ID, m.ID, pw); err != nil {
		sealed, serr := s.sealer.Seal(mustJSON(pendingPassword{OnlineID: m.ID, Password: pw}))
		if serr == nil {
			serr = s.store.Put(ctx, keyPending+u.ID.String(), sealed)
		}
		if serr != nil {
			// Not even kept: the caller must know the cloud side is behind.
			return "", backend.WithOp(&backend.Error{Kind: backend.KindOf(err), Msg: "the network password changed but the online password did not, and the update could not be kept: " + serr.Error(), Err: err}, op, u.SAMAccountName)
		}
		s.log.WarnContext(ctx, "online password update pending", "user", u.SAMAccountName, "kind", backend.KindOf(err).String())
		return Pending, nil
	}
	_ = s.store.Delete(ctx, keyPending+u.ID.String())
	return Synced, nil
}

// pushPassword sets the online password and records the sync time.
func (s *Service) pushPassword(ctx context.Context, op string, id backend.GUID, onlineID, pw string) error {
	upd := backend.OnlineUserUpdate{Password: &backend.PasswordProfile{Password: pw}}
	if err := s.do(ctx, op, onlineID, func() error { return s.tenant.UpdateUser(ctx, onlineID, upd) }); err != nil {
		return err
	}
	ou, err := s.getOnline(ctx, op, onlineID)
	if err != nil {
		ou = backend.OnlineUser{LastPasswordChange: s.now()}
	}
	s.markSynced(ctx, id, ou)
	return nil
}

// PendingPasswords returns the users (objectGUIDs) whose online password
// update is waiting to be retried.
func (s *Service) PendingPasswords(ctx context.Context) ([]backend.GUID, error) {
	keys, err := s.store.List(ctx, keyPending)
	if err != nil {
		return nil, backend.WithOp(err, "accounts: pending passwords", "")
	}
	var out []backend.GUID
	for _, k := range keys {
		if g, err := backend.ParseGUID(strings.TrimPrefix(k, keyPending)); err == nil {
			out = append(out, g)
		}
	}
	return out, nil
}

// RetryPendingPasswords pushes the pending online password updates. It
// returns how many went through; those that fail again stay pending.
func (s *Service) RetryPendingPasswords(ctx context.Context) (int, error) {
	const op = "accounts: retry pending passwords"
	ids, err := s.PendingPasswords(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var firstErr error
	for _, id := range ids {
		sealed, err := s.store.Get(ctx, keyPending+id.String())
		if err != nil {
			continue
		}
		raw, err := s.sealer.Open(sealed)
		if err != nil {
			firstErr = cmpErr(firstErr, backend.WithOp(err, op, id.String()))
			continue
		}
		var p pendingPassword
		if err := json.Unmarshal(raw, &p); err != nil {
			firstErr = cmpErr(firstErr, backend.Wrap(err, backend.Unknown, op, id.String()))
			continue
		}
		if err := s.pushPassword(ctx, op, id, p.OnlineID, p.Password); err != nil {
			firstErr = cmpErr(firstErr, backend.WithOp(err, op, id.String()))
			continue
		}
		if err := s.store.Delete(ctx, keyPending+id.String()); err != nil {
			firstErr = cmpErr(firstErr, err)
		}
		n++
	}
	return n, firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("accounts: " + err.Error())
	}
	return b
}
