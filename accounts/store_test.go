package accounts_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

func TestMappingRoundTrip(t *testing.T) {
	tests := []accounts.Mapping{
		{ID: "1f0c", UPN: "ann@contoso.com", State: accounts.MappingAssigned},
		{ID: "2a9d", UPN: "o'brien;x=y@contoso.com", State: accounts.MappingUnassigned},
	}
	for _, m := range tests {
		got, err := accounts.ParseMapping(m.String())
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	got, err := accounts.ParseMapping("")
	require.NoError(t, err)
	assert.Equal(t, accounts.Mapping{}, got)
	for _, bad := range []string{"someone else's notes", "e365:1;id=x;upn=y;state=lost"} {
		_, err := accounts.ParseMapping(bad)
		require.ErrorIs(t, err, backend.ErrInvalidArgument, bad)
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p := accounts.GeneratePassword(16)
		require.Len(t, p, 16)
		assert.True(t, strings.ContainsAny(p, "ABCDEFGHJKLMNPQRSTUVWXYZ"))
		assert.True(t, strings.ContainsAny(p, "abcdefghijkmnopqrstuvwxyz"))
		assert.True(t, strings.ContainsAny(p, "23456789"))
		assert.True(t, strings.ContainsAny(p, "!#$%*+-=?@^_"))
		assert.False(t, seen[p])
		seen[p] = true
	}
	assert.Len(t, accounts.GeneratePassword(3), 12, "never shorter than 12")
}

func TestNewValidatesDependencies(t *testing.T) {
	e := newEnv(t, 1)
	_, err := accounts.New(nil, e.tenant, nil)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	_, err = accounts.New(e.dir, nil, nil)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	svc, err := accounts.New(e.dir, e.tenant, nil)
	require.NoError(t, err)
	_, err = svc.Aliases(e.ctx, "anyone")
	require.ErrorIs(t, err, backend.ErrUnimplemented, "no mail backend configured")
}
