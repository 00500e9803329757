package accounts_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
	"github.com/essentials365/sdk/essentials365/state"
)

// hookTenant calls onPassword before each password update it passes on.
type hookTenant struct {
	backend.Tenant
	mu         sync.Mutex
	onPassword func(n int) error
	n          int
}

func (h *hookTenant) UpdateUser(ctx context.Context, id string, upd backend.OnlineUserUpdate) error {
	if upd.Password != nil {
		h.mu.Lock()
		h.n++
		n, f := h.n, h.onPassword
		h.mu.Unlock()
		if f != nil {
			if err := f(n); err != nil {
				return err
			}
		}
	}
	return h.Tenant.UpdateUser(ctx, id, upd)
}

func unavailable() error {
	return &backend.Error{Kind: backend.Unavailable, Msg: "service unavailable"}
}

func pendingKey(t *testing.T, store state.Store, ctx context.Context) []string {
	t.Helper()
	keys, err := store.List(ctx, "accounts/pending/")
	require.NoError(t, err)
	return keys
}

// Scenario: the retry of an older pending update raced a new SetPassword
// whose cloud push failed, and deleted the entry that then held the new
// password (AD had p2, the cloud p1, nothing pending).
func TestPendingPasswordSurvivesARacingSetPassword(t *testing.T) {
	store := state.NewMemoryStore()
	e := newEnv(t, 10, func(o *accounts.Options) { o.Store = store; o.Retry.MaxAttempts = 2 })
	e.addUsers(1)
	e.bulkCreate(e3)
	ht := &hookTenant{Tenant: e.tenant}
	svc, err := accounts.New(e.dir, ht, &accounts.Options{Store: store, Now: e.clock.Now, Retry: e.retryPolicy(2)})
	require.NoError(t, err)

	ht.onPassword = func(int) error { return unavailable() }
	st, err := svc.SetPassword(e.ctx, "user001", "First-Secret-1")
	require.NoError(t, err)
	require.Equal(t, accounts.SyncPending, st)

	// The retry pushes p1; meanwhile an administrator sets p2, whose push
	// fails.
	var wg sync.WaitGroup
	ht.onPassword = func(n int) error {
		ht.mu.Lock()
		ht.onPassword = func(int) error { return unavailable() }
		ht.mu.Unlock()
		wg.Add(1)
		finished := make(chan struct{})
		go func() {
			defer wg.Done()
			defer close(finished)
			st, err := svc.SetPassword(e.ctx, "user001", "Second-Secret-2")
			assert.NoError(t, err)
			assert.Equal(t, accounts.SyncPending, st)
		}()
		select { // without per-user locking the new update lands now
		case <-finished:
		case <-time.After(200 * time.Millisecond):
		}
		return nil
	}
	n, err := svc.RetryPendingPasswords(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	wg.Wait()
	require.NoError(t, e.dir.Authenticate(e.ctx, "user001", "Second-Secret-2"), "the network has p2")
	assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "First-Secret-1"), "the cloud has p1 for now")

	pending, err := svc.PendingPasswords(e.ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1, "p2 is still pending")
	assert.Equal(t, uint64(2), pending[0].Version)
	assert.Empty(t, pending[0].Problem)

	ht.onPassword = nil
	n, err = svc.RetryPendingPasswords(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "Second-Secret-2"), "p2 reached the cloud")
	assert.Empty(t, pendingKey(t, store, e.ctx))
}

func (e *env) retryPolicy(attempts int) retry.Policy {
	return retry.Policy{MaxAttempts: attempts, Sleep: e.clock.Sleep}
}

// Scenario: an old sealed file written back rolled the cloud password
// back; user A's blob under user B's key was accepted and pushed.
func TestPendingPasswordReplayedOrMovedIsRefused(t *testing.T) {
	store := state.NewMemoryStore()
	e := newEnv(t, 10, func(o *accounts.Options) { o.Store = store })
	e.addUsers(2)
	e.bulkCreate(e3)
	keyOf := func(sam string) string { return "accounts/pending/" + e.user(sam).ID.String() }

	e.tenant.FailNext("UpdateUser", 100, unavailable())
	_, err := e.svc.SetPassword(e.ctx, "user001", "Old-Secret-1a")
	require.NoError(t, err)
	old, err := store.Get(e.ctx, keyOf("user001"))
	require.NoError(t, err)
	assert.NotContains(t, string(old), "Old-Secret-1a", "sealed, never in clear")

	t.Run("an older update written back after a newer one synced", func(t *testing.T) {
		e.tenant.ClearFaults()
		st, err := e.svc.SetPassword(e.ctx, "user001", "New-Secret-2b")
		require.NoError(t, err)
		require.Equal(t, accounts.SyncSynced, st)
		require.Empty(t, pendingKey(t, store, e.ctx))
		require.NoError(t, store.Put(e.ctx, keyOf("user001"), old))
		_, err = e.svc.RetryPendingPasswords(e.ctx)
		require.NoError(t, err)
		assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "New-Secret-2b"), "never rolled back")
		assert.Empty(t, pendingKey(t, store, e.ctx), "the obsolete entry is dropped")
	})

	t.Run("an older update written back over a newer pending one", func(t *testing.T) {
		e.tenant.FailNext("UpdateUser", 100, unavailable())
		_, err := e.svc.SetPassword(e.ctx, "user001", "Third-Secret-3c")
		require.NoError(t, err)
		require.NoError(t, store.Put(e.ctx, keyOf("user001"), old))
		e.tenant.ClearFaults()
		n, err := e.svc.RetryPendingPasswords(e.ctx)
		require.ErrorIs(t, err, backend.ErrFailedPrecondition)
		assert.Equal(t, accounts.ReasonPendingUnreadable, backend.ReasonOf(err))
		assert.Zero(t, n)
		assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "New-Secret-2b"), "the replayed password was not pushed")
		pending, err := e.svc.PendingPasswords(e.ctx)
		require.NoError(t, err)
		require.Len(t, pending, 1)
		assert.Equal(t, accounts.ReasonPendingUnreadable, pending[0].Problem)
		require.NoError(t, e.svc.DiscardPendingPassword(e.ctx, "user001"))
	})

	t.Run("user A's sealed value under user B's key", func(t *testing.T) {
		e.tenant.FailNext("UpdateUser", 100, unavailable())
		_, err := e.svc.SetPassword(e.ctx, "user001", "Alice-Secret-4d")
		require.NoError(t, err)
		_, err = e.svc.SetPassword(e.ctx, "user002", "Bob-Secret-4e")
		require.NoError(t, err)
		e.tenant.ClearFaults()
		var a, b map[string]any
		raw, err := store.Get(e.ctx, keyOf("user001"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &a))
		raw, err = store.Get(e.ctx, keyOf("user002"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &b))
		b["sealed"] = a["sealed"] // B's entry, A's password
		moved, _ := json.Marshal(b)
		require.NoError(t, store.Put(e.ctx, keyOf("user002"), moved))

		rep, err := e.svc.Reconcile(e.ctx, nil)
		require.ErrorIs(t, err, backend.ErrFailedPrecondition, "never only logged")
		assert.Equal(t, accounts.ReasonPendingUnreadable, backend.ReasonOf(err))
		assert.Equal(t, 1, rep.PasswordsRetried, "user001's own update went through")
		assert.Equal(t, 1, rep.PasswordFailures)
		assert.False(t, e.tenant.CheckPassword("user002@contoso.com", "Alice-Secret-4d"), "A's password never reaches B")
		assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "Alice-Secret-4d"))
	})
}

// Scenario: with a corrupt pending file or a wrong sealing key, Reconcile
// returned nil and the failure only reached a warn log.
func TestPendingPasswordWrongKeyOrCorruptIsReported(t *testing.T) {
	for _, tc := range []string{"wrong key", "corrupt entry"} {
		t.Run(tc, func(t *testing.T) {
			store := state.NewMemoryStore()
			keyA, _ := state.NewAESSealer([]byte(strings.Repeat("a", 32)))
			e := newEnv(t, 10, func(o *accounts.Options) { o.Store = store; o.Sealer = keyA })
			e.addUsers(1)
			e.bulkCreate(e3)
			_, err := e.svc.Reconcile(e.ctx, nil)
			require.NoError(t, err)
			e.tenant.FailNext("UpdateUser", 100, unavailable())
			st, err := e.svc.SetPassword(e.ctx, "user001", "Kept-Secret-5f")
			require.NoError(t, err)
			require.Equal(t, accounts.SyncPending, st)
			e.tenant.ClearFaults()
			svc := e.svc
			if tc == "wrong key" {
				keyB, _ := state.NewAESSealer([]byte(strings.Repeat("b", 32)))
				svc = e.restart(store, func(o *accounts.Options) { o.Sealer = keyB })
			} else {
				keys := pendingKey(t, store, e.ctx)
				require.NoError(t, store.Put(e.ctx, keys[0], []byte("{not json")))
			}
			rep, err := svc.Reconcile(e.ctx, nil)
			require.Error(t, err)
			assert.Equal(t, accounts.ReasonPendingUnreadable, backend.ReasonOf(err))
			assert.Equal(t, 1, rep.PasswordFailures)
			assert.Zero(t, rep.PasswordsRetried)
			pending, err := svc.PendingPasswords(e.ctx)
			require.NoError(t, err)
			require.Len(t, pending, 1, "the entry is kept for inspection")
			st2, err := svc.Status(e.ctx, "user001")
			require.NoError(t, err)
			assert.True(t, st2.PasswordPending, "Status agrees with PendingPasswords")
		})
	}
}

// Scenario: a pending update for an online account deleted in the portal
// was retried for ever, Status said nothing was pending while
// PendingPasswords listed it, and nothing could drop it; a permission
// error reported "pending" with no error.
func TestPendingPasswordForADeletedAccount(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)
	require.NoError(t, e.tenant.DeleteUser(e.ctx, "user001@contoso.com")) // in the portal

	st, err := e.svc.SetPassword(e.ctx, "user001", "After-Delete-6g")
	require.ErrorIs(t, err, backend.ErrNotFound)
	assert.Equal(t, accounts.ReasonPendingStuck, backend.ReasonOf(err))
	assert.Contains(t, err.Error(), "DiscardPendingPassword")
	assert.Equal(t, accounts.SyncPending, st)

	e.clock.Advance(3 * time.Hour)
	_, err = e.svc.RetryPendingPasswords(e.ctx)
	require.ErrorIs(t, err, backend.ErrNotFound, "a failure retrying cannot fix is an error")
	pending, err := e.svc.PendingPasswords(e.ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, "user001", pending[0].User)
	assert.Equal(t, 2, pending[0].Attempts)
	assert.Equal(t, 3*time.Hour, pending[0].Age)
	assert.Contains(t, pending[0].LastError, "does not exist")

	status, err := e.svc.Status(e.ctx, "user001")
	require.NoError(t, err)
	assert.True(t, status.PasswordPending, "Status agrees with PendingPasswords")
	assert.Contains(t, status.Advice, "DiscardPendingPassword")

	require.NoError(t, e.svc.DiscardPendingPassword(e.ctx, "user001"))
	pending, err = e.svc.PendingPasswords(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)
	status, err = e.svc.Status(e.ctx, "user001")
	require.NoError(t, err)
	assert.False(t, status.PasswordPending)
	require.ErrorIs(t, e.svc.DiscardPendingPassword(e.ctx, "user001"), backend.ErrNotFound)
}

func TestPendingPasswordPermissionErrorIsAnError(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)
	e.tenant.FailNext("UpdateUser", 1, &backend.Error{Kind: backend.PermissionDenied, Msg: "Insufficient privileges"})
	st, err := e.svc.SetPassword(e.ctx, "user001", "Denied-Secret-7h")
	require.ErrorIs(t, err, backend.ErrPermissionDenied)
	assert.Equal(t, accounts.SyncPending, st, "kept, so it is not lost")
	n, err := e.svc.RetryPendingPasswords(e.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "once the permission is fixed it goes through")
	assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "Denied-Secret-7h"))
}

// A process killed while the cloud push is in flight leaves the update
// pending: the entry is written before the push, and removed after it.
func TestPendingPasswordIsWrittenAheadOfThePush(t *testing.T) {
	store := state.NewMemoryStore()
	e := newEnv(t, 10, func(o *accounts.Options) { o.Store = store })
	e.addUsers(1)
	e.bulkCreate(e3)
	ht := &hookTenant{Tenant: e.tenant}
	svc, err := accounts.New(e.dir, ht, &accounts.Options{Store: store, Now: e.clock.Now, Retry: e.retryPolicy(2)})
	require.NoError(t, err)
	var during []string
	ht.onPassword = func(int) error {
		during = pendingKey(t, store, e.ctx)
		return nil
	}
	st, err := svc.SetPassword(e.ctx, "user001", "Ahead-Secret-9m")
	require.NoError(t, err)
	assert.Equal(t, accounts.SyncSynced, st)
	assert.Len(t, during, 1, "the update is kept while the push is in flight")
	assert.Empty(t, pendingKey(t, store, e.ctx), "and dropped once the cloud has it")
}
