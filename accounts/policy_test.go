package accounts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// TestCheckNetworkPassword checks a new network password against the
// user's directory policy, without writing anything.
func TestCheckNetworkPassword(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(2)
	u := e.user("user001")
	pso := backend.DefaultPasswordPolicy()
	pso.MinLength = 16
	require.NoError(t, e.dir.SetFineGrainedPolicy(e.ctx, u.ID, &pso))
	e.dir.ResetCalls()

	tests := []struct {
		user, password string
		reason         backend.Reason
	}{
		{"user001", "Twelve-Chars", backend.ReasonPasswordLength},
		{"user001", "abcdefghijklmnopq", backend.ReasonPasswordComplexity},
		{"user001", "User001-Sixteen!x", backend.ReasonPasswordContainsName},
		{"user001", "Sixteen-Chars-OK", ""},
		{"user002", "Twelve-Chars", ""}, // the domain's policy: 7 characters
		{"user001@contoso.local", "Twelve-Chars", backend.ReasonPasswordLength},
	}
	for _, tc := range tests {
		t.Run(tc.user+" "+tc.password, func(t *testing.T) {
			err := e.svc.CheckNetworkPassword(e.ctx, tc.user, tc.password)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, backend.ErrInvalidArgument)
			assert.Equal(t, tc.reason, backend.ReasonOf(err))
			assert.NotContains(t, err.Error(), tc.password, "errors never show the password")
		})
	}
	assert.Zero(t, e.dir.CountCalls(memory.OpResetPassword)+e.dir.CountCalls(memory.OpChangePassword), "nothing written")
	assert.Equal(t, len(tests), e.dir.CountCalls(memory.OpUserPasswordPolicy))

	_, err := e.svc.SetPassword(e.ctx, "user001", "Sixteen-Chars-OK")
	require.NoError(t, err)
	t.Run("a change before the minimum age is refused by the directory, saying when", func(t *testing.T) {
		_, err := e.svc.ChangePassword(e.ctx, "user001", "Sixteen-Chars-OK", "Another-Long-Pw-7")
		require.ErrorIs(t, err, backend.ErrInvalidArgument)
		assert.Equal(t, backend.ReasonPasswordMinAge, backend.ReasonOf(err))
		assert.Contains(t, err.Error(), e.clock.Now().Add(24*time.Hour).UTC().Format(time.RFC3339))
	})
}

// TestSetPasswordPrechecksTheDirectoryPolicy: a password the user's
// directory policy refuses (here a fine-grained minimum of 16 characters)
// is refused before either side is written, although Microsoft 365 would
// take it.
func TestSetPasswordPrechecksTheDirectoryPolicy(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	u := e.user("user001")
	pso := backend.DefaultPasswordPolicy()
	pso.MinLength = 16
	require.NoError(t, e.dir.SetFineGrainedPolicy(e.ctx, u.ID, &pso))
	e.dir.ResetCalls()
	e.tenant.ResetCalls()

	_, err := e.svc.SetPassword(e.ctx, "user001", "Twelve-Chars")
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, backend.ReasonPasswordLength, backend.ReasonOf(err))
	_, err = e.svc.ChangePassword(e.ctx, "user001", "whatever", "Twelve-Chars")
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, backend.ReasonPasswordLength, backend.ReasonOf(err))
	assert.Zero(t, e.dir.CountCalls(memory.OpResetPassword)+e.dir.CountCalls(memory.OpChangePassword), "the directory is not written")
	assert.Zero(t, e.tenant.CountCalls(memory.OpUpdateUser), "the tenant is not written")
}
