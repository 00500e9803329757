package backendtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// testDirSameDisplayName checks the rule for a display name whose CN is
// taken in the container: the new user is named "<display name>
// (<sAMAccountName>)" (backend.UniqueCN) and keeps its display name.
func testDirSameDisplayName(t *testing.T, f *dirFixture) {
	first := f.create(f.newUser())
	tests := []struct {
		name        string
		displayName string
	}{
		{"same display name", first.DisplayName},
		{"same display name in other case", strings.ToUpper(first.DisplayName)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nu := f.newUser()
			nu.DisplayName = tc.displayName
			u := f.create(nu)
			assert.Equal(t, tc.displayName, u.DisplayName, "the display name is kept")
			assert.Equal(t, backend.UniqueCN(tc.displayName, nu.SAMAccountName), dirCN(t, u.DN), "DN %q", u.DN)
			got := f.get(u.ID)
			assert.True(t, strings.EqualFold(u.DN, got.DN), "DN %q, want %q", got.DN, u.DN)
			assert.Equal(t, tc.displayName, got.DisplayName)
		})
	}
	t.Run("long display name", func(t *testing.T) {
		long := "E365 " + strings.Repeat("Long ", 10) + UniqueName("")
		require.LessOrEqual(t, len(long), backend.MaxCN)
		a := f.newUser()
		a.DisplayName = long
		f.create(a)
		b := f.newUser()
		b.DisplayName = long
		u := f.create(b)
		cn := dirCN(t, u.DN)
		assert.LessOrEqual(t, len([]rune(cn)), backend.MaxCN, "CN %q", cn)
		assert.True(t, strings.HasSuffix(cn, " ("+b.SAMAccountName+")"), "CN %q", cn)
		assert.Equal(t, long, u.DisplayName)
	})
	t.Run("first user untouched", func(t *testing.T) {
		got := f.get(first.ID)
		assert.True(t, strings.EqualFold(first.DN, got.DN))
		assert.Equal(t, first.DisplayName, got.DisplayName)
	})
}

// dirCN returns the value of the first RDN of dn, unescaped (RFC 4514).
func dirCN(t *testing.T, dn string) string {
	t.Helper()
	require.True(t, len(dn) > 3 && strings.EqualFold(dn[:3], "CN="), "DN %q starts with CN=", dn)
	var b strings.Builder
	for i := 3; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c == ',':
			return b.String()
		case c == '\\' && i+1 < len(dn):
			i++
			if h := dn[i:min(i+2, len(dn))]; len(h) == 2 && isHex(h[0]) && isHex(h[1]) {
				b.WriteByte(unhex(h[0])<<4 | unhex(h[1]))
				i++
				continue
			}
			b.WriteByte(dn[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// testDirControlCharacters checks that names and lookups holding control
// characters are refused with name-characters and never reach another
// user.
func testDirControlCharacters(t *testing.T, f *dirFixture) {
	u := f.create(f.newUser())
	lookups := []struct {
		name string
		call func() error
	}{
		{"sAMAccountName with NUL", func() error {
			_, err := f.d.GetUserBySAMAccountName(f.ctx, u.SAMAccountName+"\x00")
			return err
		}},
		{"sAMAccountName with NUL and more", func() error {
			_, err := f.d.GetUserBySAMAccountName(f.ctx, u.SAMAccountName+"\x00x")
			return err
		}},
		{"UPN with NUL", func() error {
			_, err := f.d.GetUserByUPN(f.ctx, u.UserPrincipalName+"\x00junk")
			return err
		}},
		{"UPN with LF", func() error {
			_, err := f.d.GetUserByUPN(f.ctx, u.UserPrincipalName+"\n")
			return err
		}},
		{"online account with CR LF", func() error { return f.d.SetOnlineAccount(f.ctx, u.ID, "id\r\nx") }},
	}
	if f.auth != nil {
		lookups = append(lookups, struct {
			name string
			call func() error
		}{"logon with NUL", func() error { return f.auth.Authenticate(f.ctx, u.SAMAccountName+"\x00junk", dirPassword1) }})
	}
	for _, tc := range lookups {
		t.Run(tc.name, func(t *testing.T) {
			dirRequireKind(t, tc.call(), backend.InvalidArgument, backend.ReasonNameCharacters)
		})
	}
	t.Run("user untouched", func(t *testing.T) {
		got := f.get(u.ID)
		assert.Empty(t, got.OnlineAccount)
		assert.True(t, got.Enabled)
	})

	creates := []struct {
		name   string
		modify func(nu *backend.NewDirectoryUser)
	}{
		{"sAMAccountName with NUL", func(nu *backend.NewDirectoryUser) { nu.SAMAccountName = "e365\x00" + UniqueName("")[:6] }},
		{"UPN with TAB", func(nu *backend.NewDirectoryUser) { nu.UserPrincipalName = "a\tb" + nu.UserPrincipalName }},
		{"display name with NUL", func(nu *backend.NewDirectoryUser) { nu.DisplayName += "\x00" }},
		{"display name with CR", func(nu *backend.NewDirectoryUser) { nu.DisplayName = "E365\rTest " + nu.SAMAccountName }},
		{"display name with LF", func(nu *backend.NewDirectoryUser) { nu.DisplayName = "E365\nTest " + nu.SAMAccountName }},
		{"given name with ESC", func(nu *backend.NewDirectoryUser) { nu.GivenName = "E\x1b[0m" }},
		{"surname with DEL", func(nu *backend.NewDirectoryUser) { nu.Surname += "\x7f" }},
		{"surname not UTF-8", func(nu *backend.NewDirectoryUser) { nu.Surname += "\xff" }},
	}
	for _, tc := range creates {
		t.Run("create "+tc.name, func(t *testing.T) {
			nu := f.newUser()
			tc.modify(&nu)
			got, err := f.d.CreateUser(f.ctx, nu)
			if err == nil {
				f.cleanup(got.ID)
			}
			dirRequireKind(t, err, backend.InvalidArgument, backend.ReasonNameCharacters)
			if !strings.ContainsFunc(nu.SAMAccountName, func(r rune) bool { return r < 0x20 }) {
				_, err = f.d.GetUserBySAMAccountName(f.ctx, nu.SAMAccountName)
				dirRequireKind(t, err, backend.NotFound, "")
			}
		})
	}
}
