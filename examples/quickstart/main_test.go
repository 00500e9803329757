package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/internal/sambatest"
)

func noEnv(string) string { return "" }

// lines returns the report's lines with runs of spaces made single, so the
// assertions do not depend on column widths.
func lines(report string) string {
	var b strings.Builder
	for _, l := range strings.Split(report, "\n") {
		b.WriteString(strings.Join(strings.Fields(l), " "))
		b.WriteString("\n")
	}
	return b.String()
}

func TestQuickstartInMemory(t *testing.T) {
	var out bytes.Buffer
	work := t.TempDir()
	require.NoError(t, run(t.Context(), []string{"-out", work}, noEnv, &out))
	report := lines(out.String())
	for _, want := range []string{
		"state not-integrated; a password change now is refused before it reaches either side: not-integrated",
		"PASS domain-controllers contoso.local has one domain controller",
		"PASS clock",
		"integrated with Contoso (contoso.onmicrosoft.com, default domain contoso.com)",
		"proposed import: emma@contoso.com as network user emma",
		"proposed amelie -> amelie@contoso.com",
		"created 4, failed 0",
		"emma <- emma@contoso.com temporary password in emma.txt",
		"gabriel created with gabriel@contoso.com",
		"extra email addresses: ventes@contoso.com",
		"amelie changes her password: synced (online account has it: true)",
		"gabriel's password reset by an administrator: synced (online account has it: true)",
		"bruno changed his in the portal: password sync broken = true",
		"david disabled: online sign-in allowed = false, licensed = true",
		"david deleted: network user gone, 1 online account(s) restorable for 30 days",
		"plan: disable chloe@contoso.com (the user is disabled in the directory)",
		"plan: disable felix@contoso.com (the user is disabled in the directory)",
		"guard: disable-guard: 2 of 6 managed accounts, the limit is 1",
		"apply: refused (disable-guard), nothing changed",
		"scheduled reconcile: 0 directory change(s) examined, 0 action(s)",
		"ENTERPRISEPACK: 4 of 10 seats free",
		"last reconcile: 0 examined, 0 failure(s)",
		"bruno true bruno@contoso.com active broken",
		"chloe false chloe@contoso.com inactive ok",
		"integration disabled; 0 pending password update(s) discarded",
		"a password change is refused again: integration-disabled",
		"the cloud is left as it was: bruno@contoso.com sign-in allowed = true, 1 licence(s)",
	} {
		assert.Contains(t, report, want)
	}
	// Both disables went through once allowed, in the plan's order.
	assert.Regexp(t, `apply with AllowDisables: blocked sign-in of (chloe@contoso.com, felix@contoso.com|felix@contoso.com, chloe@contoso.com)\n`, report)
	assert.NotContains(t, report, "david true")
	for _, u := range []string{"emma", "felix"} {
		fi, err := os.Stat(filepath.Join(work, "passwords", u+".txt"))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}
}

func TestFlags(t *testing.T) {
	err := run(t.Context(), []string{"-ldap"}, noEnv, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "E365_LDAP_URL, E365_LDAP_USER, E365_LDAP_PASSWORD")
	err = run(t.Context(), []string{"-ldap", "-prefix", "much-too-long"}, func(string) string { return "x" }, &bytes.Buffer{})
	require.ErrorContains(t, err, "at most 8 characters")
	err = run(t.Context(), []string{"-prefix", "qt-"}, noEnv, &bytes.Buffer{})
	require.ErrorContains(t, err, "-prefix goes with -ldap")
	err = run(t.Context(), []string{"-no-such-flag"}, noEnv, &bytes.Buffer{})
	require.Error(t, err)
}

// TestLifecycleOnSamba runs the program with -ldap against the Samba DC of
// the integration tests (skipped without E365_LDAP_*, failed without it
// under E365_REQUIRE_INTEGRATION=1), then checks that it left none of its
// users behind.
func TestLifecycleOnSamba(t *testing.T) {
	dc := sambatest.Settings(t)
	env := map[string]string{"E365_LDAP_URL": dc.URL, "E365_LDAP_USER": dc.User, "E365_LDAP_PASSWORD": dc.Password,
		"E365_LDAP_BASE_DN": dc.BaseDN, "E365_LDAP_CA_FILE": dc.CAFile}
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-ldap", "-prefix", "qt-"}, func(k string) string { return env[k] }, &out))
	report := lines(out.String())
	for _, want := range []string{
		"PASS mapping-attribute",
		"created 4, failed 0",
		"qt-emma <- qt-emma@contoso.com",
		"qt-amelie changes her password: synced (online account has it: true)",
		"qt-gabriel's password reset by an administrator: synced (online account has it: true)",
		"qt-bruno changed his in the portal: password sync broken = true",
		"qt-david deleted: network user gone",
		"apply: refused (disable-guard), nothing changed",
		"qt-chloe false qt-chloe@contoso.com inactive ok",
		"a password change is refused again: integration-disabled",
	} {
		assert.Contains(t, report, want)
	}

	dir, err := adldap.Open(t.Context(), adldap.Config{URL: dc.URL, User: dc.User, Password: dc.Password, BaseDN: dc.BaseDN, CAFile: dc.CAFile})
	require.NoError(t, err)
	defer dir.Close()
	for _, s := range []string{"amelie", "bruno", "chloe", "david", "emma", "felix", "gabriel"} {
		_, err := dir.GetUserBySAMAccountName(t.Context(), "qt-"+s)
		assert.ErrorIs(t, err, backend.ErrNotFound, "qt-%s left behind", s)
	}
}
