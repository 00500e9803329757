package accounts

import (
	"context"

	"github.com/essentials365/sdk/essentials365/backend"
)

// DiscardAllPendingPasswords deletes every pending online password update
// from the Store (the sealed values are removed; nothing is pushed to the
// cloud) and returns how many it removed. The integration's Disable uses
// it: once password synchronization stops, a kept update would only be
// pushed by surprise when the integration is enabled again.
func (s *Service) DiscardAllPendingPasswords(ctx context.Context) (int, error) {
	const op = "accounts: discard pending passwords"
	ids, err := s.PendingPasswords(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if err := s.store.Delete(ctx, keyPending+id.String()); err != nil {
			return n, backend.WithOp(err, op, id.String())
		}
		n++
	}
	return n, nil
}
