package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/internal/sambatest"
)

func TestMissingSettings(t *testing.T) {
	err := run(t.Context(), nil, func(string) string { return "" }, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "E365_LDAP_URL")
	err = run(t.Context(), []string{"-prefix", "much-too-long"}, func(string) string { return "x" }, &bytes.Buffer{})
	require.ErrorContains(t, err, "at most 8 characters")
}

func TestLifecycleOnSamba(t *testing.T) {
	dc := sambatest.Settings(t)
	env := map[string]string{"E365_LDAP_URL": dc.URL, "E365_LDAP_USER": dc.User, "E365_LDAP_PASSWORD": dc.Password,
		"E365_LDAP_BASE_DN": dc.BaseDN, "E365_LDAP_CA_FILE": dc.CAFile}
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-prefix", "qt-"}, func(k string) string { return env[k] }, &out))
	report := out.String()
	for _, want := range []string{
		"created 4, failed 0",
		"qt-gabriel's new password: synced (online account has it: true)",
		"qt-bruno: password sync broken = true",
		"qt-chloe assigned again: active",
		"blocked sign-in of qt-amelie@contoso.com",
	} {
		assert.Contains(t, report, want)
	}
	assert.False(t, strings.Contains(report, "failed 1"), report)
}
