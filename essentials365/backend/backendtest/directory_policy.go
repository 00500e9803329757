package backendtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// FineGrainedPolicies is an optional interface a [DirectoryHarness]
// implements to let [RunDirectoryTests] give a user a fine-grained
// password policy, as an administrator does in AD with a password settings
// object (PSO) applied to a group of the user's. ApplyPasswordPolicy
// applies p to the user id, registers its undoing with t.Cleanup, and
// returns the distinguished name of the policy. The suite then checks that
// UserPasswordPolicy reports the policy and that the directory enforces
// it; without the interface those checks are skipped with a message.
type FineGrainedPolicies interface {
	ApplyPasswordPolicy(ctx context.Context, t *testing.T, id backend.GUID, p backend.PasswordPolicy) string
}

// testDirReadPolicy checks the policy reads against what the directory
// enforces.
func testDirReadPolicy(t *testing.T, f *dirFixture) {
	p, err := f.d.PasswordPolicy(f.ctx)
	require.NoError(t, err, "PasswordPolicy")
	assert.Empty(t, p.Source, "the domain's policy has no Source")
	assert.GreaterOrEqual(t, p.MinLength, 0)
	assert.GreaterOrEqual(t, p.HistoryLength, 0)
	assert.GreaterOrEqual(t, p.MinAge, time.Duration(0))
	if p.MaxAge > 0 {
		assert.Greater(t, p.MaxAge, p.MinAge, "a password expires after it may be changed")
	}

	u := f.create(f.newUser())
	t.Run("a user without a fine-grained policy has the domain's", func(t *testing.T) {
		up, err := f.d.UserPasswordPolicy(f.ctx, u.ID)
		require.NoError(t, err)
		if up.Source != "" {
			t.Skipf("the domain gives every user the fine-grained policy %s", up.Source)
		}
		assert.Equal(t, p, up)
	})
	t.Run("unknown user", func(t *testing.T) {
		_, err := f.d.UserPasswordPolicy(f.ctx, backend.NewGUID())
		dirRequireKind(t, err, backend.NotFound, "")
	})
	if p.MinLength >= 5 {
		t.Run("the minimum length is enforced", func(t *testing.T) {
			pw := "Qz7#" + strings.Repeat("k", p.MinLength)
			dirRequireKind(t, f.d.ResetPassword(f.ctx, u.ID, pw[:p.MinLength-1], false), backend.InvalidArgument, backend.ReasonPasswordLength)
			require.NoError(t, f.d.ResetPassword(f.ctx, u.ID, pw[:p.MinLength], false))
		})
	}
	if p.Complexity {
		t.Run("complexity is enforced", func(t *testing.T) {
			dirRequireKind(t, f.d.ResetPassword(f.ctx, u.ID, strings.Repeat("abcdefgh", 4), false), backend.InvalidArgument, backend.ReasonPasswordComplexity)
		})
	}

	t.Run("fine-grained policy", func(t *testing.T) {
		fg, ok := f.harness.(FineGrainedPolicies)
		if !ok {
			t.Skip("the harness does not implement backendtest.FineGrainedPolicies")
		}
		v := f.create(f.newUser())
		want := backend.PasswordPolicy{
			MinLength: 12, Complexity: true, HistoryLength: 5,
			MinAge: 0, MaxAge: 90 * 24 * time.Hour,
			LockoutThreshold: 0, LockoutDuration: 15 * time.Minute, LockoutWindow: 15 * time.Minute,
		}
		dn := fg.ApplyPasswordPolicy(f.ctx, t, v.ID, want)
		got, err := f.d.UserPasswordPolicy(f.ctx, v.ID)
		require.NoError(t, err)
		assert.True(t, strings.EqualFold(dn, got.Source), "Source %q, want %q", got.Source, dn)
		got.Source, want.Source = "", ""
		assert.Equal(t, want, got)
		domain, err := f.d.PasswordPolicy(f.ctx)
		require.NoError(t, err)
		assert.Equal(t, p, domain, "the domain's policy is unchanged")

		// Its minimum length (12) applies, not the domain's.
		dirRequireKind(t, f.d.ResetPassword(f.ctx, v.ID, "Ab1!cdefghi", false), backend.InvalidArgument, backend.ReasonPasswordLength)
		// Its minimum age (0) lets the user change a password just set.
		require.NoError(t, f.d.ResetPassword(f.ctx, v.ID, "Ab1!cdefghij", false))
		require.NoError(t, f.d.ChangePassword(f.ctx, v.ID, "Ab1!cdefghij", "Zy9#xwvutsrq"))
		if f.auth != nil {
			require.NoError(t, f.auth.Authenticate(f.ctx, v.SAMAccountName, "Zy9#xwvutsrq"))
		}
	})
}

// testDirMinAge checks the refusal of a change before the minimum
// password age, and that it says when the change becomes possible.
func testDirMinAge(t *testing.T, f *dirFixture) {
	u := f.create(f.newUser())
	p, err := f.d.UserPasswordPolicy(f.ctx, u.ID)
	require.NoError(t, err)
	if p.MinAge <= 0 {
		t.Run("no minimum age", func(t *testing.T) {
			require.NoError(t, f.d.ChangePassword(f.ctx, u.ID, dirPassword1, dirPassword2))
		})
		return
	}
	t.Run("change right after creation", func(t *testing.T) {
		err := f.d.ChangePassword(f.ctx, u.ID, dirPassword1, dirPassword2)
		dirRequireKind(t, err, backend.InvalidArgument, backend.ReasonPasswordMinAge)
		at := p.ChangeAllowedAt(f.get(u.ID).PasswordLastSet)
		assert.Contains(t, err.Error(), at.UTC().Format(time.RFC3339), "the error says when the change becomes possible")
		assert.NotContains(t, err.Error(), dirPassword1, "errors never show a password")
		assert.NotContains(t, err.Error(), dirPassword2, "errors never show a password")
	})
	t.Run("the old password is checked first", func(t *testing.T) {
		err := f.d.ChangePassword(f.ctx, u.ID, dirPassword3, dirPassword2)
		dirRequireKind(t, err, backend.InvalidArgument, backend.ReasonOldPassword)
	})
	t.Run("change right after an administrator's reset", func(t *testing.T) {
		require.NoError(t, f.d.ResetPassword(f.ctx, u.ID, dirPassword3, false))
		err := f.d.ChangePassword(f.ctx, u.ID, dirPassword3, dirPassword2)
		dirRequireKind(t, err, backend.InvalidArgument, backend.ReasonPasswordMinAge)
	})
	if f.auth != nil {
		t.Run("the refused change did not take", func(t *testing.T) {
			require.NoError(t, f.auth.Authenticate(f.ctx, u.SAMAccountName, dirPassword3))
		})
	}
	t.Run("must change at next logon lifts it", func(t *testing.T) {
		require.NoError(t, f.d.SetMustChangePassword(f.ctx, u.ID, true))
		require.NoError(t, f.d.ChangePassword(f.ctx, u.ID, dirPassword3, dirPassword2))
		assert.False(t, f.get(u.ID).MustChangePassword)
	})
	t.Run("the history is checked after the age", func(t *testing.T) {
		require.NoError(t, f.d.ResetPassword(f.ctx, u.ID, dirPassword2, true))
		err := f.d.ChangePassword(f.ctx, u.ID, dirPassword2, dirPassword2)
		if p.HistoryLength > 0 {
			dirRequireKind(t, err, backend.InvalidArgument, backend.ReasonPasswordHistory)
		} else {
			require.NoError(t, err)
		}
	})
}
