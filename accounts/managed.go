package accounts

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// Keys of the local state, namespaced by package.
const (
	keyDirWatermark = "accounts/watermark/directory"
	keyManaged      = "accounts/managed/"
	keySync         = "accounts/sync/"
	keyPending      = "accounts/pending/"
	keyPwVersion    = "accounts/pwversion/"
	keyCreating     = "accounts/creating/"
)

// managedRecord is the local proof that the SDK manages an online account:
// written when the SDK links the account to a user of this directory, it
// outlives the user, so a reconcile can tell an account whose user was
// deleted (managed: deleted too) from one anchored to a user of another
// directory (not managed: never touched).
type managedRecord struct {
	User         string `json:"user"`
	OnlineUserID string `json:"onlineUserId"`
	OnlineID     string `json:"onlineId"`
}

// recordManaged writes the managed record of u's online account.
func (s *Service) recordManaged(ctx context.Context, op string, u backend.DirectoryUser, ou backend.OnlineUser) error {
	b, _ := json.Marshal(managedRecord{User: u.SAMAccountName, OnlineUserID: ou.ID, OnlineID: ou.UserPrincipalName})
	err := s.store.Put(ctx, keyManaged+u.ID.String(), b)
	s.record(ctx, ev(AuditRecordManaged, audit.SideLocal, u.SAMAccountName, ou.UserPrincipalName), err)
	return backend.WithOp(err, op, u.SAMAccountName)
}

// forgetManaged removes the managed record of user id.
func (s *Service) forgetManaged(ctx context.Context, op string, id backend.GUID, user, onlineID string) error {
	err := s.store.Delete(ctx, keyManaged+id.String())
	s.record(ctx, ev(AuditForgetManaged, audit.SideLocal, user, onlineID), err)
	return backend.WithOp(err, op, user)
}

// managedRecords reads every managed record. An entry that cannot be read
// is an error: the state never silently shrinks.
func (s *Service) managedRecords(ctx context.Context, op string) (map[backend.GUID]managedRecord, error) {
	keys, err := s.store.List(ctx, keyManaged)
	if err != nil {
		return nil, backend.WithOp(err, op, keyManaged)
	}
	out := make(map[backend.GUID]managedRecord, len(keys))
	for _, k := range keys {
		g, err := backend.ParseGUID(strings.TrimPrefix(k, keyManaged))
		if err != nil {
			return nil, stateCorrupt(op, k, err)
		}
		b, err := s.store.Get(ctx, k)
		if err != nil {
			if backend.KindOf(err) == backend.NotFound {
				continue // removed since the listing
			}
			return nil, backend.WithOp(err, op, k)
		}
		var r managedRecord
		if err := json.Unmarshal(b, &r); err != nil || r.OnlineUserID == "" {
			return nil, stateCorrupt(op, k, err)
		}
		out[g] = r
	}
	return out, nil
}

// stateCorrupt is the error for an entry of the local state that cannot be
// read.
func stateCorrupt(op, key string, cause error) error {
	return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: key, Reason: ReasonStateCorrupt, Err: cause,
		Msg: "this entry of the local state is empty or corrupt; nothing was changed: restore the state directory from a backup, " +
			"or remove the entry and run again (a removed watermark makes the next reconcile a first run, which deletes nothing)"}
}
