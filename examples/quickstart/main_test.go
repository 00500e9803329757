package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartReport(t *testing.T) {
	var out bytes.Buffer
	work := t.TempDir()
	require.NoError(t, run(t.Context(), &out, work))
	report := out.String()
	for _, want := range []string{
		"proposed amelie   -> amelie@contoso.com",
		"created 4, failed 0",
		"emma     <- emma@contoso.com",
		"extra email addresses: ventes@contoso.com",
		"gabriel's new password: synced (online account has it: true)",
		"bruno: password sync broken = true",
		"chloe unassigned: inactive, mapping unassigned to chloe@contoso.com",
		"chloe assigned again: active",
		"david disabled: online sign-in allowed = false",
		"david deleted: 1 online account(s) restorable for 30 days",
		"plan: disable amelie@contoso.com (the user is disabled in the directory)",
		"blocked sign-in of amelie@contoso.com",
		"writes recorded (never a secret)",
		"tenant create-online         5",
		"ENTERPRISEPACK: 2 of 6 seats free",
	} {
		assert.Contains(t, report, want)
	}
	for _, u := range []string{"emma", "felix"} {
		fi, err := os.Stat(filepath.Join(work, "passwords", u+".txt"))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}
}
