package accounts

import (
	"context"
	"strings"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// DiscardAllPendingPasswords deletes every pending online password update
// from the Store (the sealed values are removed; nothing is pushed to the
// cloud) and returns how many it removed. Entries that cannot be opened
// (wrong sealing key, corrupt) are removed too. The integration's Disable
// uses it: once password synchronization stops, a kept update would only be
// pushed by surprise when the integration is enabled again. Each removal is
// audited.
func (s *Service) DiscardAllPendingPasswords(ctx context.Context) (int, error) {
	const op = "accounts: discard pending passwords"
	keys, err := s.store.List(ctx, keyPending)
	if err != nil {
		return 0, backend.WithOp(err, op, "")
	}
	n := 0
	for _, k := range keys {
		id := strings.TrimPrefix(k, keyPending)
		if g, err := backend.ParseGUID(id); err == nil {
			unlock := s.lockUser(g)
			err = s.store.Delete(ctx, k)
			unlock()
			s.record(ctx, ev(AuditDiscardPending, audit.SideLocal, id, ""), err)
		} else {
			err = s.store.Delete(ctx, k)
			s.record(ctx, ev(AuditDiscardPending, audit.SideLocal, id, ""), err)
		}
		if err != nil {
			return n, backend.WithOp(err, op, id)
		}
		n++
	}
	return n, nil
}
