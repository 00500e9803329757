package backend_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"plain", "Jean Martin", true},
		{"empty", "", true},
		{"accents and CJK", "Zoë 日本", true},
		{"NUL", "ann\x00", false},
		{"NUL inside", "ann\x00x", false},
		{"CR", "a\rb", false},
		{"LF", "a\nb", false},
		{"TAB", "a\tb", false},
		{"ESC", "\x1b[0m", false},
		{"DEL", "a\x7f", false},
		{"not UTF-8", "a\xffb", false},
		{"C1 next line is not C0", "a\u0085b", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := backend.CheckName("directory: get user", "key", "the display name", tc.in)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, backend.ErrInvalidArgument)
			assert.Equal(t, backend.ReasonNameCharacters, backend.ReasonOf(err))
			assert.Contains(t, err.Error(), "the display name")
			assert.Contains(t, err.Error(), `("key")`)
		})
	}
	err := backend.CheckSAMAccountName("op", "a\x00b")
	assert.Equal(t, backend.ReasonNameCharacters, backend.ReasonOf(err), "the sAMAccountName rules use the same check")
}

func TestUniqueCN(t *testing.T) {
	assert.Equal(t, "Jean Martin (jmartin2)", backend.UniqueCN("Jean Martin", "jmartin2"))
	long := strings.Repeat("a", 60) + " b"
	got := backend.UniqueCN(long, "abcdefghijklmnopqrst")
	assert.Len(t, []rune(got), backend.MaxCN)
	assert.True(t, strings.HasSuffix(got, " (abcdefghijklmnopqrst)"), got)
	assert.Equal(t, strings.Repeat("a", 41)+" (abcdefghijklmnopqrst)", got)
	// A cut that ends on a space drops it.
	spaced := strings.Repeat("a", 40) + " " + strings.Repeat("b", 20)
	assert.Equal(t, strings.Repeat("a", 40)+" (abcdefghijklmnopqrst)", backend.UniqueCN(spaced, "abcdefghijklmnopqrst"))
	assert.Len(t, []rune(backend.UniqueCN(strings.Repeat("é", 64), "x")), backend.MaxCN, "counted in characters")
}

func TestPasswordPolicyCheck(t *testing.T) {
	p := backend.DefaultPasswordPolicy()
	tests := []struct {
		pw     string
		reason backend.Reason
	}{
		{"Aa1!xY", backend.ReasonPasswordLength},
		{"abcdefghijk", backend.ReasonPasswordComplexity},
		{"Zz1!JMARTIN", backend.ReasonPasswordContainsName},
		{"9!martin-x", backend.ReasonPasswordContainsName},
		{"Vq9#rT2!wK", ""},
	}
	for _, tc := range tests {
		t.Run(tc.pw, func(t *testing.T) {
			err := p.CheckPassword("op", "jmartin", tc.pw, "jmartin", "Jean Martin")
			assert.Equal(t, tc.reason, backend.ReasonOf(err))
			if err != nil {
				assert.NotContains(t, err.Error(), tc.pw, "errors never show the password")
			}
		})
	}
	noComplexity := backend.PasswordPolicy{MinLength: 3}
	assert.NoError(t, noComplexity.CheckPassword("op", "k", "jmartin", "jmartin", ""))
}

func TestPasswordPolicyMinAge(t *testing.T) {
	p := backend.DefaultPasswordPolicy()
	set := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	assert.Equal(t, set.Add(24*time.Hour), p.ChangeAllowedAt(set))
	assert.True(t, p.ChangeAllowedAt(time.Time{}).IsZero(), "must change at next logon: at once")
	assert.True(t, backend.PasswordPolicy{}.ChangeAllowedAt(set).IsZero(), "no minimum age: at once")

	err := p.CheckMinAge("directory: change password", "ann", set, set.Add(time.Hour))
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, backend.ReasonPasswordMinAge, backend.ReasonOf(err))
	assert.Contains(t, err.Error(), "1 day")
	assert.Contains(t, err.Error(), "2026-03-03T08:30:00Z")
	assert.Contains(t, err.Error(), "administrator")
	assert.NoError(t, p.CheckMinAge("op", "ann", set, set.Add(24*time.Hour)))
	assert.NoError(t, p.CheckMinAge("op", "ann", time.Time{}, set))

	p.MinAge = 2 * 24 * time.Hour
	assert.Contains(t, p.MinAgeError("op", "ann", set).Error(), "2 days")
	p.MinAge = 90 * time.Minute
	assert.Contains(t, p.MinAgeError("op", "ann", set).Error(), "1h30m0s")
}
