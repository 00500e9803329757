package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out))
	s := out.String()
	assert.NotContains(t, s, "FAIL ", "every requirement passes")
	assert.Contains(t, s, "PASS    tenant-reachable    signed in to Contoso")
	assert.Contains(t, s, `existing online account chloe@contoso.com: import as network user "chloe"`)
	assert.Contains(t, s, "online accounts created for existing users: 2 done, 0 failed")
	assert.Contains(t, s, "O365_BUSINESS_PREMIUM  Enabled  25     2     23")
	assert.Contains(t, s, "state disabled since")
	assert.Contains(t, s, "[rule integration-disabled]")
	assert.Contains(t, s, "Microsoft 365 cannot be reached")
	assert.Contains(t, s, "Integration: disabled since")
}
