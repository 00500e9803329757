package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(t.Context(), nil, func(string) string { return "" }, &out, &errOut)
	require.ErrorContains(t, err, "usage: pwsync-agent diagnose|setup|run")
	err = run(t.Context(), []string{"sync-everything"}, func(string) string { return "" }, &out, &errOut)
	require.ErrorContains(t, err, "usage:")
}

func TestSealKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.key")
	_, err := sealKey(path, false)
	require.ErrorContains(t, err, "run setup", "run never invents a key: pending updates sealed with a lost key stay unreadable")
	k1, err := sealKey(path, true)
	require.NoError(t, err)
	assert.Len(t, k1, 32)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	k2, err := sealKey(path, true)
	require.NoError(t, err)
	assert.Equal(t, k1, k2, "setup run again keeps the key")
	require.NoError(t, os.WriteFile(path, []byte("short"), 0o600))
	_, err = sealKey(path, false)
	require.ErrorContains(t, err, "not a 32-byte key")
}

func TestCredential(t *testing.T) {
	_, err := credential("https://graph.microsoft.com/v1.0", "", "", "")
	require.ErrorContains(t, err, "-tenant-id, -client-id and E365_CLIENT_SECRET")
	c, err := credential("http://127.0.0.1:8365/v1.0", "", "", "")
	require.NoError(t, err)
	assert.NotNil(t, c)
}
