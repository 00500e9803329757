package graphtenant

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/essentials365/sdk/essentials365/backend/pacer"

	"github.com/essentials365/sdk/essentials365/retry"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// faultyOptions makes the emulator fail 20% of writes and batch items
// with 429s, 503s and connection resets (before and after the write ran).
func faultyOptions(seed uint64) *m365emulator.Options {
	return &m365emulator.Options{
		Seed:           seed,
		ShuffleBatch:   true,
		ZeroRetryAfter: true,
		Faults: &m365emulator.Faults{
			Rate: 0.2,
			Kinds: []m365emulator.FaultKind{
				m365emulator.FaultThrottle, m365emulator.FaultUnavailable,
				m365emulator.FaultReset, m365emulator.FaultResetAfter,
			},
			Writes: true, BatchItems: true,
			RetryAfter: time.Millisecond,
		},
	}
}

// retryWait sleeps what a retryable error asks for, a little at most.
func retryWait(ctx context.Context, errs []error) {
	var d time.Duration
	for _, err := range errs {
		if w, ok := backend.RetryAfter(err); ok && w > d {
			d = w
		}
	}
	d = min(max(d, time.Millisecond), 50*time.Millisecond)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// TestBulkCreateUnderFaults creates and licenses 1,000 accounts through
// batches while the emulator fails 20% of writes, with the simple retry
// loop the portable layer runs: retry only what backend.Retryable says,
// and after a retried create answers AlreadyExists, accept the user found
// by UPN when its ImmutableID is ours.
func TestBulkCreateUnderFaults(t *testing.T) {
	const n = 1000
	e := newEmulated(t, n, faultyOptions(7), func(c *Config) {
		c.RateLimit = pacer.Config{Quota: 3000, Window: 150 * time.Millisecond} // Graph's quota, 1,000 times faster
	})
	ctx := t.Context()
	want := make([]backend.NewOnlineUser, n)
	for i := range want {
		want[i] = backend.NewOnlineUser{
			UserPrincipalName: fmt.Sprintf("user%04d@%s", i, testDomain),
			DisplayName:       fmt.Sprintf("User %04d", i),
			UsageLocation:     "FR",
			Password:          "Bulk!Passw0rd",
			ImmutableID:       backend.NewGUID().ImmutableID(),
		}
	}

	created := make([]backend.OnlineUser, n)
	tried := make([]bool, n)
	pending := make([]int, n)
	for i := range pending {
		pending[i] = i
	}
	rounds := 0
	for ; len(pending) > 0 && rounds < 100; rounds++ {
		in := make([]backend.NewOnlineUser, len(pending))
		for k, i := range pending {
			in[k] = want[i]
		}
		out, errs := e.driver.CreateUsers(ctx, in)
		var next []int
		var retry []error
		for k, i := range pending {
			err := errs[k]
			switch {
			case err == nil:
				created[i] = out[k]
			case backend.Retryable(err):
				next, retry = append(next, i), append(retry, err)
			case tried[i] && errors.Is(err, backend.ErrAlreadyExists):
				// An earlier attempt ran but its answer was lost.
				u, gerr := e.driver.GetUser(ctx, want[i].UserPrincipalName)
				require.NoError(t, gerr)
				require.Equal(t, want[i].ImmutableID, u.ImmutableID, "a user we did not create holds %s", want[i].UserPrincipalName)
				created[i] = u
			default:
				require.NoError(t, err, "user %d, attempt %d", i, rounds)
			}
			tried[i] = true
		}
		pending = next
		if len(pending) > 0 {
			retryWait(ctx, retry)
		}
	}
	require.Empty(t, pending, "creates still failing after %d rounds", rounds)
	createRounds := rounds

	licensed := make([]bool, n)
	pending = pending[:0]
	for i := range n {
		require.NotEmpty(t, created[i].ID)
		pending = append(pending, i)
	}
	for rounds = 0; len(pending) > 0 && rounds < 100; rounds++ {
		changes := make([]backend.LicenseChange, len(pending))
		for k, i := range pending {
			changes[k] = backend.LicenseChange{UserID: created[i].ID, Add: []backend.LicenseAssignment{{SKUID: e.sku.SKUID}}}
		}
		out, errs := e.driver.AssignLicensesMany(ctx, changes)
		var next []int
		var retry []error
		for k, i := range pending {
			switch err := errs[k]; {
			case err == nil:
				assert.True(t, out[k].Licensed())
				licensed[i] = true
			case backend.Retryable(err):
				next, retry = append(next, i), append(retry, err)
			default:
				require.NoError(t, err, "license %d, attempt %d", i, rounds)
			}
		}
		pending = next
		if len(pending) > 0 {
			retryWait(ctx, retry)
		}
	}
	require.Empty(t, pending, "license assignments still failing after %d rounds", rounds)

	// Every account exists exactly once, and each holds one seat.
	var live int
	for u, err := range e.mem.ListUsers(context.Background()) {
		require.NoError(t, err)
		live++
		assert.True(t, u.Licensed(), u.UserPrincipalName)
	}
	assert.Equal(t, n, live)
	deleted, err := e.mem.ListDeletedUsers(context.Background())
	require.NoError(t, err)
	assert.Empty(t, deleted)
	for i := range n {
		u, err := e.mem.GetUserByImmutableID(context.Background(), want[i].ImmutableID)
		require.NoError(t, err)
		assert.Equal(t, want[i].UserPrincipalName, u.UserPrincipalName)
		assert.Equal(t, created[i].ID, u.ID)
	}
	skus, err := e.mem.SubscribedSKUs(context.Background())
	require.NoError(t, err)
	require.Len(t, skus, 1)
	assert.Equal(t, n, skus[0].Consumed)

	st := e.server.Stats()
	t.Logf("create rounds %d, license rounds %d; emulator: %d requests, %d batch items, %d throttled, %d unavailable, %d resets; limiter: %+v",
		createRounds, rounds, st.Requests, st.BatchItems, st.Throttled, st.Unavailable, st.Resets, e.driver.RateLimiter().Stats())
	assert.Positive(t, st.Throttled)
	assert.Positive(t, st.Unavailable)
	assert.Positive(t, st.Resets)
	assert.Greater(t, createRounds, 1)
}

// TestBulkCreateUnderFaultsThroughAccounts runs the same scenario through
// the portable layer: accounts' bulk create over a memory directory of
// 1,000 users and this driver, with the emulator failing 20% of writes.
// Items that exhaust accounts' retries are completed by running the bulk
// create again, as its documentation says.
func TestBulkCreateUnderFaultsThroughAccounts(t *testing.T) {
	const n = 1000
	e := newEmulated(t, n, faultyOptions(11), func(c *Config) {
		c.RateLimit = pacer.Config{Quota: 3000, Window: 150 * time.Millisecond}
	})
	ctx := t.Context()
	dir := memory.NewDirectory(&memory.DirectoryOptions{DNSName: "contoso.local", Now: e.clock.Now})
	for i := range n {
		_, err := dir.CreateUser(ctx, backend.NewDirectoryUser{
			SAMAccountName:    fmt.Sprintf("user%04d", i),
			UserPrincipalName: fmt.Sprintf("user%04d@contoso.local", i),
			DisplayName:       fmt.Sprintf("User %04d", i),
			GivenName:         "User", Surname: fmt.Sprintf("N%04d", i),
			Password: "Dir!Passw0rd",
		})
		require.NoError(t, err)
	}
	svc, err := accounts.New(dir, e.driver, &accounts.Options{
		UsageLocation: "FR",
		Retry: retry.Policy{MaxAttempts: 8, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, Sleep: func(ctx context.Context, d time.Duration) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(min(d, 20*time.Millisecond)):
				return nil
			}
		}},
	})
	require.NoError(t, err)

	runs := 0
	for ; runs < 10; runs++ {
		plan, err := svc.PlanBulkCreate(ctx, nil)
		require.NoError(t, err)
		selected := 0
		for _, it := range plan.Items {
			require.Empty(t, it.Problem, "%s: %s", it.SAMAccountName, it.Detail)
			if it.Selected {
				selected++
			}
		}
		if selected == 0 {
			break
		}
		res, err := svc.ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{{SKU: e.sku.SKUID}}})
		require.NoError(t, err)
		for _, f := range res.Failures() {
			assert.True(t, backend.Retryable(f.Err), "only transient failures may remain: %s %s %v", f.User, f.Kind, f.Err)
		}
		t.Logf("run %d: %d done, %d failed", runs+1, res.Done, res.Failed)
	}
	require.Less(t, runs, 10, "accounts left without an online account")

	var live int
	for u, err := range e.mem.ListUsers(context.Background()) {
		require.NoError(t, err)
		live++
		assert.True(t, u.Licensed(), u.UserPrincipalName)
	}
	assert.Equal(t, n, live, "every account created exactly once")
	skus, err := e.mem.SubscribedSKUs(context.Background())
	require.NoError(t, err)
	assert.Equal(t, n, skus[0].Consumed)
	for du, err := range dir.ListUsers(context.Background()) {
		require.NoError(t, err)
		m, err := accounts.ParseMapping(du.OnlineAccount)
		require.NoError(t, err, du.SAMAccountName)
		ou, err := e.mem.GetUserByImmutableID(context.Background(), du.ID.ImmutableID())
		require.NoError(t, err, du.SAMAccountName)
		assert.Equal(t, ou.ID, m.ID)
	}
	st := e.server.Stats()
	assert.Positive(t, st.Throttled+st.Unavailable+st.Resets)
}
