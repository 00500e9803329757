package backendtest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// MailHarness makes the mail service under test for [RunMailTests].
type MailHarness interface {
	// MakeMail returns a fresh mail service and its tenant, used by one
	// subtest only.
	MakeMail(ctx context.Context, t *testing.T) MailFixture
}

// MailFixture is a mail service under test, the tenant whose users it
// serves, and a verified domain of that tenant.
type MailFixture struct {
	Mail   backend.Mail
	Tenant backend.Tenant
	// VerifiedDomain is a verified custom domain of Tenant.
	VerifiedDomain string
}

// RunMailTests runs the conformance suite of [backend.Mail].
func RunMailTests(t *testing.T, h MailHarness) {
	t.Run("AddListRemove", func(t *testing.T) { mailTestAddListRemove(t, h) })
	t.Run("Conflicts", func(t *testing.T) { mailTestConflicts(t, h) })
	t.Run("Validation", func(t *testing.T) { mailTestValidation(t, h) })
	t.Run("DeletedUserFreesAliases", func(t *testing.T) { mailTestDeleteFrees(t, h) })
	t.Run("CanceledContext", func(t *testing.T) { mailTestCanceled(t, h) })
}

func mailCreateUser(ctx context.Context, t *testing.T, f MailFixture, prefix string) backend.OnlineUser {
	t.Helper()
	return suiteCreateUser(ctx, t, f.Tenant, suiteNewUser(f.VerifiedDomain, "Mail", prefix))
}

func mailAddress(f MailFixture, prefix string) string {
	return UniqueName(prefix) + "@" + f.VerifiedDomain
}

func mailTestAddListRemove(t *testing.T, h MailHarness) {
	ctx := t.Context()
	f := h.MakeMail(ctx, t)
	u := mailCreateUser(ctx, t, f, "al")

	got, err := f.Mail.ListAliases(ctx, u.UserPrincipalName)
	require.NoError(t, err)
	assert.Empty(t, got, "a new user has no aliases; the UPN is not listed")

	b, a := "zz"+mailAddress(f, "b"), "aa"+mailAddress(f, "a")
	require.NoError(t, f.Mail.AddAlias(ctx, u.UserPrincipalName, b))
	require.NoError(t, f.Mail.AddAlias(ctx, u.UserPrincipalName, a))
	got, err = f.Mail.ListAliases(ctx, u.UserPrincipalName)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.True(t, strings.EqualFold(a, got[0]) && strings.EqualFold(b, got[1]), "aliases are sorted: %v", got)

	require.NoError(t, f.Mail.RemoveAlias(ctx, u.UserPrincipalName, b))
	got, err = f.Mail.ListAliases(ctx, u.UserPrincipalName)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.True(t, strings.EqualFold(a, got[0]))

	tenantRequireKind(t, f.Mail.RemoveAlias(ctx, u.UserPrincipalName, b), backend.NotFound)
	_, err = f.Mail.ListAliases(ctx, mailAddress(f, "nobody"))
	tenantRequireKind(t, err, backend.NotFound)
	tenantRequireKind(t, f.Mail.AddAlias(ctx, mailAddress(f, "nobody"), mailAddress(f, "x")), backend.NotFound)
}

func mailTestConflicts(t *testing.T, h MailHarness) {
	ctx := t.Context()
	f := h.MakeMail(ctx, t)
	u1 := mailCreateUser(ctx, t, f, "c1")
	u2 := mailCreateUser(ctx, t, f, "c2")
	addr := mailAddress(f, "shared")
	require.NoError(t, f.Mail.AddAlias(ctx, u1.UserPrincipalName, addr))

	tests := []struct {
		name, upn, addr string
	}{
		{"another user's alias", u2.UserPrincipalName, addr},
		{"another user's alias in other case", u2.UserPrincipalName, strings.ToUpper(addr)},
		{"own alias again", u1.UserPrincipalName, addr},
		{"another user's UPN", u1.UserPrincipalName, u2.UserPrincipalName},
		{"own UPN", u1.UserPrincipalName, u1.UserPrincipalName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tenantRequireKind(t, f.Mail.AddAlias(ctx, tc.upn, tc.addr), backend.AlreadyExists)
		})
	}
	got, err := f.Mail.ListAliases(ctx, u2.UserPrincipalName)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func mailTestValidation(t *testing.T, h MailHarness) {
	ctx := t.Context()
	f := h.MakeMail(ctx, t)
	u := mailCreateUser(ctx, t, f, "v")
	tests := []struct {
		name, addr string
		reason     backend.Reason
	}{
		{"no at sign", UniqueName("noat"), backend.ReasonAliasSyntax},
		{"space", "a b" + mailAddress(f, ""), backend.ReasonAliasSyntax},
		{"leading dot", "." + mailAddress(f, "x"), backend.ReasonAliasSyntax},
		{"double dot", "a.." + mailAddress(f, "x"), backend.ReasonAliasSyntax},
		{"unknown domain", UniqueName("x") + "@" + UniqueName("nowhere") + ".example", backend.ReasonAliasDomainUnverified},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tenantRequireKind(t, f.Mail.AddAlias(ctx, u.UserPrincipalName, tc.addr), backend.InvalidArgument, tc.reason)
		})
	}
	got, err := f.Mail.ListAliases(ctx, u.UserPrincipalName)
	require.NoError(t, err)
	assert.Empty(t, got, "rejected addresses are not added")
}

func mailTestDeleteFrees(t *testing.T, h MailHarness) {
	ctx := t.Context()
	f := h.MakeMail(ctx, t)
	u1 := mailCreateUser(ctx, t, f, "d1")
	u2 := mailCreateUser(ctx, t, f, "d2")
	addr := mailAddress(f, "freed")
	require.NoError(t, f.Mail.AddAlias(ctx, u1.UserPrincipalName, addr))
	require.NoError(t, f.Tenant.DeleteUser(ctx, u1.ID))
	require.NoError(t, f.Mail.AddAlias(ctx, u2.UserPrincipalName, addr), "a deleted user's alias is free")
	got, err := f.Mail.ListAliases(ctx, u2.UserPrincipalName)
	require.NoError(t, err)
	assert.Len(t, got, 1)
}

func mailTestCanceled(t *testing.T, h MailHarness) {
	f := h.MakeMail(t.Context(), t)
	u := mailCreateUser(t.Context(), t, f, "cx")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.Mail.ListAliases(ctx, u.UserPrincipalName)
	tenantRequireKind(t, err, backend.Canceled)
	tenantRequireKind(t, f.Mail.AddAlias(ctx, u.UserPrincipalName, mailAddress(f, "c")), backend.Canceled)
	tenantRequireKind(t, f.Mail.RemoveAlias(ctx, u.UserPrincipalName, mailAddress(f, "c")), backend.Canceled)
}
