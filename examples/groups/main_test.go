package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDemoOnTheEmulator(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out))
	got := out.String()
	assert.Contains(t, got, "Created Sales <sales@contoso.com>, mail from outside allowed: true")
	assert.Contains(t, got, "Created Everyone <everyone@contoso.com> with Sales nested in it")
	assert.Contains(t, got, "[rule group-cycle]")
	assert.Contains(t, got, "Everyone's members: cid@contoso.com, sales@contoso.com (group)")
	assert.Contains(t, got, "Everyone's mail reaches: ann@contoso.com, bob@contoso.com, cid@contoso.com")
	assert.Contains(t, got, "ann@contoso.com belongs to: Everyone (through Sales), Sales")
	assert.Contains(t, got, "ann@contoso.com also receives mail at: ventes@contoso.com")
	assert.Contains(t, got, "Removed Everyone; groups left: Sales")
}
