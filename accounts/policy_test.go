package accounts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// TestPasswordPreCheck checks that a new network password is checked
// against the user's policy before anything is written, on either side.
func TestPasswordPreCheck(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)
	u := e.user("user001")
	pso := backend.DefaultPasswordPolicy()
	pso.MinLength = 16
	require.NoError(t, e.dir.SetFineGrainedPolicy(e.ctx, u.ID, &pso))
	e.dir.ResetCalls()

	_, err := e.svc.SetPassword(e.ctx, "user001", "Twelve-Chars")
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, backend.ReasonPasswordLength, backend.ReasonOf(err))
	assert.Contains(t, err.Error(), "at least 16 characters")
	assert.Zero(t, e.dir.CountCalls(memory.OpResetPassword), "nothing written to the directory")
	assert.False(t, e.tenant.CheckPassword("user001@contoso.com", "Twelve-Chars"), "nothing written online")

	e.clock.Advance(48 * time.Hour)
	_, err = e.svc.ChangePassword(e.ctx, "user001", "Initial-Pw-2026", "User001-Sixteen!x")
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, backend.ReasonPasswordContainsName, backend.ReasonOf(err), "the complexity rule's name check")
	assert.Zero(t, e.dir.CountCalls(memory.OpChangePassword))

	_, err = e.svc.SetPassword(e.ctx, "user001", "Sixteen-Chars-OK")
	require.NoError(t, err)
	assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "Sixteen-Chars-OK"))

	t.Run("minimum age, refused by the directory, says when", func(t *testing.T) {
		_, err := e.svc.ChangePassword(e.ctx, "user001", "Sixteen-Chars-OK", "Another-Long-Pw-7")
		require.ErrorIs(t, err, backend.ErrInvalidArgument)
		assert.Equal(t, backend.ReasonPasswordMinAge, backend.ReasonOf(err))
		assert.Contains(t, err.Error(), e.clock.Now().Add(24*time.Hour).UTC().Format(time.RFC3339))
		assert.True(t, e.tenant.CheckPassword("user001@contoso.com", "Sixteen-Chars-OK"), "the online password is unchanged")
	})
}
