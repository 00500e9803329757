// Package retry is the SDK's one retry layer. Drivers classify errors and
// never retry; the portable packages (accounts, and the services built the
// same way) run every call to a driver through a [Policy], which retries
// Throttled and Unavailable errors with exponential backoff, honouring the
// service's Retry-After.
package retry

import (
	"context"
	"log/slog"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Policy bounds retries of throttled and unavailable calls. The zero value
// is usable: every zero field takes the default documented on it.
type Policy struct {
	// MaxAttempts counts the first try (default 6).
	MaxAttempts int
	// BaseDelay is the first backoff when the service gives no Retry-After
	// (default 500 ms); it doubles up to MaxDelay (default 30 s).
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Sleep waits between attempts; default a timer that honours ctx. Tests
	// inject one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives a debug record per retry; default discard.
	Logger *slog.Logger
}

// WithDefaults returns p with every zero field set to its default.
func (p Policy) WithDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 6
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.Sleep == nil {
		p.Sleep = sleepCtx
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	return p
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return backend.Wrap(ctx.Err(), backend.Canceled, "retry: wait", "")
	case <-t.C:
		return nil
	}
}

// Backoff returns how long to wait after the attempt-th failure with err:
// the Retry-After the service asked for, else BaseDelay doubled per
// attempt, capped at MaxDelay.
func (p Policy) Backoff(err error, attempt int) time.Duration {
	p = p.WithDefaults()
	if d, ok := backend.RetryAfter(err); ok && d > 0 {
		return d
	}
	d := p.BaseDelay << (attempt - 1)
	if d <= 0 || d > p.MaxDelay {
		d = p.MaxDelay
	}
	return d
}

// Do runs fn until it succeeds, fails with an error that is not retryable
// (backend.Retryable), or MaxAttempts is reached, and returns its last
// error. op and key only label the debug log.
func (p Policy) Do(ctx context.Context, op, key string, fn func() error) error {
	p = p.WithDefaults()
	var err error
	for attempt := 1; ; attempt++ {
		err = fn()
		if err == nil || !backend.Retryable(err) || attempt >= p.MaxAttempts {
			return err
		}
		wait := p.Backoff(err, attempt)
		p.Logger.DebugContext(ctx, "retrying", "op", op, "key", key, "attempt", attempt, "wait", wait, "kind", backend.KindOf(err).String())
		if serr := p.Sleep(ctx, wait); serr != nil {
			return serr
		}
	}
}

// Value is Do for a call that returns a value.
func Value[T any](ctx context.Context, p Policy, op, key string, fn func() (T, error)) (T, error) {
	var v T
	err := p.Do(ctx, op, key, func() (e error) { v, e = fn(); return })
	return v, err
}

// Items calls call on items, then again on the items whose error is
// retryable, waiting the longest Retry-After asked (or the backoff) between
// rounds, up to MaxAttempts. Items are independent: one item's failure
// never stops the others. call returns one result and one error per item,
// in order (shorter slices count as zero values).
func Items[T, R any](ctx context.Context, p Policy, op string, items []T, call func(context.Context, []T) ([]R, []error)) ([]R, []error) {
	p = p.WithDefaults()
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
			if e != nil && backend.Retryable(e) && attempt < p.MaxAttempts {
				again = append(again, i)
				if d := p.Backoff(e, attempt); d > wait {
					wait = d
				}
			}
		}
		pending = again
		if len(pending) > 0 {
			p.Logger.DebugContext(ctx, "retrying items", "op", op, "items", len(pending), "attempt", attempt, "wait", wait)
			if err := p.Sleep(ctx, wait); err != nil {
				for _, i := range pending {
					errs[i] = err
				}
				break
			}
		}
	}
	return out, errs
}
