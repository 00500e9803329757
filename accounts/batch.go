package accounts

import (
	"context"

	"github.com/essentials365/sdk/essentials365/retry"

	"github.com/essentials365/sdk/essentials365/backend"
)

// createOnline creates online users, many at a time when the tenant batches,
// retrying throttled and unavailable items. Results pair with the input.
func (s *Service) createOnline(ctx context.Context, users []backend.NewOnlineUser) ([]backend.OnlineUser, []error) {
	bt, batch := s.tenant.(backend.BatchTenant)
	return retryItems(ctx, s, "accounts: create online account", users, func(ctx context.Context, in []backend.NewOnlineUser) ([]backend.OnlineUser, []error) {
		if batch {
			return bt.CreateUsers(ctx, in)
		}
		out, errs := make([]backend.OnlineUser, len(in)), make([]error, len(in))
		for i, u := range in {
			out[i], errs[i] = s.tenant.CreateUser(ctx, u)
		}
		return out, errs
	})
}

// assignOnline applies license changes, batched when the tenant can.
func (s *Service) assignOnline(ctx context.Context, changes []backend.LicenseChange) ([]backend.OnlineUser, []error) {
	bt, batch := s.tenant.(backend.BatchTenant)
	return retryItems(ctx, s, "accounts: assign licenses", changes, func(ctx context.Context, in []backend.LicenseChange) ([]backend.OnlineUser, []error) {
		if batch {
			return bt.AssignLicensesMany(ctx, in)
		}
		out, errs := make([]backend.OnlineUser, len(in)), make([]error, len(in))
		for i, c := range in {
			out[i], errs[i] = s.tenant.AssignLicenses(ctx, c.UserID, c.Add, c.Remove)
		}
		return out, errs
	})
}

// retryItems runs call through the service's retry policy, item by item.
func retryItems[T, R any](ctx context.Context, s *Service, op string, items []T, call func(context.Context, []T) ([]R, []error)) ([]R, []error) {
	return retry.Items(ctx, s.retry, op, items, call)
}
