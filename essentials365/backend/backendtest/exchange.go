package backendtest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ExchangeHarness makes the Exchange service under test for
// [RunExchangeTests].
type ExchangeHarness interface {
	// MakeExchange returns a fresh Exchange service and its tenant, used
	// by one subtest only.
	MakeExchange(ctx context.Context, t *testing.T) ExchangeFixture
}

// ExchangeFixture is an Exchange service under test, the tenant whose
// users it serves, a verified domain of that tenant and a SKU that gives
// a mailbox.
type ExchangeFixture struct {
	Exchange backend.Exchange
	Tenant   backend.Tenant
	// VerifiedDomain is a verified custom domain of Tenant.
	VerifiedDomain string
	// MailboxSKU is the skuId of a subscription with an Exchange Online
	// plan and at least 10 free seats.
	MailboxSKU string
}

// RunExchangeTests runs the conformance suite of [backend.Exchange]:
// distribution groups, their direct members, and the addresses of
// mailboxes and groups in one address space.
func RunExchangeTests(t *testing.T, h ExchangeHarness) {
	t.Run("GroupLifecycle", func(t *testing.T) { exoTestGroupLifecycle(t, h) })
	t.Run("GroupValidation", func(t *testing.T) { exoTestGroupValidation(t, h) })
	t.Run("GroupUpdate", func(t *testing.T) { exoTestGroupUpdate(t, h) })
	t.Run("Members", func(t *testing.T) { exoTestMembers(t, h) })
	t.Run("MemberRules", func(t *testing.T) { exoTestMemberRules(t, h) })
	t.Run("GroupAddresses", func(t *testing.T) { exoTestGroupAddresses(t, h) })
	t.Run("Recipients", func(t *testing.T) { exoTestRecipients(t, h) })
	t.Run("ListGroupsPages", func(t *testing.T) { exoTestListPages(t, h) })
	t.Run("CanceledContext", func(t *testing.T) { exoTestCanceled(t, h) })
}

// exoMailbox creates a user with a mailbox.
func exoMailbox(ctx context.Context, t *testing.T, f ExchangeFixture, prefix string) backend.OnlineUser {
	t.Helper()
	u := exoUser(ctx, t, f, prefix)
	u, err := f.Tenant.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: f.MailboxSKU}}, nil)
	require.NoError(t, err)
	return u
}

// exoUser creates a user without a license, hence without a mailbox.
func exoUser(ctx context.Context, t *testing.T, f ExchangeFixture, prefix string) backend.OnlineUser {
	t.Helper()
	return suiteCreateUser(ctx, t, f.Tenant, suiteNewUser(f.VerifiedDomain, "Exchange", prefix))
}

func exoNewGroup(f ExchangeFixture, prefix string) backend.NewDistributionGroup {
	alias := UniqueName(prefix)
	return backend.NewDistributionGroup{
		Name: "Group " + alias, Alias: alias, PrimaryAddress: alias + "@" + f.VerifiedDomain,
		Description: "About " + alias, ExternalSendersAllowed: true,
	}
}

func exoCreateGroup(ctx context.Context, t *testing.T, f ExchangeFixture, prefix string) backend.DistributionGroup {
	t.Helper()
	g, err := f.Exchange.CreateGroup(ctx, exoNewGroup(f, prefix))
	require.NoError(t, err)
	return g
}

func exoGroupNames(ctx context.Context, t *testing.T, x backend.Exchange) []string {
	t.Helper()
	var names []string
	for g, err := range x.ListGroups(ctx) {
		require.NoError(t, err)
		names = append(names, g.Name)
	}
	return names
}

func exoTestGroupLifecycle(t *testing.T, h ExchangeHarness) {
	ctx := t.Context()
	f := h.MakeExchange(ctx, t)
	ng := exoNewGroup(f, "life")
	g, err := f.Exchange.CreateGroup(ctx, ng)
	require.NoError(t, err)
	assert.NotEmpty(t, g.ID)
	assert.Equal(t, ng.Name, g.Name)
	assert.Equal(t, ng.Name, g.DisplayName, "the display name defaults to the name")
	assert.Equal(t, ng.Alias, g.Alias)
	assert.True(t, strings.EqualFold(ng.PrimaryAddress, g.PrimaryAddress), "primary %q", g.PrimaryAddress)
	assert.Equal(t, ng.Description, g.Description)
	assert.True(t, g.ExternalSendersAllowed)
	assert.Empty(t, g.Addresses, "the primary address is not listed among secondary ones")

	closed := exoNewGroup(f, "closed")
	closed.ExternalSendersAllowed = false
	closed.DisplayName = "Closed group"
	c, err := f.Exchange.CreateGroup(ctx, closed)
	require.NoError(t, err)
	assert.False(t, c.ExternalSendersAllowed, "external senders refused when asked")
	assert.Equal(t, "Closed group", c.DisplayName)

	for _, id := range []string{g.ID, g.Name, strings.ToUpper(g.PrimaryAddress), g.Alias} {
		got, err := f.Exchange.GetGroup(ctx, id)
		require.NoError(t, err, "get by %q", id)
		assert.Equal(t, g.ID, got.ID)
	}
	assert.ElementsMatch(t, []string{g.Name, c.Name}, exoGroupNames(ctx, t, f.Exchange))

	require.NoError(t, f.Exchange.DeleteGroup(ctx, g.ID))
	_, err = f.Exchange.GetGroup(ctx, g.ID)
	tenantRequireKind(t, err, backend.NotFound)
	tenantRequireKind(t, f.Exchange.DeleteGroup(ctx, g.ID), backend.NotFound)
	assert.Equal(t, []string{c.Name}, exoGroupNames(ctx, t, f.Exchange))

	again := exoNewGroup(f, "again")
	again.PrimaryAddress = ng.PrimaryAddress
	again.Name = ng.Name
	_, err = f.Exchange.CreateGroup(ctx, again)
	require.NoError(t, err, "a deleted group's name and address are free")
}

func exoTestGroupValidation(t *testing.T, h ExchangeHarness) {
	ctx := t.Context()
	f := h.MakeExchange(ctx, t)
	existing := exoCreateGroup(ctx, t, f, "exist")
	u := exoMailbox(ctx, t, f, "owner")
	alias := UniqueName("ua") + "@" + f.VerifiedDomain
	require.NoError(t, f.Exchange.AddAlias(ctx, u.UserPrincipalName, alias))

	tests := []struct {
		name   string
		edit   func(*backend.NewDistributionGroup)
		kind   backend.Kind
		reason backend.Reason
	}{
		{"empty name", func(g *backend.NewDistributionGroup) { g.Name = " " }, backend.InvalidArgument, backend.ReasonGroupName},
		{"long name", func(g *backend.NewDistributionGroup) { g.Name = strings.Repeat("n", 65) }, backend.InvalidArgument, backend.ReasonGroupName},
		{"alias with space", func(g *backend.NewDistributionGroup) { g.Alias = "sales team" }, backend.InvalidArgument, backend.ReasonAliasSyntax},
		{"alias with leading period", func(g *backend.NewDistributionGroup) { g.Alias = ".sales" }, backend.InvalidArgument, backend.ReasonAliasSyntax},
		{"address without at", func(g *backend.NewDistributionGroup) { g.PrimaryAddress = UniqueName("noat") }, backend.InvalidArgument, backend.ReasonAliasSyntax},
		{"address on unverified domain", func(g *backend.NewDistributionGroup) {
			g.PrimaryAddress = UniqueName("x") + "@" + UniqueName("nowhere") + ".example"
		}, backend.InvalidArgument, backend.ReasonAliasDomainUnverified},
		{"name of another group", func(g *backend.NewDistributionGroup) { g.Name = strings.ToUpper(existing.Name) }, backend.AlreadyExists, ""},
		{"address of another group", func(g *backend.NewDistributionGroup) { g.PrimaryAddress = existing.PrimaryAddress }, backend.AlreadyExists, ""},
		{"address of a user", func(g *backend.NewDistributionGroup) { g.PrimaryAddress = u.UserPrincipalName }, backend.AlreadyExists, ""},
		{"alias of a user", func(g *backend.NewDistributionGroup) { g.PrimaryAddress = strings.ToUpper(alias) }, backend.AlreadyExists, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ng := exoNewGroup(f, "bad")
			tc.edit(&ng)
			_, err := f.Exchange.CreateGroup(ctx, ng)
			if tc.reason != "" {
				tenantRequireKind(t, err, tc.kind, tc.reason)
			} else {
				tenantRequireKind(t, err, tc.kind)
			}
		})
	}
	assert.Equal(t, []string{existing.Name}, exoGroupNames(ctx, t, f.Exchange), "nothing was created")
}

func exoTestGroupUpdate(t *testing.T, h ExchangeHarness) {
	ctx := t.Context()
	f := h.MakeExchange(ctx, t)
	g := exoCreateGroup(ctx, t, f, "upd")
	name, desc, no := "Renamed "+g.Alias, "New description", false
	require.NoError(t, f.Exchange.UpdateGroup(ctx, g.ID, backend.DistributionGroupUpdate{DisplayName: &name, Description: &desc, ExternalSendersAllowed: &no}))
	got, err := f.Exchange.GetGroup(ctx, g.ID)
	require.NoError(t, err)
	assert.Equal(t, name, got.DisplayName)
	assert.Equal(t, desc, got.Description)
	assert.False(t, got.ExternalSendersAllowed)
	assert.Equal(t, g.Name, got.Name, "the name is unchanged")

	yes := true
	require.NoError(t, f.Exchange.UpdateGroup(ctx, g.PrimaryAddress, backend.DistributionGroupUpdate{ExternalSendersAllowed: &yes}))
	got, err = f.Exchange.GetGroup(ctx, g.ID)
	require.NoError(t, err)
	assert.True(t, got.ExternalSendersAllowed)
	assert.Equal(t, desc, got.Description, "unset fields are left alone")

	tenantRequireKind(t, f.Exchange.UpdateGroup(ctx, UniqueName("nogroup"), backend.DistributionGroupUpdate{Description: &desc}), backend.NotFound)
}

func exoMemberAddresses(ctx context.Context, t *testing.T, x backend.Exchange, group string) []string {
	t.Helper()
	ms, err := x.ListMembers(ctx, group)
	require.NoError(t, err)
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, strings.ToLower(m.PrimaryAddress))
	}
	return out
}

func exoTestMembers(t *testing.T, h ExchangeHarness) {
	ctx := t.Context()
	f := h.MakeExchange(ctx, t)
	parent := exoCreateGroup(ctx, t, f, "parent")
	child := exoCreateGroup(ctx, t, f, "child")
	a := exoMailbox(ctx, t, f, "ma")
	b := exoMailbox(ctx, t, f, "mb")

	got, err := f.Exchange.ListMembers(ctx, parent.ID)
	require.NoError(t, err)
	assert.Empty(t, got, "a new group has no members")

	require.NoError(t, f.Exchange.AddMember(ctx, parent.ID, a.UserPrincipalName))
	require.NoError(t, f.Exchange.AddMember(ctx, parent.ID, child.ID))
	require.NoError(t, f.Exchange.AddMember(ctx, child.ID, b.ID))

	ms, err := f.Exchange.ListMembers(ctx, parent.ID)
	require.NoError(t, err)
	require.Len(t, ms, 2, "direct members only")
	want := []string{strings.ToLower(a.UserPrincipalName), strings.ToLower(child.PrimaryAddress)}
	slices.Sort(want)
	assert.Equal(t, want, exoMemberAddresses(ctx, t, f.Exchange, parent.ID), "sorted by primary address")
	for _, m := range ms {
		switch {
		case strings.EqualFold(m.PrimaryAddress, a.UserPrincipalName):
			assert.Equal(t, backend.RecipientUserMailbox, m.Type)
			assert.Equal(t, a.ID, m.DirectoryID, "a mailbox's directory id is the online user's id")
			assert.NotEmpty(t, m.ID)
		default:
			assert.Equal(t, backend.RecipientDistributionGroup, m.Type)
			assert.True(t, m.Type.IsGroup())
			assert.Equal(t, child.ID, m.ID)
		}
	}

	tenantRequireKind(t, f.Exchange.AddMember(ctx, parent.ID, strings.ToUpper(a.UserPrincipalName)), backend.AlreadyExists)
	require.NoError(t, f.Exchange.RemoveMember(ctx, parent.ID, a.ID))
	tenantRequireKind(t, f.Exchange.RemoveMember(ctx, parent.ID, a.UserPrincipalName), backend.NotFound)
	assert.Equal(t, []string{strings.ToLower(child.PrimaryAddress)}, exoMemberAddresses(ctx, t, f.Exchange, parent.ID))

	require.NoError(t, f.Exchange.DeleteGroup(ctx, child.ID))
	assert.Empty(t, exoMemberAddresses(ctx, t, f.Exchange, parent.ID), "a deleted group is no longer a member")
}

func exoTestMemberRules(t *testing.T, h ExchangeHarness) {
	ctx := t.Context()
	f := h.MakeExchange(ctx, t)
	g := exoCreateGroup(ctx, t, f, "rules")
	noMailbox := exoUser(ctx, t, f, "nomb")

	err := f.Exchange.AddMember(ctx, g.ID, noMailbox.UserPrincipalName)
	tenantRequireKind(t, err, backend.InvalidArgument, backend.ReasonMemberType)
	tenantRequireKind(t, f.Exchange.AddMember(ctx, g.ID, g.ID), backend.InvalidArgument, backend.ReasonMemberType)
	tenantRequireKind(t, f.Exchange.AddMember(ctx, g.ID, UniqueName("ghost")+"@"+f.VerifiedDomain), backend.NotFound)
	tenantRequireKind(t, f.Exchange.AddMember(ctx, UniqueName("nogroup"), noMailbox.ID), backend.NotFound)
	_, err = f.Exchange.ListMembers(ctx, UniqueName("nogroup"))
	tenantRequireKind(t, err, backend.NotFound)
	assert.Empty(t, exoMemberAddresses(ctx, t, f.Exchange, g.ID), "refused members were not added")
}

func exoTestGroupAddresses(t *testing.T, h ExchangeHarness) {
	ctx := t.Context()
	f := h.MakeExchange(ctx, t)
	g := exoCreateGroup(ctx, t, f, "addr")
	u := exoMailbox(ctx, t, f, "au")
	extra := UniqueName("extra") + "@" + f.VerifiedDomain
	require.NoError(t, f.Exchange.AddAlias(ctx, g.ID, extra))
	got, err := f.Exchange.ListAliases(ctx, g.ID)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.True(t, strings.EqualFold(extra, got[0]))
	gg, err := f.Exchange.GetGroup(ctx, extra)
	require.NoError(t, err, "a secondary address names the group")
	assert.Equal(t, g.ID, gg.ID)
	assert.Len(t, gg.Addresses, 1)

	tenantRequireKind(t, f.Exchange.AddAlias(ctx, u.UserPrincipalName, strings.ToUpper(extra)), backend.AlreadyExists)
	tenantRequireKind(t, f.Exchange.AddAlias(ctx, u.UserPrincipalName, g.PrimaryAddress), backend.AlreadyExists)
	tenantRequireKind(t, f.Exchange.AddAlias(ctx, g.ID, u.UserPrincipalName), backend.AlreadyExists)
	tenantRequireKind(t, f.Exchange.AddAlias(ctx, g.ID, UniqueName("x")+"@"+UniqueName("nowhere")+".example"), backend.InvalidArgument, backend.ReasonAliasDomainUnverified)

	require.NoError(t, f.Exchange.RemoveAlias(ctx, g.ID, extra))
	tenantRequireKind(t, f.Exchange.RemoveAlias(ctx, g.ID, extra), backend.NotFound)
	require.NoError(t, f.Exchange.AddAlias(ctx, u.UserPrincipalName, extra), "a removed address is free")
	got, err = f.Exchange.ListAliases(ctx, u.UserPrincipalName)
	require.NoError(t, err)
	assert.Len(t, got, 1)
}

func exoTestRecipients(t *testing.T, h ExchangeHarness) {
	ctx := t.Context()
	f := h.MakeExchange(ctx, t)
	g := exoCreateGroup(ctx, t, f, "rcpt")
	u := exoMailbox(ctx, t, f, "ru")
	alias := UniqueName("ra") + "@" + f.VerifiedDomain
	require.NoError(t, f.Exchange.AddAlias(ctx, u.UserPrincipalName, alias))

	r, err := f.Exchange.GetRecipient(ctx, strings.ToUpper(alias))
	require.NoError(t, err)
	assert.Equal(t, backend.RecipientUserMailbox, r.Type)
	assert.Equal(t, u.ID, r.DirectoryID)
	assert.True(t, strings.EqualFold(u.UserPrincipalName, r.PrimaryAddress))

	r, err = f.Exchange.GetRecipient(ctx, g.PrimaryAddress)
	require.NoError(t, err)
	assert.Equal(t, backend.RecipientDistributionGroup, r.Type)
	assert.Equal(t, g.ID, r.ID)

	plain := exoUser(ctx, t, f, "rp")
	r, err = f.Exchange.GetRecipient(ctx, plain.UserPrincipalName)
	require.NoError(t, err)
	assert.Equal(t, backend.RecipientUser, r.Type, "a user without a license has no mailbox")

	_, err = f.Exchange.GetRecipient(ctx, UniqueName("free")+"@"+f.VerifiedDomain)
	tenantRequireKind(t, err, backend.NotFound)
}

func exoTestListPages(t *testing.T, h ExchangeHarness) {
	ctx := t.Context()
	f := h.MakeExchange(ctx, t)
	var want []string
	for range 7 {
		want = append(want, exoCreateGroup(ctx, t, f, "pg").Name)
	}
	assert.ElementsMatch(t, want, exoGroupNames(ctx, t, f.Exchange), "every group listed once across pages")
	assertStopsEarly(t, f.Exchange.ListGroups(ctx), 3, "breaking out of the loop stops the iteration")
}

func exoTestCanceled(t *testing.T, h ExchangeHarness) {
	f := h.MakeExchange(t.Context(), t)
	g := exoCreateGroup(t.Context(), t, f, "cx")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.Exchange.CreateGroup(ctx, exoNewGroup(f, "cx"))
	tenantRequireKind(t, err, backend.Canceled)
	tenantRequireOp(t, err, "exchange: create group")
	_, err = f.Exchange.GetGroup(ctx, g.ID)
	tenantRequireKind(t, err, backend.Canceled)
	tenantRequireOp(t, err, "exchange: get group")
	err = f.Exchange.AddMember(ctx, g.ID, g.ID)
	tenantRequireKind(t, err, backend.Canceled)
	tenantRequireOp(t, err, "exchange: add member")
	tenantRequireKind(t, f.Exchange.DeleteGroup(ctx, g.ID), backend.Canceled)
	for _, err := range f.Exchange.ListGroups(ctx) {
		tenantRequireKind(t, err, backend.Canceled)
		tenantRequireOp(t, err, "exchange: list groups")
	}
	_, err = f.Exchange.GetGroup(t.Context(), g.ID)
	require.NoError(t, err, "nothing was deleted")
}
