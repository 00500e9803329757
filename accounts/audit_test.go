package accounts_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// countWrites counts the write calls a memory driver recorded.
func countWrites(calls []memory.Call) int {
	n := 0
	for _, c := range calls {
		if writeOps[c.Op] {
			n++
		}
	}
	return n
}

// Scenario: creates, licence changes, disables and deletions were not
// logged or observable.
func TestEveryWriteIsAudited(t *testing.T) {
	rec := &audit.Recorder{}
	var logs bytes.Buffer
	e := newEnv(t, 10, func(o *accounts.Options) {
		o.Audit = rec.Hook()
		o.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	e.addUsers(3)
	e.cloudUsers("bob@contoso.com")
	e.dir.ResetCalls()
	e.tenant.ResetCalls()

	e.bulkCreate(e3)
	_, err := e.svc.SetPassword(e.ctx, "user001", "Audit-Secret-1x")
	require.NoError(t, err)
	e.tenant.FailNext("UpdateUser", 10, unavailable())
	st, err := e.svc.SetPassword(e.ctx, "user002", "Audit-Secret-2y")
	require.NoError(t, err)
	require.Equal(t, accounts.SyncPending, st)
	e.tenant.ClearFaults()
	require.NoError(t, e.svc.SetLicenses(e.ctx, "user001", []accounts.LicenseChoice{{SKU: "EXCHANGESTANDARD"}}, []string{"ENTERPRISEPACK"}))
	require.NoError(t, e.svc.Disable(e.ctx, "user001"))
	require.NoError(t, e.svc.Enable(e.ctx, "user001"))
	require.NoError(t, e.svc.Unassign(e.ctx, "user003"))
	_, err = e.svc.Assign(e.ctx, "user003", accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	_, err = e.svc.CreateUser(e.ctx, accounts.NewUser{SAMAccountName: "dave", Password: "Sunny-Day-42", Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}}})
	require.NoError(t, err)
	plan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	_, err = e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordDir: t.TempDir()})
	require.NoError(t, err)
	_, err = e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	require.NoError(t, e.svc.Delete(e.ctx, "user001"))
	_, err = e.svc.Restore(e.ctx, "user001@contoso.com", &accounts.RestoreOptions{User: "user002"})
	require.ErrorIs(t, err, backend.ErrInvalidArgument, "user002 has its own account")

	sides := map[audit.Side]int{}
	for _, ev := range rec.Events() {
		sides[ev.Side]++
		assert.Equal(t, audit.Version, ev.Version)
		assert.Equal(t, "accounts", ev.Package)
		assert.NotEmpty(t, ev.Op)
		assert.NotEmpty(t, ev.Outcome)
		assert.False(t, ev.Time.IsZero())
		b, _ := json.Marshal(ev)
		for _, secret := range []string{"Audit-Secret-1x", "Audit-Secret-2y", "Sunny-Day-42", "Temporary password"} {
			assert.NotContains(t, string(b), secret, "an event never holds a secret")
		}
	}
	// Every attempted write to a driver is one event; a failed attempt that
	// was retried counts once per call made.
	assert.Equal(t, countWrites(e.dir.Calls()), sides[audit.SideDirectory], "one event per directory write")
	assert.Equal(t, countWrites(e.tenant.Calls())-5, sides[audit.SideTenant], "one event per tenant write (the failed push was tried 6 times inside one event)")
	assert.Positive(t, sides[audit.SideLocal])
	for _, secret := range []string{"Audit-Secret-1x", "Audit-Secret-2y", "Sunny-Day-42"} {
		assert.NotContains(t, logs.String(), secret, "the log never holds a secret")
	}
	assert.Contains(t, logs.String(), `"msg":"audit"`)
	var deferred int
	for _, ev := range rec.Events() {
		if ev.Op == accounts.AuditPushPassword && ev.Outcome == audit.OutcomeDeferred {
			deferred++
			assert.Equal(t, "user002", ev.User)
			assert.Equal(t, "unavailable", ev.Kind)
		}
	}
	assert.Equal(t, 1, deferred)
}

// Scenario: aliases were added and removed in Exchange Online without an
// audit event, unlike every other write of the package.
func TestAliasWritesAreAudited(t *testing.T) {
	rec := &audit.Recorder{}
	e := newEnv(t, 10, func(o *accounts.Options) { o.Audit = rec.Hook() })
	e.addUsers(2)
	e.bulkCreate(e3)
	before := len(rec.Events())

	require.NoError(t, e.svc.AddAlias(e.ctx, "user001", "Sales@Contoso.com"))
	err := e.svc.AddAlias(e.ctx, "user002", "sales@contoso.com")
	require.ErrorIs(t, err, backend.ErrAlreadyExists)
	require.ErrorIs(t, e.svc.AddAlias(e.ctx, "user002", "bad address"), backend.ErrInvalidArgument)
	require.NoError(t, e.svc.RemoveAlias(e.ctx, "user001", " SALES@contoso.com "))

	events := rec.Events()[before:]
	require.Len(t, events, 3, "one event per alias write sent to Exchange; an address refused before any write has none")
	want := []struct {
		op, user, onlineID string
		outcome            audit.Outcome
		kind               string
	}{
		{accounts.AuditAddAlias, "user001", "user001@contoso.com", audit.OutcomeSucceeded, ""},
		{accounts.AuditAddAlias, "user002", "user002@contoso.com", audit.OutcomeFailed, "already exists"},
		{accounts.AuditRemoveAlias, "user001", "user001@contoso.com", audit.OutcomeSucceeded, ""},
	}
	for i, w := range want {
		ev := events[i]
		assert.Equal(t, w.op, ev.Op, "event %d", i)
		assert.Equal(t, audit.SideExchange, ev.Side, "event %d", i)
		assert.Equal(t, "accounts", ev.Package)
		assert.Equal(t, w.user, ev.User, "event %d", i)
		assert.Equal(t, w.onlineID, ev.OnlineID, "event %d", i)
		assert.Equal(t, "sales@contoso.com", ev.Target, "event %d: the address written", i)
		assert.Equal(t, w.outcome, ev.Outcome, "event %d", i)
		assert.Equal(t, w.kind, ev.Kind, "event %d", i)
	}
}
