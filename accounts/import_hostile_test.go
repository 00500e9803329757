package accounts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

// TestImportOddDisplayNames imports online accounts whose display names
// Active Directory would refuse or that are easy to get wrong: the plan
// flags the ones the directory cannot take (too long for a common name,
// control characters) instead of failing at apply, never cuts two names
// into one, and imports right-to-left and zero-width names unchanged.
func TestImportOddDisplayNames(t *testing.T) {
	e := newEnv(t, 10)
	long := strings.Repeat("Jean-Baptiste Emmanuel Zorg ", 4) // > 64 characters
	names := map[string]string{
		"long1@contoso.com": long + "A",
		"long2@contoso.com": long + "B", // the same as long1 once cut to 64
		"exact@contoso.com": strings.Repeat("é", backend.MaxCN),
		"rtl@contoso.com":   "\u202eevil\u202c Admin",
		"zw@contoso.com":    "Zo\u200bë",
		"tab@contoso.com":   "Tab\tName",
	}
	created := map[string]bool{}
	for upn, dn := range names {
		_, err := e.tenant.CreateUser(e.ctx, backend.NewOnlineUser{UserPrincipalName: upn, DisplayName: dn, Password: "Cloud-Pw-2026!", UsageLocation: "FR"})
		created[upn] = err == nil
	}
	require.True(t, created["long1@contoso.com"] && created["rtl@contoso.com"] && created["tab@contoso.com"], "the tenant takes long, bidi and tab names")

	plan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	got := map[string]accounts.ImportItem{}
	for _, it := range plan.Items {
		got[it.OnlineID] = it
	}
	want := map[string]backend.Reason{
		"long1@contoso.com": backend.ReasonCNLength, "long2@contoso.com": backend.ReasonCNLength,
		"exact@contoso.com": "", "rtl@contoso.com": "", "zw@contoso.com": "", "tab@contoso.com": backend.ReasonNameCharacters,
	}
	for upn, reason := range want {
		if !created[upn] {
			continue
		}
		it, ok := got[upn]
		require.True(t, ok, upn)
		assert.Equal(t, reason, it.Problem, upn)
		assert.Equal(t, reason == "", it.Selected, upn)
		assert.Equal(t, names[upn], it.DisplayName, "the plan shows the name as it is online")
	}

	res, err := e.svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordSink: func(_ context.Context, _, _, _ string) error { return nil }})
	require.NoError(t, err)
	assert.Zero(t, res.Failed, "only importable items were selected")
	for _, upn := range []string{"exact@contoso.com", "rtl@contoso.com", "zw@contoso.com"} {
		sam := strings.TrimSuffix(upn, "@contoso.com")
		u, err := e.dir.GetUserBySAMAccountName(e.ctx, sam)
		require.NoError(t, err, upn)
		assert.Equal(t, names[upn], u.DisplayName, "imported unchanged")
	}
	for _, sam := range []string{"long1", "long2", "tab"} {
		_, err := e.dir.GetUserBySAMAccountName(e.ctx, sam)
		assert.ErrorIs(t, err, backend.ErrNotFound, sam)
	}
}
