package groupstest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
	"github.com/essentials365/sdk/groups"
	"github.com/essentials365/sdk/internal/testclock"
)

const password = "Fl0ws!Passw0rd"

// RunFlows runs the seed's distribution-group operations and the address
// operations, with their bad input, over h.
func RunFlows(t *testing.T, h Harness) {
	t.Run("NoExchangeOnline", func(t *testing.T) { flowNoExchange(t, h) })
	t.Run("CreateWithMembersAndNestedGroup", func(t *testing.T) { flowCreate(t, h) })
	t.Run("CreateRefusesBadInput", func(t *testing.T) { flowCreateBadInput(t, h) })
	t.Run("ExternalSenders", func(t *testing.T) { flowExternalSenders(t, h) })
	t.Run("ChangeMembers", func(t *testing.T) { flowChangeMembers(t, h) })
	t.Run("NestingCycles", func(t *testing.T) { flowCycles(t, h) })
	t.Run("UserMemberships", func(t *testing.T) { flowMemberships(t, h) })
	t.Run("DeleteGroup", func(t *testing.T) { flowDelete(t, h) })
	t.Run("Addresses", func(t *testing.T) { flowAddresses(t, h) })
	t.Run("ThrottledTenant", func(t *testing.T) { flowThrottled(t, h) })
	t.Run("PartialFailureAndRerun", func(t *testing.T) { flowPartial(t, h) })
}

// env is one flow's service and its audit recorder.
type env struct {
	ctx   context.Context
	f     Fixture
	svc   *groups.Service
	audit *audit.Recorder
	clock *testclock.Clock
}

func newEnv(t *testing.T, h Harness, exchange bool) *env {
	t.Helper()
	ctx := t.Context()
	f := h.MakeGroups(ctx, t, exchange)
	clk := testclock.New()
	rec := &audit.Recorder{}
	svc, err := groups.New(f.Tenant, f.Exchange, &groups.Options{
		Now: clk.Now, Audit: rec.Hook(), Retry: retry.Policy{Sleep: clk.Sleep},
	})
	require.NoError(t, err)
	return &env{ctx: ctx, f: f, svc: svc, audit: rec, clock: clk}
}

// user creates an online user; with sku it is licensed.
func (e *env) user(t *testing.T, local, sku string, enabled bool) backend.OnlineUser {
	t.Helper()
	u, err := e.f.Tenant.CreateUser(e.ctx, backend.NewOnlineUser{
		UserPrincipalName: local + "@" + e.f.VerifiedDomain, DisplayName: local, UsageLocation: "FR",
		Password: password, Disabled: !enabled,
	})
	require.NoError(t, err)
	if sku != "" {
		u, err = e.f.Tenant.AssignLicenses(e.ctx, u.ID, []backend.LicenseAssignment{{SKUID: sku}}, nil)
		require.NoError(t, err)
	}
	return u
}

// mailbox creates an active user with a mailbox.
func (e *env) mailbox(t *testing.T, local string) backend.OnlineUser {
	return e.user(t, local, e.f.MailboxSKU, true)
}

func (e *env) create(t *testing.T, name, alias string, members ...string) backend.DistributionGroup {
	t.Helper()
	g, err := e.svc.Create(e.ctx, groups.NewGroup{Name: name, Alias: alias, Description: "The " + name, Members: members})
	require.NoError(t, err)
	return g
}

func addresses(rs []backend.Recipient) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, strings.ToLower(r.PrimaryAddress))
	}
	slices.Sort(out)
	return out
}

func (e *env) addr(local string) string { return local + "@" + e.f.VerifiedDomain }

func requireKind(t *testing.T, err error, kind backend.Kind, reason backend.Reason) {
	t.Helper()
	require.Error(t, err, "want kind %v", kind)
	require.Equal(t, kind, backend.KindOf(err), "%v", err)
	require.ErrorIs(t, err, kind.Sentinel())
	if reason != "" {
		require.Equal(t, reason, backend.ReasonOf(err), "%v", err)
	}
}

func (e *env) groupNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for g, err := range e.f.Exchange.ListGroups(e.ctx) {
		require.NoError(t, err)
		names = append(names, g.Name)
	}
	slices.Sort(names)
	return names
}

func flowNoExchange(t *testing.T, h Harness) {
	e := newEnv(t, h, false)
	u := e.user(t, "ann", e.f.PlainSKU, true)
	on := true
	calls := map[string]func() error{
		"Available": func() error { return e.svc.Available(e.ctx) },
		"Create": func() error {
			_, err := e.svc.Create(e.ctx, groups.NewGroup{Name: "Sales", Alias: "sales", Members: []string{u.UserPrincipalName}})
			return err
		},
		"List":              func() error { _, err := e.svc.List(e.ctx); return err },
		"Get":               func() error { _, err := e.svc.Get(e.ctx, "Sales"); return err },
		"Update":            func() error { return e.svc.Update(e.ctx, "Sales", groups.Update{ExternalSendersAllowed: &on}) },
		"Members":           func() error { _, err := e.svc.Members(e.ctx, "Sales"); return err },
		"EffectiveMembers":  func() error { _, err := e.svc.EffectiveMembers(e.ctx, "Sales"); return err },
		"ChangeMembers":     func() error { return e.svc.ChangeMembers(e.ctx, "Sales", []string{u.UserPrincipalName}, nil) },
		"Memberships":       func() error { _, err := e.svc.Memberships(e.ctx, u.UserPrincipalName); return err },
		"ChangeMemberships": func() error { return e.svc.ChangeMemberships(e.ctx, u.UserPrincipalName, []string{"Sales"}, nil) },
		"Delete":            func() error { return e.svc.Delete(e.ctx, "Sales") },
		"Addresses":         func() error { _, err := e.svc.Addresses(e.ctx, u.UserPrincipalName); return err },
		"AddAddress":        func() error { return e.svc.AddAddress(e.ctx, u.UserPrincipalName, e.addr("info")) },
		"RemoveAddress":     func() error { return e.svc.RemoveAddress(e.ctx, u.UserPrincipalName, e.addr("info")) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			requireKind(t, err, backend.FailedPrecondition, groups.ReasonNoExchangeOnline)
			assert.Contains(t, err.Error(), "Exchange Online")
		})
	}
	assert.Empty(t, e.audit.Events(), "nothing was written")
}

func flowCreate(t *testing.T, h Harness) {
	e := newEnv(t, h, true)
	ann, bob, cid := e.mailbox(t, "ann"), e.mailbox(t, "bob"), e.mailbox(t, "cid")
	require.NoError(t, e.svc.Available(e.ctx))

	sales := e.create(t, "Sales", "sales", ann.UserPrincipalName, bob.UserPrincipalName)
	assert.Equal(t, e.addr("sales"), strings.ToLower(sales.PrimaryAddress), "alias@the default domain")
	assert.True(t, sales.ExternalSendersAllowed, "by default a group receives mail from outside, as the seed says")
	assert.Equal(t, "The Sales", sales.Description)

	all := e.create(t, "Everyone", "everyone", cid.UserPrincipalName, "Sales")
	direct, err := e.svc.Members(e.ctx, "Everyone")
	require.NoError(t, err)
	assert.Equal(t, []string{e.addr("cid"), e.addr("sales")}, addresses(direct), "direct members: a user and a nested group")
	eff, err := e.svc.EffectiveMembers(e.ctx, all.PrimaryAddress)
	require.NoError(t, err)
	assert.Equal(t, []string{e.addr("ann"), e.addr("bob"), e.addr("cid")}, addresses(eff), "the nested group's users are flattened")

	var ops []string
	for _, ev := range e.audit.Events() {
		assert.Equal(t, audit.SideExchange, ev.Side)
		assert.Equal(t, audit.OutcomeSucceeded, ev.Outcome)
		ops = append(ops, ev.Op+" "+ev.Target)
	}
	assert.Equal(t, []string{
		"create-group Sales", "add-member Sales", "add-member Sales",
		"create-group Everyone", "add-member Everyone", "add-member Everyone",
	}, ops, "every write is audited once")
}

func flowCreateBadInput(t *testing.T, h Harness) {
	e := newEnv(t, h, true)
	ann := e.mailbox(t, "ann")
	blocked := e.user(t, "blocked", e.f.MailboxSKU, false)
	unlicensed := e.user(t, "nolic", "", true)
	noMailbox := e.user(t, "nombx", e.f.PlainSKU, true)
	e.create(t, "Sales", "sales")
	require.NoError(t, e.svc.AddAddress(e.ctx, ann.UserPrincipalName, e.addr("info")))
	before := len(e.audit.Events())

	tests := []struct {
		name   string
		ng     groups.NewGroup
		kind   backend.Kind
		reason backend.Reason
	}{
		{"no name", groups.NewGroup{Alias: "x"}, backend.InvalidArgument, groups.ReasonNameRequired},
		{"no alias", groups.NewGroup{Name: "X"}, backend.InvalidArgument, groups.ReasonNameRequired},
		{"alias with a space", groups.NewGroup{Name: "X", Alias: "the team"}, backend.InvalidArgument, backend.ReasonAliasSyntax},
		{"alias ending with a period", groups.NewGroup{Name: "X", Alias: "team."}, backend.InvalidArgument, backend.ReasonAliasSyntax},
		{"unverified domain", groups.NewGroup{Name: "X", Alias: "x", Domain: e.f.UnverifiedDomain}, backend.InvalidArgument, backend.ReasonAliasDomainUnverified},
		{"unknown domain", groups.NewGroup{Name: "X", Alias: "x", Domain: "nowhere.example"}, backend.InvalidArgument, backend.ReasonAliasDomainUnverified},
		{"name of another group", groups.NewGroup{Name: "SALES", Alias: "sales2"}, backend.AlreadyExists, ""},
		{"address of a user", groups.NewGroup{Name: "X", Alias: "ann"}, backend.AlreadyExists, ""},
		{"address of a user's alias", groups.NewGroup{Name: "X", Alias: "info"}, backend.AlreadyExists, ""},
		{"address of another group", groups.NewGroup{Name: "X", Alias: "sales"}, backend.AlreadyExists, ""},
		{"member blocked", groups.NewGroup{Name: "X", Alias: "x", Members: []string{ann.UserPrincipalName, blocked.UserPrincipalName}}, backend.FailedPrecondition, groups.ReasonMemberInactive},
		{"member without license", groups.NewGroup{Name: "X", Alias: "x", Members: []string{unlicensed.UserPrincipalName}}, backend.FailedPrecondition, groups.ReasonMemberInactive},
		{"member without mailbox", groups.NewGroup{Name: "X", Alias: "x", Members: []string{noMailbox.UserPrincipalName}}, backend.FailedPrecondition, groups.ReasonMemberNoMailbox},
		{"unknown member", groups.NewGroup{Name: "X", Alias: "x", Members: []string{e.addr("ghost")}}, backend.NotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Create(e.ctx, tc.ng)
			requireKind(t, err, tc.kind, tc.reason)
		})
	}
	assert.Equal(t, []string{"Sales"}, e.groupNames(t), "nothing was created")
	assert.Len(t, e.audit.Events(), before, "no write was attempted")
}

func flowExternalSenders(t *testing.T, h Harness) {
	e := newEnv(t, h, true)
	g, err := e.svc.Create(e.ctx, groups.NewGroup{Name: "Board", Alias: "board", RejectExternalSenders: true})
	require.NoError(t, err)
	assert.False(t, g.ExternalSendersAllowed, "turned off at creation")
	on := true
	require.NoError(t, e.svc.Update(e.ctx, "Board", groups.Update{ExternalSendersAllowed: &on}))
	got, err := e.svc.Get(e.ctx, "board")
	require.NoError(t, err)
	assert.True(t, got.ExternalSendersAllowed)
	desc := "Board members"
	require.NoError(t, e.svc.Update(e.ctx, "Board", groups.Update{Description: &desc}))
	got, err = e.svc.Get(e.ctx, g.ID)
	require.NoError(t, err)
	assert.Equal(t, desc, got.Description)
	assert.True(t, got.ExternalSendersAllowed, "unchanged fields stay")
	requireKind(t, e.svc.Update(e.ctx, "nothing", groups.Update{Description: &desc}), backend.NotFound, "")
}

func flowChangeMembers(t *testing.T, h Harness) {
	e := newEnv(t, h, true)
	ann, bob := e.mailbox(t, "ann"), e.mailbox(t, "bob")
	blocked := e.user(t, "blocked", e.f.MailboxSKU, false)
	e.create(t, "Sales", "sales", ann.UserPrincipalName)
	e.create(t, "Team", "team")

	require.NoError(t, e.svc.ChangeMembers(e.ctx, "Sales", []string{bob.UserPrincipalName, "Team", ann.UserPrincipalName}, nil))
	ms, err := e.svc.Members(e.ctx, "Sales")
	require.NoError(t, err)
	assert.Equal(t, []string{e.addr("ann"), e.addr("bob"), e.addr("team")}, addresses(ms), "a member already there is left alone")

	require.NoError(t, e.svc.ChangeMembers(e.ctx, "Sales", nil, []string{ann.UserPrincipalName, "Team"}))
	require.NoError(t, e.svc.ChangeMembers(e.ctx, "Sales", nil, []string{ann.UserPrincipalName}), "removing twice is harmless")
	ms, err = e.svc.Members(e.ctx, "Sales")
	require.NoError(t, err)
	assert.Equal(t, []string{e.addr("bob")}, addresses(ms))

	err = e.svc.ChangeMembers(e.ctx, "Sales", []string{ann.UserPrincipalName, blocked.UserPrincipalName}, []string{bob.UserPrincipalName})
	requireKind(t, err, backend.FailedPrecondition, groups.ReasonMemberInactive)
	ms, err = e.svc.Members(e.ctx, "Sales")
	require.NoError(t, err)
	assert.Equal(t, []string{e.addr("bob")}, addresses(ms), "a refused change changes nothing")
	requireKind(t, e.svc.ChangeMembers(e.ctx, "Nope", []string{ann.UserPrincipalName}, nil), backend.NotFound, "")
	requireKind(t, e.svc.ChangeMembers(e.ctx, "Sales", []string{e.addr("ghost")}, nil), backend.NotFound, "")
}

func flowCycles(t *testing.T, h Harness) {
	e := newEnv(t, h, true)
	e.create(t, "A", "a")
	e.create(t, "B", "b", "A")
	e.create(t, "C", "c", "B")
	requireKind(t, e.svc.ChangeMembers(e.ctx, "A", []string{"A"}, nil), backend.InvalidArgument, groups.ReasonGroupCycle)
	requireKind(t, e.svc.ChangeMembers(e.ctx, "A", []string{"B"}, nil), backend.InvalidArgument, groups.ReasonGroupCycle)
	requireKind(t, e.svc.ChangeMembers(e.ctx, "A", []string{"c@" + e.f.VerifiedDomain}, nil), backend.InvalidArgument, groups.ReasonGroupCycle)
	requireKind(t, e.svc.ChangeMemberships(e.ctx, "C", []string{"A"}, nil), backend.InvalidArgument, backend.ReasonMemberType)
	ms, err := e.svc.Members(e.ctx, "A")
	require.NoError(t, err)
	assert.Empty(t, ms, "no cycle was made")
	e.create(t, "D", "d")
	require.NoError(t, e.svc.ChangeMembers(e.ctx, "A", []string{"D"}, nil), "a group outside the chain can be nested")
}

func flowMemberships(t *testing.T, h Harness) {
	e := newEnv(t, h, true)
	ann := e.mailbox(t, "ann")
	blocked := e.user(t, "blocked", e.f.MailboxSKU, false)
	e.create(t, "Sales", "sales", ann.UserPrincipalName)
	e.create(t, "Everyone", "everyone", "Sales")
	e.create(t, "Board", "board")
	e.create(t, "Other", "other")

	ms, err := e.svc.Memberships(e.ctx, ann.UserPrincipalName)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, "Everyone", ms[0].Group.Name)
	assert.False(t, ms[0].Direct)
	assert.Equal(t, "Sales", ms[0].Via, "through the nested group")
	assert.Equal(t, "Sales", ms[1].Group.Name)
	assert.True(t, ms[1].Direct)

	require.NoError(t, e.svc.ChangeMemberships(e.ctx, ann.UserPrincipalName, []string{"Board", "Other"}, []string{"Sales"}))
	ms, err = e.svc.Memberships(e.ctx, ann.UserPrincipalName)
	require.NoError(t, err)
	var names []string
	for _, m := range ms {
		assert.True(t, m.Direct)
		names = append(names, m.Group.Name)
	}
	assert.Equal(t, []string{"Board", "Other"}, names)
	require.NoError(t, e.svc.ChangeMemberships(e.ctx, ann.UserPrincipalName, []string{"Board"}, []string{"Sales"}), "a rerun changes nothing")

	requireKind(t, e.svc.ChangeMemberships(e.ctx, blocked.UserPrincipalName, []string{"Board"}, nil), backend.FailedPrecondition, groups.ReasonMemberInactive)
	requireKind(t, e.svc.ChangeMemberships(e.ctx, ann.UserPrincipalName, []string{"Board", "Nope"}, nil), backend.NotFound, "")
	got, err := e.svc.Members(e.ctx, "Board")
	require.NoError(t, err)
	assert.Equal(t, []string{e.addr("ann")}, addresses(got))
}

func flowDelete(t *testing.T, h Harness) {
	e := newEnv(t, h, true)
	ann := e.mailbox(t, "ann")
	e.create(t, "Sales", "sales", ann.UserPrincipalName)
	e.create(t, "Everyone", "everyone", "Sales")
	require.NoError(t, e.svc.Delete(e.ctx, "Sales"))
	_, err := e.svc.Get(e.ctx, "Sales")
	requireKind(t, err, backend.NotFound, "")
	ms, err := e.svc.Members(e.ctx, "Everyone")
	require.NoError(t, err)
	assert.Empty(t, ms, "the deleted group left the group it was nested in")
	_, err = e.f.Tenant.GetUser(e.ctx, ann.ID)
	require.NoError(t, err, "members are not touched")
	e.create(t, "Sales", "sales")
	requireKind(t, e.svc.Delete(e.ctx, "Nope"), backend.NotFound, "")
}

func flowAddresses(t *testing.T, h Harness) {
	e := newEnv(t, h, true)
	ann, bob := e.mailbox(t, "ann"), e.mailbox(t, "bob")
	e.create(t, "Sales", "sales")

	require.NoError(t, e.svc.AddAddress(e.ctx, ann.UserPrincipalName, e.addr("Ann.Smith")))
	require.NoError(t, e.svc.AddAddress(e.ctx, ann.UserPrincipalName, e.addr("ann.smith")), "adding it again does nothing")
	require.NoError(t, e.svc.AddAddress(e.ctx, "Sales", e.addr("ventes")))
	got, err := e.svc.Addresses(e.ctx, ann.UserPrincipalName)
	require.NoError(t, err)
	assert.Equal(t, []string{e.addr("ann.smith")}, got)
	got, err = e.svc.Addresses(e.ctx, "Sales")
	require.NoError(t, err)
	assert.Equal(t, []string{e.addr("ventes")}, got)

	requireKind(t, e.svc.AddAddress(e.ctx, bob.UserPrincipalName, "bob@"+e.f.UnverifiedDomain), backend.InvalidArgument, backend.ReasonAliasDomainUnverified)
	requireKind(t, e.svc.AddAddress(e.ctx, bob.UserPrincipalName, e.addr("ventes")), backend.AlreadyExists, "")
	requireKind(t, e.svc.AddAddress(e.ctx, bob.UserPrincipalName, e.addr("sales")), backend.AlreadyExists, "")
	requireKind(t, e.svc.AddAddress(e.ctx, "Sales", ann.UserPrincipalName), backend.AlreadyExists, "")
	requireKind(t, e.svc.AddAddress(e.ctx, bob.UserPrincipalName, "bob smith@"+e.f.VerifiedDomain), backend.InvalidArgument, backend.ReasonAliasSyntax)
	got, err = e.svc.Addresses(e.ctx, bob.UserPrincipalName)
	require.NoError(t, err)
	assert.Empty(t, got, "refused addresses were not added")

	require.NoError(t, e.svc.RemoveAddress(e.ctx, ann.UserPrincipalName, e.addr("ann.smith")))
	requireKind(t, e.svc.RemoveAddress(e.ctx, ann.UserPrincipalName, e.addr("ann.smith")), backend.NotFound, "")
	require.NoError(t, e.svc.AddAddress(e.ctx, bob.UserPrincipalName, e.addr("ann.smith")), "a removed address is free")
}

func flowThrottled(t *testing.T, h Harness) {
	e := newEnv(t, h, true)
	ann, bob := e.mailbox(t, "ann"), e.mailbox(t, "bob")
	throttled := &backend.Error{Kind: backend.Throttled, Op: "exchange: add member", Msg: "slow down", RetryAfter: 7 * time.Second}
	e.f.FailNext("AddMember", 2, throttled)
	start := e.clock.Now()
	e.create(t, "Sales", "sales", ann.UserPrincipalName, bob.UserPrincipalName)
	assert.GreaterOrEqual(t, e.clock.Now().Sub(start), 14*time.Second, "the retry layer waited the Retry-After twice")
	ms, err := e.svc.Members(e.ctx, "Sales")
	require.NoError(t, err)
	assert.Len(t, ms, 2)

	e.f.FailNext("CreateGroup", 100, throttled)
	_, err = e.svc.Create(e.ctx, groups.NewGroup{Name: "Board", Alias: "board"})
	requireKind(t, err, backend.Throttled, "")
	wait, ok := backend.RetryAfter(err)
	assert.True(t, ok)
	assert.Equal(t, 7*time.Second, wait)
}

func flowPartial(t *testing.T, h Harness) {
	e := newEnv(t, h, true)
	ann, bob := e.mailbox(t, "ann"), e.mailbox(t, "bob")
	unavailable := &backend.Error{Kind: backend.Unavailable, Op: "exchange: add member", Msg: "the service failed"}
	e.f.FailNext("AddMember", 6, unavailable) // the first member's six attempts
	_, err := e.svc.Create(e.ctx, groups.NewGroup{Name: "Sales", Alias: "sales", Members: []string{ann.UserPrincipalName, bob.UserPrincipalName}})
	requireKind(t, err, backend.Unavailable, "")
	var p *groups.PartialError
	require.True(t, errors.As(err, &p), "the cause names what failed: %v", err)
	require.Len(t, p.Failed, 1)
	assert.Contains(t, strings.ToLower(p.Failed[0].Change), "ann")
	assert.Len(t, p.Done, 1)
	assert.Contains(t, err.Error(), "run the same call again")
	failed := 0
	for _, ev := range e.audit.Events() {
		if ev.Outcome == audit.OutcomeFailed {
			failed++
			assert.Equal(t, groups.AuditAddMember, ev.Op)
		}
	}
	assert.Equal(t, 1, failed, "the failed write is audited")

	g, err := e.svc.Create(e.ctx, groups.NewGroup{Name: "Sales", Alias: "sales", Members: []string{ann.UserPrincipalName, bob.UserPrincipalName}})
	require.NoError(t, err, "the rerun completes the group")
	ms, err := e.svc.Members(e.ctx, g.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{e.addr("ann"), e.addr("bob")}, addresses(ms))
	assert.Equal(t, []string{"Sales"}, e.groupNames(t), "one group, not two")
}
