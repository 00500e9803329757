package adldap

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

func TestEscapeRDNValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"O'Brien, Zoë (Sales)", `O'Brien\, Zoë (Sales)`},
		{"a+b=c", `a\+b\=c`},
		{"#lead", `\#lead`},
		{"mid#dle", "mid#dle"},
		{"*)(cn=*", `*)(cn\=*`},
		{" lead and trail ", `\ lead and trail\ `},
		{`q"<>;\`, `q\"\<\>\;\\`},
		{"nul\x00", `nul\00`},
		{"tab\t", `tab\09`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := escapeRDNValue(tc.in)
			assert.Equal(t, tc.want, got)
			dn, err := ldap.ParseDN("CN=" + got + ",DC=x")
			require.NoError(t, err)
			assert.Equal(t, tc.in, dn.RDNs[0].Attributes[0].Value, "round trip")
		})
	}
}

func TestEscapeFilter(t *testing.T) {
	assert.Equal(t, `\2a\29\28cn=\2a`, escapeFilter("*)(cn=*"))
	assert.Equal(t, `\5c\00`, escapeFilter("\\\x00"))
	id := backend.GUID{0x01, 0xab}
	assert.Equal(t, `(objectGUID=\01\ab\00\00\00\00\00\00\00\00\00\00\00\00\00\00)`, guidFilter(id))
}

func TestEncodePassword(t *testing.T) {
	assert.Equal(t, "\"\x00a\x00\xeb\x00\"\x00", encodePassword("aë"))
	assert.Len(t, encodePassword("😀"), 8, "a surrogate pair plus quotes")
}

func TestClassify(t *testing.T) {
	ldapErr := func(code uint16, msg string) error { return ldap.NewError(code, errors.New(msg)) }
	tests := []struct {
		name   string
		err    error
		kind   backend.Kind
		reason backend.Reason
	}{
		{"no such object", ldapErr(32, "0000208D: NameErr"), backend.NotFound, ""},
		{"exists", ldapErr(68, "00000524: UpdErr"), backend.AlreadyExists, ""},
		{"samba short", ldapErr(19, "0000052D: Constraint violation - check_password_restrictions: the password is too short. It should be equal or longer than 7 characters!"), backend.InvalidArgument, backend.ReasonPasswordLength},
		{"samba complexity", ldapErr(19, "0000052D: Constraint violation - check_password_restrictions: the password does not meet the complexity criteria!"), backend.InvalidArgument, backend.ReasonPasswordComplexity},
		{"samba history", ldapErr(19, "0000052D: Constraint violation - check_password_restrictions: the password was already used (in history)!"), backend.InvalidArgument, backend.ReasonPasswordHistory},
		{"samba age", ldapErr(19, "0000052D: Constraint violation - check_password_restrictions: the password is too young to change!"), backend.InvalidArgument, backend.ReasonPasswordMinAge},
		{"samba old password", ldapErr(19, "00000056: Constraint violation - check_password_restrictions: The old password specified doesn't match!"), backend.InvalidArgument, backend.ReasonOldPassword},
		{"windows policy", ldapErr(53, "0000052D: SvcErr: DSID-031A1254, problem 5003 (WILL_NOT_PERFORM), data 0"), backend.InvalidArgument, backend.ReasonPasswordPolicy},
		{"windows old password", ldapErr(19, "00000056: AtrErr: DSID-03191083, #1"), backend.InvalidArgument, backend.ReasonOldPassword},
		{"other constraint", ldapErr(19, "00002082: attribute too long"), backend.InvalidArgument, ReasonConstraint},
		{"unwilling", ldapErr(53, "00002077: SvcErr"), backend.FailedPrecondition, ""},
		{"access", ldapErr(50, "00002098: SecErr"), backend.PermissionDenied, ""},
		{"busy", ldapErr(51, "busy"), backend.Unavailable, ""},
		{"unavailable", ldapErr(52, "unavailable"), backend.Unavailable, ""},
		{"strong auth", ldapErr(8, "BindSimple: Transport encryption required."), backend.FailedPrecondition, ReasonTLSRequired},
		{"52e", ldapErr(49, "80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 52e, v3839"), backend.PermissionDenied, backend.ReasonInvalidCredentials},
		{"525", ldapErr(49, "AcceptSecurityContext error, data 525, v893"), backend.PermissionDenied, backend.ReasonInvalidCredentials},
		{"532", ldapErr(49, "AcceptSecurityContext error, data 532, v893"), backend.PermissionDenied, backend.ReasonPasswordExpired},
		{"533", ldapErr(49, "AcceptSecurityContext error, data 533, v893"), backend.PermissionDenied, backend.ReasonAccountDisabled},
		{"701", ldapErr(49, "AcceptSecurityContext error, data 701, v893"), backend.PermissionDenied, backend.ReasonAccountExpired},
		{"773", ldapErr(49, "AcceptSecurityContext error, data 773, v893"), backend.PermissionDenied, backend.ReasonPasswordMustChange},
		{"775", ldapErr(49, "AcceptSecurityContext error, data 775, v893"), backend.PermissionDenied, backend.ReasonAccountLocked},
		{"49 without data", ldapErr(49, ""), backend.PermissionDenied, backend.ReasonInvalidCredentials},
		{"network", ldapErr(ldap.ErrorNetwork, "connection closed"), backend.Unavailable, ""},
		{"net error", &net.OpError{Op: "dial", Err: errors.New("refused")}, backend.Unavailable, ""},
		{"empty password", ldapErr(ldap.ErrorEmptyPassword, "empty"), backend.PermissionDenied, backend.ReasonInvalidCredentials},
		{"other", errors.New("strange"), backend.Unknown, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := classify(context.Background(), fmt.Errorf("wrapped: %w", tc.err), "op", "key")
			assert.Equal(t, tc.kind, backend.KindOf(err), "%v", err)
			assert.Equal(t, tc.reason, backend.ReasonOf(err))
			var le *ldap.Error
			if errors.As(tc.err, &le) {
				require.True(t, errors.As(err, &le), "the *ldap.Error stays reachable")
			}
		})
	}
	t.Run("done context wins", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := classify(ctx, ldap.NewError(ldap.ErrorNetwork, errors.New("closed")), "op", "")
		assert.ErrorIs(t, err, backend.ErrCanceled)
		assert.ErrorIs(t, err, context.Canceled)
		var le *ldap.Error
		assert.True(t, errors.As(err, &le))
	})
}

func TestPasswordErrorContainsName(t *testing.T) {
	complexity := func() error {
		return &backend.Error{Kind: backend.InvalidArgument, Reason: backend.ReasonPasswordComplexity}
	}
	d := &Directory{}
	tests := []struct {
		name, pw, sam, display string
		want                   backend.Reason
	}{
		{"sam", "Zz1!JSMITH", "jsmith", "", backend.ReasonPasswordContainsName},
		{"display token", "9!kowalczyk", "x", "Marta Kowalczyk", backend.ReasonPasswordContainsName},
		{"two-letter token", "Jo-Li-7xQ!", "x", "Jo Li", backend.ReasonPasswordComplexity},
		{"too few classes", "jsmithjsmith", "jsmith", "", backend.ReasonPasswordComplexity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, backend.ReasonOf(d.passwordError(complexity(), tc.pw, tc.sam, tc.display)))
		})
	}
}

func TestWatermark(t *testing.T) {
	for _, w := range []watermark{
		{invocation: "00112233445566778899aabbccddeeff", usn: 4242},
		{invocation: "00112233445566778899aabbccddeeff", usn: 4242, high: 9000, window: 2000, initial: true},
		{invocation: "00112233445566778899aabbccddeeff", usn: 0, high: 9000, window: 1},
	} {
		got, err := parseWatermark("op", w.String())
		require.NoError(t, err)
		assert.Equal(t, w, got)
	}
	enc := func(s string) string { return watermarkPrefix + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	inv := "00112233445566778899aabbccddeeff"
	for _, bad := range []string{"", "!!", "%%%garbage%%%", "\x00", "memdir1.5", watermarkPrefix + "!!", watermarkPrefix + "YWJj",
		enc(inv + ":5:4:10:1"), enc(inv + ":5:9:0:1"), enc(inv + ":5:9:10:2"), enc(inv + ":5:9:10"), enc("zz:5")} {
		t.Run(fmt.Sprintf("%q", bad), func(t *testing.T) {
			_, err := parseWatermark("op", bad)
			assert.ErrorIs(t, err, backend.ErrInvalidArgument)
			assert.Equal(t, backend.ReasonWatermark, backend.ReasonOf(err))
		})
	}
}

func TestFileTime(t *testing.T) {
	assert.True(t, fileTime(0).IsZero())
	assert.True(t, fileTime(-1).IsZero())
	assert.True(t, fileTime(1<<63-1).IsZero())
	assert.Equal(t, time.Date(2026, 11, 21, 18, 55, 49, 980705000, time.UTC), fileTime(134397609499807050))
}

func TestConfig(t *testing.T) {
	ok := Config{URL: "ldaps://dc.example", User: "u", Password: "p"}
	tests := []struct {
		name   string
		edit   func(c *Config)
		reason backend.Reason // "" when valid
	}{
		{"ldaps", func(*Config) {}, ""},
		{"StartTLS", func(c *Config) { c.URL, c.StartTLS = "ldap://dc.example", true }, ""},
		{"plain refused", func(c *Config) { c.URL = "ldap://dc.example" }, ReasonPlaintextBind},
		{"plain allowed", func(c *Config) { c.URL, c.AllowPlaintextBind = "ldap://dc.example", true }, ""},
		{"StartTLS on ldaps", func(c *Config) { c.StartTLS = true }, ReasonURL},
		{"scheme", func(c *Config) { c.URL = "http://dc.example" }, ReasonURL},
		{"no host", func(c *Config) { c.URL = "ldaps://" }, ReasonURL},
		{"no password", func(c *Config) { c.Password = "" }, ReasonCredentials},
		{"bad mapping", func(c *Config) { c.MappingAttribute = "cn)(x" }, ReasonMappingAttribute},
		{"missing CA file", func(c *Config) { c.CAFile = t.TempDir() + "/none.pem" }, ""},
		{"negative page", func(c *Config) { c.PageSize = -1 }, ReasonPageSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			s, err := c.settings()
			if tc.name == "missing CA file" {
				assert.ErrorIs(t, err, backend.ErrInvalidArgument)
				return
			}
			if tc.reason != "" {
				assert.ErrorIs(t, err, backend.ErrInvalidArgument)
				assert.Equal(t, tc.reason, backend.ReasonOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, DefaultMappingAttribute, s.mapping)
			assert.Equal(t, uint32(DefaultPageSize), s.pageSize)
			assert.NotNil(t, s.log)
		})
	}
	t.Run("ports", func(t *testing.T) {
		s, err := ok.settings()
		require.NoError(t, err)
		assert.Equal(t, "dc.example:636", s.addr)
		assert.False(t, s.tlsConfig.InsecureSkipVerify, "verification is on by default")
	})
}

// TestPasswordWritesNeedTLS checks the refusal before any I/O on a
// plaintext configuration.
func TestPasswordWritesNeedTLS(t *testing.T) {
	c := Config{URL: "ldap://127.0.0.1:1", User: "u", Password: "p", AllowPlaintextBind: true}
	s, err := c.settings()
	require.NoError(t, err)
	d := &Directory{s: s, pool: newPool(s)}
	ctx := t.Context()
	_, err = d.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: "x", Password: "Vq9#rT2!wK"})
	assert.Equal(t, ReasonTLSRequired, backend.ReasonOf(err))
	assert.Equal(t, ReasonTLSRequired, (backend.ReasonOf(d.ResetPassword(ctx, backend.NewGUID(), "Vq9#rT2!wK", false))))
	assert.Equal(t, ReasonTLSRequired, (backend.ReasonOf(d.ChangePassword(ctx, backend.NewGUID(), "a", "b"))))
}
