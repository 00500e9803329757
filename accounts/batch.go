package accounts

import (
	"context"
	"time"

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

// retryItems calls call on the items, then again on the items whose error
// is retryable, waiting the longest Retry-After asked (or the backoff)
// between rounds, up to the retry policy's attempts. Items are independent:
// one item's failure never stops the others.
func retryItems[T, R any](ctx context.Context, s *Service, op string, items []T, call func(context.Context, []T) ([]R, []error)) ([]R, []error) {
	out := make([]R, len(items))
	errs := make([]error, len(items))
	pending := make([]int, len(items))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		if err := backend.CtxErr(ctx, op); err != nil {
			for _, i := range pending {
				errs[i] = err
			}
			break
		}
		in := make([]T, len(pending))
		for k, i := range pending {
			in[k] = items[i]
		}
		res, es := call(ctx, in)
		var again []int
		var wait time.Duration
		for k, i := range pending {
			var e error
			if k < len(es) {
				e = es[k]
			}
			if k < len(res) {
				out[i] = res[k]
			}
			errs[i] = e
			if e != nil && backend.Retryable(e) && attempt < s.retry.MaxAttempts {
				again = append(again, i)
				if d := s.backoff(e, attempt); d > wait {
					wait = d
				}
			}
		}
		pending = again
		if len(pending) > 0 {
			s.log.DebugContext(ctx, "retrying items", "op", op, "items", len(pending), "attempt", attempt, "wait", wait)
			if err := s.sleep(ctx, wait); err != nil {
				for _, i := range pending {
					errs[i] = err
				}
				break
			}
		}
	}
	return out, errs
}
