package backendtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// DirectoryHarness makes the [backend.Directory] under test. MakeDirectory
// is called once per subtest; it may return the same shared directory every
// time (a real domain controller) or a fresh one (an in-memory driver), and
// should register any teardown with t.Cleanup.
type DirectoryHarness interface {
	MakeDirectory(ctx context.Context, t *testing.T) backend.Directory
}

// Authenticator checks a password with the domain's logon semantics (an
// LDAP simple bind). A [DirectoryHarness] implements it to have
// [RunDirectoryTests] check logons; when the harness does not but the
// directory it makes does, the directory's method is used.
//
// Authenticate returns nil when the password is right and the account may
// log on, and otherwise an error of kind PermissionDenied naming the rule:
// [backend.ReasonInvalidCredentials] (unknown user or wrong password, AD's
// 52e), [backend.ReasonAccountDisabled] (533) or
// [backend.ReasonPasswordMustChange] (773). samOrUPN is a
// userPrincipalName when it holds an "@", a sAMAccountName otherwise.
type Authenticator interface {
	Authenticate(ctx context.Context, samOrUPN, password string) error
}

// PasswordNameRule is an optional interface a [DirectoryHarness]
// implements to declare whether the domain under test refuses passwords that
// contain the sAMAccountName or a 3+ character token of the display name
// ([backend.ReasonPasswordContainsName]). Windows domain controllers do; Samba
// does not (it leaves that check to a "check password script"). A harness
// that does not implement it is held to the rule.
type PasswordNameRule interface {
	EnforcesPasswordNameRule() bool
}

// Passwords the suite uses. They satisfy AD's default policy and contain
// none of the names the suite gives its users.
const (
	dirPassword1 = "Vq9#rT2!wK"
	dirPassword2 = "Hn4$pL8@xD"
	dirPassword3 = "Mw3%cB6&yF"
	dirPassword4 = "Jt6*sN1^qR"
)

// RunDirectoryTests runs the conformance suite for [backend.Directory].
//
// It works against a shared, non-empty domain: it creates users named
// "e365t" plus a random suffix, checks only those, and deletes them when
// each subtest ends. Against a real domain controller the domain's password
// policy must be AD's default (length 7, complexity on; any minimum
// password age: the suite changes a password right after an
// administrator's reset with "must change at next logon", as AD allows,
// and checks the refusal of a change before the minimum age).
func RunDirectoryTests(t *testing.T, h DirectoryHarness) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, f *dirFixture)
	}{
		{"Info", testDirInfo},
		{"CreateAndGet", testDirCreateAndGet},
		{"NotFound", testDirNotFound},
		{"AlreadyExists", testDirAlreadyExists},
		{"SameDisplayName", testDirSameDisplayName},
		{"ControlCharacters", testDirControlCharacters},
		{"InvalidSAMAccountName", testDirInvalidSAM},
		{"PasswordPolicy", testDirPasswordPolicy},
		{"ReadPasswordPolicy", testDirReadPolicy},
		{"MinimumPasswordAge", testDirMinAge},
		{"EscapedNames", testDirEscapedNames},
		{"EnableDisable", testDirEnableDisable},
		{"MustChangePassword", testDirMustChange},
		{"ResetAndChangePassword", testDirPasswords},
		{"Authenticate", testDirAuthenticate},
		{"OnlineAccount", testDirOnlineAccount},
		{"Delete", testDirDelete},
		{"ListUsers", testDirListUsers},
		{"Changes", testDirChanges},
		{"MalformedWatermark", testDirMalformedWatermark},
		{"Canceled", testDirCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			d := h.MakeDirectory(ctx, t)
			require.NotNil(t, d, "MakeDirectory returned nil")
			info, err := d.Info(ctx)
			require.NoError(t, err, "Info")
			f := &dirFixture{t: t, ctx: ctx, d: d, info: info, nameRule: true, harness: h}
			if p, ok := h.(PasswordNameRule); ok {
				f.nameRule = p.EnforcesPasswordNameRule()
			}
			if a, ok := h.(Authenticator); ok {
				f.auth = a
			} else if a, ok := d.(Authenticator); ok {
				f.auth = a
			}
			tc.fn(t, f)
		})
	}
}

// dirFixture is what each subtest works with.
type dirFixture struct {
	t    *testing.T
	ctx  context.Context
	d    backend.Directory
	info backend.DomainInfo
	auth Authenticator // nil when neither harness nor directory can bind
	// nameRule is set when the domain enforces
	// backend.ReasonPasswordContainsName.
	nameRule bool
	// harness is the harness, for its optional capabilities.
	harness DirectoryHarness
}

// upn returns local@<the domain's DNS name>.
func (f *dirFixture) upn(local string) string { return local + "@" + f.info.DNSName }

// newUser returns a valid NewDirectoryUser with unique names.
func (f *dirFixture) newUser() backend.NewDirectoryUser {
	sam := UniqueName("e365t")
	return backend.NewDirectoryUser{
		SAMAccountName:    sam,
		UserPrincipalName: f.upn(sam),
		DisplayName:       "E365 Test " + sam,
		GivenName:         "E365",
		Surname:           "Test " + sam,
		Password:          dirPassword1,
	}
}

// create creates u, requires success, and deletes the user at cleanup.
func (f *dirFixture) create(u backend.NewDirectoryUser) backend.DirectoryUser {
	f.t.Helper()
	got, err := f.d.CreateUser(f.ctx, u)
	require.NoError(f.t, err, "CreateUser(%q)", u.SAMAccountName)
	f.cleanup(got.ID)
	return got
}

// cleanup deletes the user id when the test ends, unless already gone.
func (f *dirFixture) cleanup(id backend.GUID) {
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), 30*time.Second)
		defer cancel()
		if err := f.d.DeleteUser(ctx, id); err != nil && !errors.Is(err, backend.ErrNotFound) {
			f.t.Errorf("cleanup: DeleteUser(%v): %v", id, err)
		}
	})
}

// get reads the user id back, requiring success.
func (f *dirFixture) get(id backend.GUID) backend.DirectoryUser {
	f.t.Helper()
	u, err := f.d.GetUser(f.ctx, id)
	require.NoError(f.t, err, "GetUser(%v)", id)
	return u
}

// needAuth skips the test when no Authenticator is available.
// needNameRule skips the test when the harness declares that the domain
// does not enforce the password name rule.
func (f *dirFixture) needNameRule(t *testing.T) {
	t.Helper()
	if !f.nameRule {
		t.Skip("the harness declares that the domain does not enforce password-contains-name")
	}
}

func (f *dirFixture) needAuth(t *testing.T) {
	t.Helper()
	if f.auth == nil {
		t.Skip("neither the harness nor the directory implements backendtest.Authenticator")
	}
}

func testDirInfo(t *testing.T, f *dirFixture) {
	assert.NotEmpty(t, f.info.DNSName, "DNSName")
	assert.Contains(t, f.info.DNSName, ".", "DNSName %q is not a DNS name", f.info.DNSName)
	assert.NotEmpty(t, f.info.NetBIOSName, "NetBIOSName")
	assert.LessOrEqual(t, len(f.info.NetBIOSName), 15, "NetBIOSName %q", f.info.NetBIOSName)
	assert.True(t, strings.HasPrefix(strings.ToUpper(f.info.BaseDN), "DC="), "BaseDN %q", f.info.BaseDN)
	assert.GreaterOrEqual(t, f.info.DomainControllers, 1, "DomainControllers")
}

func testDirCreateAndGet(t *testing.T, f *dirFixture) {
	nu := f.newUser()
	before := time.Now()
	u := f.create(nu)

	require.False(t, u.ID.IsZero(), "ID")
	assert.Equal(t, nu.SAMAccountName, u.SAMAccountName)
	assert.Equal(t, nu.UserPrincipalName, u.UserPrincipalName)
	assert.Equal(t, nu.DisplayName, u.DisplayName)
	assert.Equal(t, nu.GivenName, u.GivenName)
	assert.Equal(t, nu.Surname, u.Surname)
	assert.True(t, u.Enabled, "Enabled")
	assert.False(t, u.MustChangePassword, "MustChangePassword")
	assert.False(t, u.PasswordLastSet.IsZero(), "PasswordLastSet")
	assert.WithinDuration(t, before, u.PasswordLastSet, 10*time.Minute, "PasswordLastSet")
	assert.Empty(t, u.OnlineAccount, "OnlineAccount")
	assert.True(t, strings.HasPrefix(strings.ToUpper(u.DN), "CN="), "DN %q", u.DN)
	assert.True(t, strings.HasSuffix(strings.ToLower(u.DN), ","+strings.ToLower(f.info.BaseDN)), "DN %q under %q", u.DN, f.info.BaseDN)

	lookups := []struct {
		name string
		get  func() (backend.DirectoryUser, error)
	}{
		{"id", func() (backend.DirectoryUser, error) { return f.d.GetUser(f.ctx, u.ID) }},
		{"sam", func() (backend.DirectoryUser, error) { return f.d.GetUserBySAMAccountName(f.ctx, nu.SAMAccountName) }},
		{"sam upper case", func() (backend.DirectoryUser, error) {
			return f.d.GetUserBySAMAccountName(f.ctx, strings.ToUpper(nu.SAMAccountName))
		}},
		{"upn", func() (backend.DirectoryUser, error) { return f.d.GetUserByUPN(f.ctx, nu.UserPrincipalName) }},
		{"upn upper case", func() (backend.DirectoryUser, error) {
			return f.d.GetUserByUPN(f.ctx, strings.ToUpper(nu.UserPrincipalName))
		}},
	}
	for _, lc := range lookups {
		t.Run(lc.name, func(t *testing.T) {
			got, err := lc.get()
			require.NoError(t, err)
			assert.Equal(t, u.ID, got.ID)
			assert.Equal(t, u.SAMAccountName, got.SAMAccountName)
			assert.Equal(t, u.UserPrincipalName, got.UserPrincipalName)
			assert.Equal(t, u.DisplayName, got.DisplayName)
			assert.Equal(t, u.Enabled, got.Enabled)
			assert.True(t, strings.EqualFold(u.DN, got.DN), "DN %q, want %q", got.DN, u.DN)
			assert.True(t, u.PasswordLastSet.Equal(got.PasswordLastSet), "PasswordLastSet %v, want %v", got.PasswordLastSet, u.PasswordLastSet)
		})
	}

	t.Run("without upn", func(t *testing.T) {
		nu := f.newUser()
		nu.UserPrincipalName = ""
		nu.DisplayName = ""
		u := f.create(nu)
		assert.Empty(t, u.UserPrincipalName)
		got, err := f.d.GetUserBySAMAccountName(f.ctx, nu.SAMAccountName)
		require.NoError(t, err)
		assert.Equal(t, u.ID, got.ID)
		assert.Empty(t, got.UserPrincipalName)
		assert.True(t, strings.HasPrefix(strings.ToLower(got.DN), "cn="+nu.SAMAccountName+","), "DN %q is named after the sAMAccountName", got.DN)
	})

	t.Run("disabled", func(t *testing.T) {
		nu := f.newUser()
		nu.Disabled = true
		u := f.create(nu)
		assert.False(t, u.Enabled)
		assert.False(t, f.get(u.ID).Enabled)
	})
}

func testDirNotFound(t *testing.T, f *dirFixture) {
	missing := backend.NewGUID()
	sam := UniqueName("e365t")
	tests := []struct {
		name string
		call func() error
	}{
		{"GetUser", func() error { _, err := f.d.GetUser(f.ctx, missing); return err }},
		{"GetUserBySAMAccountName", func() error { _, err := f.d.GetUserBySAMAccountName(f.ctx, sam); return err }},
		{"GetUserByUPN", func() error { _, err := f.d.GetUserByUPN(f.ctx, f.upn(sam)); return err }},
		{"SetEnabled", func() error { return f.d.SetEnabled(f.ctx, missing, false) }},
		{"DeleteUser", func() error { return f.d.DeleteUser(f.ctx, missing) }},
		{"ResetPassword", func() error { return f.d.ResetPassword(f.ctx, missing, dirPassword2, false) }},
		{"ChangePassword", func() error { return f.d.ChangePassword(f.ctx, missing, dirPassword1, dirPassword2) }},
		{"SetMustChangePassword", func() error { return f.d.SetMustChangePassword(f.ctx, missing, true) }},
		{"SetOnlineAccount", func() error { return f.d.SetOnlineAccount(f.ctx, missing, "x") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dirRequireKind(t, tc.call(), backend.NotFound, "")
		})
	}
}

func testDirAlreadyExists(t *testing.T, f *dirFixture) {
	first := f.create(f.newUser())
	tests := []struct {
		name   string
		modify func(u *backend.NewDirectoryUser)
	}{
		{"same sam", func(u *backend.NewDirectoryUser) { u.SAMAccountName = first.SAMAccountName }},
		{"sam in other case", func(u *backend.NewDirectoryUser) { u.SAMAccountName = strings.ToUpper(first.SAMAccountName) }},
		{"same upn", func(u *backend.NewDirectoryUser) { u.UserPrincipalName = first.UserPrincipalName }},
		{"upn in other case", func(u *backend.NewDirectoryUser) { u.UserPrincipalName = strings.ToUpper(first.UserPrincipalName) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nu := f.newUser()
			tc.modify(&nu)
			got, err := f.d.CreateUser(f.ctx, nu)
			if err == nil {
				f.cleanup(got.ID)
			}
			dirRequireKind(t, err, backend.AlreadyExists, "")
		})
	}
	// The first user is untouched.
	u := f.get(first.ID)
	assert.Equal(t, first.SAMAccountName, u.SAMAccountName)
	assert.Equal(t, first.UserPrincipalName, u.UserPrincipalName)
}

func testDirInvalidSAM(t *testing.T, f *dirFixture) {
	tests := []struct {
		name   string
		sam    string
		reason backend.Reason
	}{
		{"empty", "", backend.ReasonSAMRequired},
		{"21 characters", UniqueName("e365tlong") + "abcd", backend.ReasonSAMLength},
		{"ends with period", UniqueName("e365t") + ".", backend.ReasonSAMCharacters},
	}
	for _, c := range `"/\[]:;|=,+*?<>@` {
		tests = append(tests, struct {
			name   string
			sam    string
			reason backend.Reason
		}{"holds " + string(c), "e365" + string(c) + UniqueName(""), backend.ReasonSAMCharacters})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nu := f.newUser()
			nu.SAMAccountName = tc.sam
			nu.UserPrincipalName = ""
			got, err := f.d.CreateUser(f.ctx, nu)
			if err == nil {
				f.cleanup(got.ID)
			}
			dirRequireKind(t, err, backend.InvalidArgument, tc.reason)
		})
	}
	t.Run("20 characters accepted", func(t *testing.T) {
		nu := f.newUser()
		nu.SAMAccountName = UniqueName("e365t20") + "abcde"
		require.Len(t, nu.SAMAccountName, 20)
		u := f.create(nu)
		assert.Equal(t, nu.SAMAccountName, u.SAMAccountName)
	})
}

func testDirPasswordPolicy(t *testing.T, f *dirFixture) {
	suffix := UniqueName("")
	tests := []struct {
		name        string
		sam         string
		displayName string
		password    string
		reason      backend.Reason // "" when the password is accepted
	}{
		{"six characters", "", "", "Aa1!xY", backend.ReasonPasswordLength},
		{"lower case only", "", "", "abcdefghijk", backend.ReasonPasswordComplexity},
		{"two kinds", "", "", "abcdefGHIJK", backend.ReasonPasswordComplexity},
		{"digits and symbols", "", "", "1234!@#$%^", backend.ReasonPasswordComplexity},
		{"contains sam", "e365p" + suffix, "", "Zz1!E365P" + strings.ToUpper(suffix), backend.ReasonPasswordContainsName},
		{"contains display name token", "", "Marta Kowalczyk " + suffix, "9!kowalczyk", backend.ReasonPasswordContainsName},
		{"contains token after comma", "", "Brzęczyszczykiewicz,Grzegorz " + suffix, "Grzegorz#2x", backend.ReasonPasswordContainsName},
		{"two-letter tokens ignored", "", "Jo Li " + suffix, "Jo-Li-7xQ!", ""},
		{"three kinds", "", "", "Abcdefg1", ""},
		{"upper, digits, symbols", "", "", "ABC-123-XYZ", ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nu := f.newUser()
			if tc.sam != "" {
				nu.SAMAccountName = tc.sam
				nu.UserPrincipalName = f.upn(tc.sam)
			}
			nu.DisplayName = tc.displayName
			if nu.DisplayName == "" {
				nu.DisplayName = "E365 Policy " + suffix + string(rune('a'+i))
			}
			nu.Password = tc.password
			got, err := f.d.CreateUser(f.ctx, nu)
			if err == nil {
				f.cleanup(got.ID)
			}
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			if tc.reason == backend.ReasonPasswordContainsName && !f.nameRule {
				t.Skip("the harness declares that the domain does not enforce password-contains-name")
			}
			dirRequireKind(t, err, backend.InvalidArgument, tc.reason)
			_, err = f.d.GetUserBySAMAccountName(f.ctx, nu.SAMAccountName)
			dirRequireKind(t, err, backend.NotFound, "")
		})
	}

	u := f.create(f.newUser())
	t.Run("reset checks the policy", func(t *testing.T) {
		dirRequireKind(t, f.d.ResetPassword(f.ctx, u.ID, "Aa1!", false), backend.InvalidArgument, backend.ReasonPasswordLength)
		dirRequireKind(t, f.d.ResetPassword(f.ctx, u.ID, "abcdefghijk", false), backend.InvalidArgument, backend.ReasonPasswordComplexity)
	})
	t.Run("reset checks the name rule", func(t *testing.T) {
		f.needNameRule(t)
		err := f.d.ResetPassword(f.ctx, u.ID, "Zz1!"+u.SAMAccountName, false)
		dirRequireKind(t, err, backend.InvalidArgument, backend.ReasonPasswordContainsName)
	})
	t.Run("change checks the policy", func(t *testing.T) {
		// "Must change at next logon" lifts the minimum password age, so
		// that the policy itself is what refuses.
		require.NoError(t, f.d.ResetPassword(f.ctx, u.ID, dirPassword1, true))
		dirRequireKind(t, f.d.ChangePassword(f.ctx, u.ID, dirPassword1, "abcdefghijk"), backend.InvalidArgument, backend.ReasonPasswordComplexity)
	})
	if f.auth != nil {
		t.Run("rejected passwords did not take", func(t *testing.T) {
			// The right password of a user who must change it is refused
			// with password-must-change, a wrong one with
			// invalid-credentials.
			dirRequireKind(t, f.auth.Authenticate(f.ctx, u.SAMAccountName, dirPassword1), backend.PermissionDenied, backend.ReasonPasswordMustChange)
		})
	}
}

func testDirEscapedNames(t *testing.T, f *dirFixture) {
	tests := []struct {
		name        string
		displayName string
		upnLocal    string
	}{
		{"apostrophe comma parentheses", "O'Brien, Zoë (Sales) ", "o'brien."},
		{"plus and equals", "a+b=c ", "a+b="},
		{"leading hash", "#lead ", "#lead."},
		{"filter metacharacters", "*)(cn=* ", "*)(cn=*"},
		{"backslash quotes angle brackets", `back\slash "q" <x>; `, "back.slash-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nu := f.newUser()
			nu.DisplayName = tc.displayName + nu.SAMAccountName
			nu.UserPrincipalName = f.upn(tc.upnLocal + nu.SAMAccountName)
			u := f.create(nu)
			assert.Equal(t, nu.DisplayName, u.DisplayName)
			assert.Equal(t, nu.UserPrincipalName, u.UserPrincipalName)

			got := f.get(u.ID)
			assert.Equal(t, nu.DisplayName, got.DisplayName)
			assert.True(t, strings.EqualFold(u.DN, got.DN), "DN %q, want %q", got.DN, u.DN)

			byUPN, err := f.d.GetUserByUPN(f.ctx, nu.UserPrincipalName)
			require.NoError(t, err)
			assert.Equal(t, u.ID, byUPN.ID)
			assert.Equal(t, nu.DisplayName, byUPN.DisplayName)

			bySAM, err := f.d.GetUserBySAMAccountName(f.ctx, nu.SAMAccountName)
			require.NoError(t, err)
			assert.Equal(t, u.ID, bySAM.ID)

			// A filter built from the name must not match other users.
			_, err = f.d.GetUserByUPN(f.ctx, f.upn(tc.upnLocal+"*"))
			dirRequireKind(t, err, backend.NotFound, "")

			require.NoError(t, f.d.SetOnlineAccount(f.ctx, u.ID, "online:"+nu.SAMAccountName))
			require.NoError(t, f.d.DeleteUser(f.ctx, u.ID))
			_, err = f.d.GetUser(f.ctx, u.ID)
			dirRequireKind(t, err, backend.NotFound, "")
		})
	}
}

func testDirEnableDisable(t *testing.T, f *dirFixture) {
	nu := f.newUser()
	nu.MustChangePassword = true
	nu.OnlineAccount = "online:" + nu.SAMAccountName
	u := f.create(nu)
	require.True(t, u.Enabled)

	steps := []struct {
		name    string
		enabled bool
	}{
		{"disable", false},
		{"disable again", false},
		{"enable", true},
		{"enable again", true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			require.NoError(t, f.d.SetEnabled(f.ctx, u.ID, st.enabled))
			got := f.get(u.ID)
			assert.Equal(t, st.enabled, got.Enabled)
			assert.True(t, got.MustChangePassword, "MustChangePassword kept")
			assert.True(t, got.PasswordLastSet.IsZero(), "PasswordLastSet kept")
			assert.Equal(t, nu.OnlineAccount, got.OnlineAccount, "OnlineAccount kept")
			assert.Equal(t, u.UserPrincipalName, got.UserPrincipalName)
			assert.Equal(t, u.DisplayName, got.DisplayName)
			assert.True(t, strings.EqualFold(u.DN, got.DN), "DN %q, want %q", got.DN, u.DN)
		})
	}
}

func testDirMustChange(t *testing.T, f *dirFixture) {
	nu := f.newUser()
	nu.MustChangePassword = true
	u := f.create(nu)
	assert.True(t, u.MustChangePassword)
	assert.True(t, u.PasswordLastSet.IsZero(), "PasswordLastSet is zero when the password must change")

	steps := []struct {
		name string
		do   func() error
		want bool // MustChangePassword afterwards
	}{
		{"clear", func() error { return f.d.SetMustChangePassword(f.ctx, u.ID, false) }, false},
		{"set", func() error { return f.d.SetMustChangePassword(f.ctx, u.ID, true) }, true},
		{"set again", func() error { return f.d.SetMustChangePassword(f.ctx, u.ID, true) }, true},
		{"reset without", func() error { return f.d.ResetPassword(f.ctx, u.ID, dirPassword2, false) }, false},
		{"reset with", func() error { return f.d.ResetPassword(f.ctx, u.ID, dirPassword3, true) }, true},
		{"change clears it", func() error { return f.d.ChangePassword(f.ctx, u.ID, dirPassword3, dirPassword4) }, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			require.NoError(t, st.do())
			got := f.get(u.ID)
			assert.Equal(t, st.want, got.MustChangePassword, "MustChangePassword")
			assert.Equal(t, st.want, got.PasswordLastSet.IsZero(), "PasswordLastSet %v", got.PasswordLastSet)
			assert.True(t, got.Enabled, "Enabled kept")
		})
	}
}

func testDirPasswords(t *testing.T, f *dirFixture) {
	u := f.create(f.newUser())
	t.Run("reset", func(t *testing.T) {
		require.NoError(t, f.d.ResetPassword(f.ctx, u.ID, dirPassword2, false))
		got := f.get(u.ID)
		assert.False(t, got.MustChangePassword)
		assert.False(t, got.PasswordLastSet.Before(u.PasswordLastSet), "PasswordLastSet %v went back from %v", got.PasswordLastSet, u.PasswordLastSet)
	})
	t.Run("change with wrong old password", func(t *testing.T) {
		err := f.d.ChangePassword(f.ctx, u.ID, dirPassword1, dirPassword3)
		dirRequireKind(t, err, backend.InvalidArgument, backend.ReasonOldPassword)
	})
	t.Run("change", func(t *testing.T) {
		// An administrator's reset with "must change at next logon" lets
		// the user change the password at once, whatever the minimum age.
		require.NoError(t, f.d.ResetPassword(f.ctx, u.ID, dirPassword2, true))
		require.NoError(t, f.d.ChangePassword(f.ctx, u.ID, dirPassword2, dirPassword3))
		got := f.get(u.ID)
		assert.False(t, got.MustChangePassword)
		assert.False(t, got.PasswordLastSet.IsZero())
	})
	if f.auth == nil {
		t.Log("no Authenticator: not checking which password logs on")
		return
	}
	t.Run("only the newest password logs on", func(t *testing.T) {
		require.NoError(t, f.auth.Authenticate(f.ctx, u.SAMAccountName, dirPassword3))
		for _, old := range []string{dirPassword1, dirPassword2} {
			dirRequireKind(t, f.auth.Authenticate(f.ctx, u.SAMAccountName, old), backend.PermissionDenied, backend.ReasonInvalidCredentials)
		}
	})
}

func testDirAuthenticate(t *testing.T, f *dirFixture) {
	f.needAuth(t)
	plain := f.create(f.newUser())
	disabledNew := f.newUser()
	disabledNew.Disabled = true
	disabled := f.create(disabledNew)
	mustNew := f.newUser()
	mustNew.MustChangePassword = true
	must := f.create(mustNew)

	tests := []struct {
		name     string
		login    string
		password string
		reason   backend.Reason // "" for success
	}{
		{"sam", plain.SAMAccountName, dirPassword1, ""},
		{"sam other case", strings.ToUpper(plain.SAMAccountName), dirPassword1, ""},
		{"upn", plain.UserPrincipalName, dirPassword1, ""},
		{"wrong password", plain.SAMAccountName, dirPassword2, backend.ReasonInvalidCredentials},
		{"password in other case", plain.SAMAccountName, strings.ToLower(dirPassword1), backend.ReasonInvalidCredentials},
		{"empty password", plain.SAMAccountName, "", backend.ReasonInvalidCredentials},
		{"unknown user", UniqueName("e365t"), dirPassword1, backend.ReasonInvalidCredentials},
		{"disabled", disabled.SAMAccountName, dirPassword1, backend.ReasonAccountDisabled},
		{"disabled wrong password", disabled.SAMAccountName, dirPassword2, backend.ReasonInvalidCredentials},
		{"must change", must.SAMAccountName, dirPassword1, backend.ReasonPasswordMustChange},
		{"must change wrong password", must.SAMAccountName, dirPassword2, backend.ReasonInvalidCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := f.auth.Authenticate(f.ctx, tc.login, tc.password)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			dirRequireKind(t, err, backend.PermissionDenied, tc.reason)
			if tc.password != "" {
				assert.NotContains(t, err.Error(), tc.password, "the error must not show the password")
			}
		})
	}
}

func testDirOnlineAccount(t *testing.T, f *dirFixture) {
	nu := f.newUser()
	nu.OnlineAccount = "created:" + nu.SAMAccountName
	u := f.create(nu)
	assert.Equal(t, nu.OnlineAccount, u.OnlineAccount)
	assert.Equal(t, nu.OnlineAccount, f.get(u.ID).OnlineAccount)

	steps := []struct {
		name  string
		value string
	}{
		{"write", "00000000-0000-0000-0000-000000000001"},
		{"overwrite", "user@contoso.onmicrosoft.com"},
		{"clear", ""},
		{"clear again", ""},
		{"write after clear", "again:" + nu.SAMAccountName},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			require.NoError(t, f.d.SetOnlineAccount(f.ctx, u.ID, st.value))
			got := f.get(u.ID)
			assert.Equal(t, st.value, got.OnlineAccount)
			assert.True(t, got.Enabled, "Enabled kept")
			assert.Equal(t, u.DisplayName, got.DisplayName, "DisplayName kept")
		})
	}
}

func testDirDelete(t *testing.T, f *dirFixture) {
	nu := f.newUser()
	u := f.create(nu)
	require.NoError(t, f.d.DeleteUser(f.ctx, u.ID))

	lookups := []struct {
		name string
		err  func() error
	}{
		{"GetUser", func() error { _, err := f.d.GetUser(f.ctx, u.ID); return err }},
		{"GetUserBySAMAccountName", func() error { _, err := f.d.GetUserBySAMAccountName(f.ctx, nu.SAMAccountName); return err }},
		{"GetUserByUPN", func() error { _, err := f.d.GetUserByUPN(f.ctx, nu.UserPrincipalName); return err }},
		{"DeleteUser again", func() error { return f.d.DeleteUser(f.ctx, u.ID) }},
		{"SetEnabled", func() error { return f.d.SetEnabled(f.ctx, u.ID, false) }},
	}
	for _, lc := range lookups {
		t.Run(lc.name, func(t *testing.T) {
			dirRequireKind(t, lc.err(), backend.NotFound, "")
		})
	}
	if f.auth != nil {
		t.Run("cannot log on", func(t *testing.T) {
			dirRequireKind(t, f.auth.Authenticate(f.ctx, nu.SAMAccountName, dirPassword1), backend.PermissionDenied, backend.ReasonInvalidCredentials)
		})
	}
	t.Run("names can be reused", func(t *testing.T) {
		again := f.create(nu)
		assert.NotEqual(t, u.ID, again.ID, "a new user gets a new objectGUID")
		assert.Equal(t, nu.SAMAccountName, again.SAMAccountName)
	})
}

func testDirListUsers(t *testing.T, f *dirFixture) {
	want := map[backend.GUID]string{}
	for range 3 {
		u := f.create(f.newUser())
		want[u.ID] = u.SAMAccountName
	}
	t.Run("includes created users", func(t *testing.T) {
		seen := map[backend.GUID]int{}
		for u, err := range f.d.ListUsers(f.ctx) {
			require.NoError(t, err)
			require.False(t, u.ID.IsZero(), "a listed user has an ID")
			seen[u.ID]++
			if sam, ok := want[u.ID]; ok {
				assert.Equal(t, sam, u.SAMAccountName)
			}
		}
		for id, sam := range want {
			assert.Equal(t, 1, seen[id], "user %s listed once", sam)
		}
	})
	t.Run("consumer stops early", func(t *testing.T) {
		assertStopsEarly(t, f.d.ListUsers(f.ctx), 2)
	})
	t.Run("excludes deleted users", func(t *testing.T) {
		var gone backend.GUID
		for id := range want {
			gone = id
			break
		}
		require.NoError(t, f.d.DeleteUser(f.ctx, gone))
		for u, err := range f.d.ListUsers(f.ctx) {
			require.NoError(t, err)
			require.NotEqual(t, gone, u.ID, "a deleted user is listed")
		}
	})
}

// dirDrain calls Changes from w until More is unset, returning the last
// change of each user (by ID, with how often it came) and the watermark.
func dirDrain(t *testing.T, f *dirFixture, w string) (map[backend.GUID]backend.DirectoryChange, map[backend.GUID]int, string) {
	t.Helper()
	last := map[backend.GUID]backend.DirectoryChange{}
	count := map[backend.GUID]int{}
	for i := 0; ; i++ {
		require.Less(t, i, 100000, "Changes keeps setting More")
		ch, err := f.d.Changes(f.ctx, w)
		require.NoError(t, err, "Changes")
		require.NotEmpty(t, ch.Watermark, "Changes returned no watermark")
		for _, c := range ch.Changes {
			last[c.User.ID] = c
			count[c.User.ID]++
		}
		w = ch.Watermark
		if !ch.More {
			return last, count, w
		}
	}
}

func testDirChanges(t *testing.T, f *dirFixture) {
	modified := f.create(f.newUser())
	disabled := f.create(f.newUser())
	deleted := f.create(f.newUser())
	unchanged := f.create(f.newUser())

	last, count, w := dirDrain(t, f, "")
	t.Run("empty watermark lists current users", func(t *testing.T) {
		for _, u := range []backend.DirectoryUser{modified, disabled, deleted, unchanged} {
			c, ok := last[u.ID]
			if assert.True(t, ok, "user %s reported", u.SAMAccountName) {
				assert.Equal(t, backend.Upserted, c.Type)
				assert.Equal(t, 1, count[u.ID], "user %s reported once", u.SAMAccountName)
				assert.Equal(t, u.SAMAccountName, c.User.SAMAccountName)
			}
		}
	})

	created := f.create(f.newUser())
	require.NoError(t, f.d.SetOnlineAccount(f.ctx, modified.ID, "first"))
	require.NoError(t, f.d.SetOnlineAccount(f.ctx, modified.ID, "second"))
	require.NoError(t, f.d.SetMustChangePassword(f.ctx, modified.ID, true))
	require.NoError(t, f.d.SetEnabled(f.ctx, disabled.ID, false))
	require.NoError(t, f.d.DeleteUser(f.ctx, deleted.ID))

	last, count, w2 := dirDrain(t, f, w)
	tests := []struct {
		name  string
		user  backend.DirectoryUser
		typ   backend.ChangeType
		check func(t *testing.T, u backend.DirectoryUser)
	}{
		{"created", created, backend.Upserted, func(t *testing.T, u backend.DirectoryUser) {
			assert.Equal(t, created.SAMAccountName, u.SAMAccountName)
			assert.True(t, u.Enabled)
		}},
		{"modified several times", modified, backend.Upserted, func(t *testing.T, u backend.DirectoryUser) {
			assert.Equal(t, "second", u.OnlineAccount, "latest state")
			assert.True(t, u.MustChangePassword, "latest state")
		}},
		{"disabled", disabled, backend.Upserted, func(t *testing.T, u backend.DirectoryUser) {
			assert.False(t, u.Enabled)
			assert.Equal(t, disabled.SAMAccountName, u.SAMAccountName)
		}},
		{"deleted", deleted, backend.Deleted, func(t *testing.T, u backend.DirectoryUser) {
			if u.SAMAccountName != "" {
				assert.Equal(t, deleted.SAMAccountName, u.SAMAccountName)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := last[tc.user.ID]
			require.True(t, ok, "user %s reported", tc.user.SAMAccountName)
			assert.Equal(t, 1, count[tc.user.ID], "reported exactly once")
			assert.Equal(t, tc.typ, c.Type)
			assert.Equal(t, tc.user.ID, c.User.ID)
			tc.check(t, c.User)
		})
	}
	t.Run("unchanged not reported", func(t *testing.T) {
		_, ok := last[unchanged.ID]
		assert.False(t, ok)
	})
	t.Run("nothing new", func(t *testing.T) {
		last, _, _ := dirDrain(t, f, w2)
		for _, u := range []backend.DirectoryUser{created, modified, disabled, deleted, unchanged} {
			_, ok := last[u.ID]
			assert.False(t, ok, "user %s reported again", u.SAMAccountName)
		}
	})
	t.Run("watermark can be replayed", func(t *testing.T) {
		last, _, _ := dirDrain(t, f, w)
		_, ok := last[created.ID]
		assert.True(t, ok, "a watermark stays usable")
	})
}

func testDirMalformedWatermark(t *testing.T, f *dirFixture) {
	for _, w := range []string{"%%%garbage%%%", "!!", "\x00"} {
		t.Run(w, func(t *testing.T) {
			_, err := f.d.Changes(f.ctx, w)
			dirRequireKind(t, err, backend.InvalidArgument, backend.ReasonWatermark)
		})
	}
}

func testDirCanceled(t *testing.T, f *dirFixture) {
	u := f.create(f.newUser())
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	tests := []struct {
		name string
		call func() error
	}{
		{"Info", func() error { _, err := f.d.Info(ctx); return err }},
		{"ListUsers", func() error {
			for _, err := range f.d.ListUsers(ctx) {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"GetUser", func() error { _, err := f.d.GetUser(ctx, u.ID); return err }},
		{"GetUserBySAMAccountName", func() error { _, err := f.d.GetUserBySAMAccountName(ctx, u.SAMAccountName); return err }},
		{"GetUserByUPN", func() error { _, err := f.d.GetUserByUPN(ctx, u.UserPrincipalName); return err }},
		{"CreateUser", func() error {
			got, err := f.d.CreateUser(ctx, f.newUser())
			if err == nil {
				f.cleanup(got.ID)
			}
			return err
		}},
		{"SetEnabled", func() error { return f.d.SetEnabled(ctx, u.ID, false) }},
		{"ResetPassword", func() error { return f.d.ResetPassword(ctx, u.ID, dirPassword2, false) }},
		{"ChangePassword", func() error { return f.d.ChangePassword(ctx, u.ID, dirPassword1, dirPassword2) }},
		{"SetMustChangePassword", func() error { return f.d.SetMustChangePassword(ctx, u.ID, true) }},
		{"SetOnlineAccount", func() error { return f.d.SetOnlineAccount(ctx, u.ID, "x") }},
		{"Changes", func() error { _, err := f.d.Changes(ctx, ""); return err }},
		{"DeleteUser", func() error { return f.d.DeleteUser(ctx, u.ID) }},
	}
	if f.auth != nil {
		tests = append(tests, struct {
			name string
			call func() error
		}{"Authenticate", func() error { return f.auth.Authenticate(ctx, u.SAMAccountName, dirPassword1) }})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			dirRequireKind(t, err, backend.Canceled, "")
		})
	}
	t.Run("nothing changed", func(t *testing.T) {
		got := f.get(u.ID)
		assert.Equal(t, u.Enabled, got.Enabled)
		assert.Equal(t, u.MustChangePassword, got.MustChangePassword)
		assert.Empty(t, got.OnlineAccount)
	})
}
