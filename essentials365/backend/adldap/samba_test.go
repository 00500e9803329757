package adldap_test

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
)

const (
	goodPassword  = "Vq9#rT2!wK"
	otherPassword = "Hn4$pL8@xD"
	thirdPassword = "Mw3%cB6&yF"
)

// requireKind checks err's kind and reason and returns its *backend.Error.
func requireKind(t *testing.T, err error, kind backend.Kind, reason backend.Reason) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, kind, backend.KindOf(err), "kind of %v", err)
	if reason != "" {
		require.Equal(t, reason, backend.ReasonOf(err), "reason of %v", err)
	}
}

// newUser creates a user with a unique name and deletes it at cleanup.
func newUser(t *testing.T, d *adldap.Directory, prefix string, edit func(*backend.NewDirectoryUser)) backend.DirectoryUser {
	t.Helper()
	sam := backendtest.UniqueName(prefix)
	info, err := d.Info(t.Context())
	require.NoError(t, err)
	nu := backend.NewDirectoryUser{
		SAMAccountName:    sam,
		UserPrincipalName: sam + "@" + info.DNSName,
		DisplayName:       "Test " + sam,
		Password:          goodPassword,
	}
	if edit != nil {
		edit(&nu)
	}
	u, err := d.CreateUser(t.Context(), nu)
	require.NoError(t, err, "CreateUser(%q)", sam)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := d.DeleteUser(ctx, u.ID); err != nil && !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("cleanup: %v", err)
		}
	})
	return u
}

func TestOpenTLS(t *testing.T) {
	base := config(t)
	ldapURL := strings.Replace(strings.Replace(base.URL, "ldaps://", "ldap://", 1), ":636", ":389", 1)
	tests := []struct {
		name   string
		edit   func(c *adldap.Config)
		kind   backend.Kind // Unknown: success
		reason backend.Reason
	}{
		{"ldaps with the test CA", func(*adldap.Config) {}, backend.Unknown, ""},
		{"ldaps with the CA as a pool", func(c *adldap.Config) {
			pem, err := os.ReadFile(c.CAFile)
			require.NoError(t, err)
			c.CA = x509.NewCertPool()
			require.True(t, c.CA.AppendCertsFromPEM(pem))
			c.CAFile = ""
		}, backend.Unknown, ""},
		{"ldaps without the CA", func(c *adldap.Config) { c.CAFile = "" }, backend.FailedPrecondition, adldap.ReasonTLSCertificate},
		{"ldaps with the wrong server name", func(c *adldap.Config) { c.ServerName = "wrong.example" }, backend.FailedPrecondition, adldap.ReasonTLSCertificate},
		{"ldaps skipping verification", func(c *adldap.Config) { c.CAFile, c.InsecureSkipVerify = "", true }, backend.Unknown, ""},
		{"StartTLS", func(c *adldap.Config) { c.URL, c.StartTLS = ldapURL, true }, backend.Unknown, ""},
		{"StartTLS without the CA", func(c *adldap.Config) { c.URL, c.StartTLS, c.CAFile = ldapURL, true, "" }, backend.FailedPrecondition, adldap.ReasonTLSCertificate},
		{"StartTLS with the wrong server name", func(c *adldap.Config) { c.URL, c.StartTLS, c.ServerName = ldapURL, true, "wrong.example" }, backend.FailedPrecondition, adldap.ReasonTLSCertificate},
		{"StartTLS skipping verification", func(c *adldap.Config) { c.URL, c.StartTLS, c.CAFile, c.InsecureSkipVerify = ldapURL, true, "", true }, backend.Unknown, ""},
		{"plain LDAP refused by the driver", func(c *adldap.Config) { c.URL = ldapURL }, backend.InvalidArgument, adldap.ReasonPlaintextBind},
		{"plain LDAP refused by the DC", func(c *adldap.Config) { c.URL, c.AllowPlaintextBind = ldapURL, true }, backend.FailedPrecondition, adldap.ReasonTLSRequired},
		{"wrong password", func(c *adldap.Config) { c.Password = "wrong" + c.Password }, backend.PermissionDenied, backend.ReasonInvalidCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			d, err := adldap.Open(t.Context(), cfg)
			if tc.kind == backend.Unknown {
				require.NoError(t, err)
				defer d.Close()
				_, err = d.Info(t.Context())
				require.NoError(t, err)
				// The listing path dials its own connection the same way.
				for _, err := range d.ListUsers(t.Context()) {
					require.NoError(t, err)
					break
				}
				return
			}
			requireKind(t, err, tc.kind, tc.reason)
		})
	}
}

func TestInfoOnDC(t *testing.T) {
	cfg := config(t)
	d := open(t, cfg)
	info, err := d.Info(t.Context())
	require.NoError(t, err)
	dn, err := ldap.ParseDN(cfg.BaseDN)
	require.NoError(t, err)
	var labels []string
	for _, rdn := range dn.RDNs {
		labels = append(labels, rdn.Attributes[0].Value)
	}
	assert.True(t, strings.EqualFold(strings.Join(labels, "."), info.DNSName), "DNSName %q", info.DNSName)
	assert.True(t, strings.EqualFold(cfg.BaseDN, info.BaseDN))
	assert.True(t, info.ServerIsDomainController)
	assert.Equal(t, 1, info.DomainControllers)
	assert.GreaterOrEqual(t, info.FunctionalLevel, 2, "Samba provisions 2008 R2 (4) by default")
	assert.NotEmpty(t, info.NetBIOSName)

	t.Run("BaseDN read from the rootDSE", func(t *testing.T) {
		cfg := cfg
		cfg.BaseDN = ""
		d := open(t, cfg)
		assert.True(t, strings.EqualFold(info.BaseDN, d.BaseDN()))
	})
}

// TestBaseDN checks that Open refuses a base DN that is not the domain's
// naming context.
func TestBaseDN(t *testing.T) {
	cfg := config(t)
	c := adminConn(t, cfg)
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"configurationNamingContext", "schemaNamingContext", "namingContexts"}, nil))
	require.NoError(t, err)
	root := res.Entries[0]
	tests := []struct {
		name, base string
	}{
		{"Configuration partition", root.GetAttributeValue("configurationNamingContext")},
		{"Schema partition", root.GetAttributeValue("schemaNamingContext")},
		{"a container of the domain", "CN=Users," + cfg.BaseDN},
		{"an unknown DN", "DC=nowhere,DC=invalid"},
	}
	for _, nc := range root.GetAttributeValues("namingContexts") {
		if strings.Contains(strings.ToLower(nc), "dnszones") {
			tests = append(tests, struct{ name, base string }{"application partition " + nc, nc})
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.BaseDN = tc.base
			_, err := adldap.Open(t.Context(), c)
			requireKind(t, err, backend.InvalidArgument, adldap.ReasonBaseDN)
			assert.Contains(t, err.Error(), cfg.BaseDN, "the error names the domain's naming context")
		})
	}
	t.Run("the domain in other case", func(t *testing.T) {
		c := cfg
		c.BaseDN = strings.ToLower(cfg.BaseDN)
		d := open(t, c)
		assert.True(t, strings.EqualFold(cfg.BaseDN, d.BaseDN()))
	})
}

// TestObjectGUIDByteOrder checks the GUID against the DC's own text form,
// read through the extended-DN control.
func TestObjectGUIDByteOrder(t *testing.T) {
	cfg := config(t)
	d := open(t, cfg)
	u := newUser(t, d, "e365g", nil)

	pool := x509.NewCertPool()
	pem, err := os.ReadFile(cfg.CAFile)
	require.NoError(t, err)
	require.True(t, pool.AppendCertsFromPEM(pem))
	c, err := ldap.DialURL(cfg.URL, ldap.DialWithTLSConfig(tlsConfig(pool)))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Bind(cfg.User, cfg.Password))

	res, err := c.Search(ldap.NewSearchRequest("<GUID="+u.ID.String()+">", ldap.ScopeBaseObject,
		ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"sAMAccountName"},
		[]ldap.Control{ldap.NewControlString(ldap.ControlTypeMicrosoftExtendedDN, false, "")}))
	require.NoError(t, err)
	require.Len(t, res.Entries, 1)
	assert.Equal(t, u.SAMAccountName, res.Entries[0].GetAttributeValue("sAMAccountName"))
	// The control's default (hex) form shows the bytes as stored.
	assert.Contains(t, strings.ToLower(res.Entries[0].DN), "<guid="+hex.EncodeToString(u.ID[:])+">")

	back, err := backend.GUIDFromImmutableID(u.ID.ImmutableID())
	require.NoError(t, err)
	assert.Equal(t, u.ID, back)
}

func TestPasswordRulesOnDC(t *testing.T) {
	d := open(t, config(t))
	tests := []struct {
		name     string
		password string
		reason   backend.Reason
	}{
		{"too short", "Aa1!xY", backend.ReasonPasswordLength},
		{"not complex", "abcdefghijk", backend.ReasonPasswordComplexity},
	}
	for _, tc := range tests {
		t.Run("create "+tc.name, func(t *testing.T) {
			_, err := d.CreateUser(t.Context(), backend.NewDirectoryUser{
				SAMAccountName: backendtest.UniqueName("e365p"), Password: tc.password,
			})
			requireKind(t, err, backend.InvalidArgument, tc.reason)
			var le *ldap.Error
			require.True(t, errors.As(err, &le), "the *ldap.Error is reachable")
			assert.Equal(t, uint16(ldap.LDAPResultConstraintViolation), le.ResultCode)
		})
	}
	u := newUser(t, d, "e365p", nil)
	t.Run("change right after creation", func(t *testing.T) {
		requireKind(t, d.ChangePassword(t.Context(), u.ID, goodPassword, otherPassword), backend.InvalidArgument, backend.ReasonPasswordMinAge)
	})
	// "Must change at next logon" lifts the minimum password age (1 day),
	// so that the history is what refuses.
	t.Run("change to the current password", func(t *testing.T) {
		require.NoError(t, d.SetMustChangePassword(t.Context(), u.ID, true))
		requireKind(t, d.ChangePassword(t.Context(), u.ID, goodPassword, goodPassword), backend.InvalidArgument, backend.ReasonPasswordHistory)
	})
	t.Run("change back to an older password", func(t *testing.T) {
		require.NoError(t, d.ChangePassword(t.Context(), u.ID, goodPassword, otherPassword))
		require.NoError(t, d.SetMustChangePassword(t.Context(), u.ID, true))
		requireKind(t, d.ChangePassword(t.Context(), u.ID, otherPassword, goodPassword), backend.InvalidArgument, backend.ReasonPasswordHistory)
	})
	t.Run("admin reset ignores the history", func(t *testing.T) {
		require.NoError(t, d.ResetPassword(t.Context(), u.ID, goodPassword, false))
		require.NoError(t, d.Authenticate(t.Context(), u.SAMAccountName, goodPassword))
	})
	t.Run("wrong old password", func(t *testing.T) {
		requireKind(t, d.ChangePassword(t.Context(), u.ID, thirdPassword, otherPassword), backend.InvalidArgument, backend.ReasonOldPassword)
	})
}

func TestBindOnDC(t *testing.T) {
	d := open(t, config(t))
	plain := newUser(t, d, "e365b", nil)
	disabled := newUser(t, d, "e365b", func(u *backend.NewDirectoryUser) { u.Disabled = true })
	must := newUser(t, d, "e365b", func(u *backend.NewDirectoryUser) { u.MustChangePassword = true })
	assert.True(t, must.MustChangePassword)
	assert.True(t, must.PasswordLastSet.IsZero())

	tests := []struct {
		name, login, password string
		reason                backend.Reason
	}{
		{"upn", plain.UserPrincipalName, goodPassword, ""},
		{"sam", plain.SAMAccountName, goodPassword, ""},
		{"DOMAIN\\sam", "", goodPassword, ""},
		{"DN", plain.DN, goodPassword, ""},
		{"wrong password", plain.SAMAccountName, otherPassword, backend.ReasonInvalidCredentials},
		{"disabled (533)", disabled.UserPrincipalName, goodPassword, backend.ReasonAccountDisabled},
		{"must change (773)", must.UserPrincipalName, goodPassword, backend.ReasonPasswordMustChange},
	}
	info, err := d.Info(t.Context())
	require.NoError(t, err)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			login := tc.login
			if login == "" {
				login = info.NetBIOSName + `\` + plain.SAMAccountName
			}
			err := d.Authenticate(t.Context(), login, tc.password)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			requireKind(t, err, backend.PermissionDenied, tc.reason)
			var le *ldap.Error
			require.True(t, errors.As(err, &le))
			assert.Equal(t, uint16(ldap.LDAPResultInvalidCredentials), le.ResultCode)
		})
	}
	t.Run("enabling lets the user in", func(t *testing.T) {
		require.NoError(t, d.SetEnabled(t.Context(), disabled.ID, true))
		require.NoError(t, d.Authenticate(t.Context(), disabled.UserPrincipalName, goodPassword))
	})
	t.Run("changing the password clears must-change", func(t *testing.T) {
		require.NoError(t, d.ChangePassword(t.Context(), must.ID, goodPassword, otherPassword))
		require.NoError(t, d.Authenticate(t.Context(), must.UserPrincipalName, otherPassword))
	})
}

// TestEscapedDNs checks that the names of the issue come back as the same
// values in a DN that parses.
func TestEscapedDNs(t *testing.T) {
	d := open(t, config(t))
	for _, name := range []string{"O'Brien, Zoë (Sales)", "a+b=c", "#lead", "*)(cn=*", ` lead and trail `, `q"<>;\`} {
		t.Run(name, func(t *testing.T) {
			u := newUser(t, d, "e365e", func(u *backend.NewDirectoryUser) { u.DisplayName = name })
			dn, err := ldap.ParseDN(u.DN)
			require.NoError(t, err, "DN %q", u.DN)
			assert.Equal(t, name, dn.RDNs[0].Attributes[0].Value)
			assert.Equal(t, name, u.DisplayName)
			_, err = d.GetUserBySAMAccountName(t.Context(), "*")
			requireKind(t, err, backend.NotFound, "")
		})
	}
}

// TestChangesOnDC checks that an incremental listing returns exactly what
// changed: a creation, a modification, a disabling and a deletion.
func TestChangesOnDC(t *testing.T) {
	d := open(t, config(t))
	prefix := backendtest.UniqueName("e365c")[:9] // shared by this test's users
	mod := newUser(t, d, prefix, nil)
	dis := newUser(t, d, prefix, nil)
	del := newUser(t, d, prefix, nil)
	same := newUser(t, d, prefix, nil)

	first := drain(t, d, "")
	seen := map[backend.GUID]bool{}
	for _, c := range first.Changes {
		assert.Equal(t, backend.Upserted, c.Type)
		seen[c.User.ID] = true
	}
	for _, u := range []backend.DirectoryUser{mod, dis, del, same} {
		assert.True(t, seen[u.ID], "%s in the full listing", u.SAMAccountName)
	}

	created := newUser(t, d, prefix, nil)
	require.NoError(t, d.SetOnlineAccount(t.Context(), mod.ID, "online"))
	require.NoError(t, d.SetEnabled(t.Context(), dis.ID, false))
	require.NoError(t, d.DeleteUser(t.Context(), del.ID))

	next := drain(t, d, first.Watermark)
	got := map[backend.GUID]backend.DirectoryChange{}
	for _, c := range next.Changes {
		if strings.HasPrefix(c.User.SAMAccountName, prefix) {
			_, dup := got[c.User.ID]
			assert.False(t, dup, "%s reported twice", c.User.SAMAccountName)
			got[c.User.ID] = c
		}
	}
	assert.Len(t, got, 4, "exactly the four changed users: %v", got)
	assert.Equal(t, backend.Upserted, got[created.ID].Type)
	assert.Equal(t, "online", got[mod.ID].User.OnlineAccount)
	assert.False(t, got[dis.ID].User.Enabled)
	assert.Equal(t, backend.Deleted, got[del.ID].Type)
	assert.Equal(t, del.SAMAccountName, got[del.ID].User.SAMAccountName)
	assert.NotContains(t, got, same.ID)

	again := drain(t, d, next.Watermark)
	for _, c := range again.Changes {
		assert.False(t, strings.HasPrefix(c.User.SAMAccountName, prefix), "%s reported with nothing new", c.User.SAMAccountName)
	}
	t.Run("stale watermark", func(t *testing.T) {
		forged := strings.Replace(next.Watermark, next.Watermark[len(next.Watermark)-4:], "AAAA", 1)
		_, err := d.Changes(t.Context(), forged)
		require.Error(t, err)
		assert.Contains(t, []backend.Kind{backend.InvalidArgument, backend.FailedPrecondition}, backend.KindOf(err))
	})
}

// drain calls Changes from wm until More is unset and returns every
// change with the last watermark.
func drain(t *testing.T, d *adldap.Directory, wm string) backend.DirectoryChanges {
	t.Helper()
	var all backend.DirectoryChanges
	for i := 0; ; i++ {
		require.Less(t, i, 10000, "Changes keeps setting More")
		ch, err := d.Changes(t.Context(), wm)
		require.NoError(t, err)
		all.Changes = append(all.Changes, ch.Changes...)
		wm = ch.Watermark
		if !ch.More {
			all.Watermark = wm
			return all
		}
	}
}

func TestContextOnDC(t *testing.T) {
	cfg := config(t)
	cfg.PageSize = 2
	d := open(t, cfg)
	for range 3 {
		newUser(t, d, "e365x", nil)
	}
	t.Run("deadline passed", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Nanosecond)
		defer cancel()
		<-ctx.Done()
		_, err := d.Info(ctx)
		requireKind(t, err, backend.Canceled, "")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("canceled while listing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		n := 0
		var last error
		for _, err := range d.ListUsers(ctx) {
			if err != nil {
				last = err
				break
			}
			n++
			cancel()
		}
		requireKind(t, last, backend.Canceled, "")
		assert.LessOrEqual(t, n, 2, "at most the page in hand")
	})
	t.Run("usable afterwards", func(t *testing.T) {
		_, err := d.Info(t.Context())
		require.NoError(t, err)
	})
}

// proxy forwards TCP connections to target and can cut them all, which
// looks to the driver like a server restart.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
			go func() { _, _ = io.Copy(c, s); _ = c.Close() }()
		}
	}()
	return p
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func TestReconnect(t *testing.T) {
	cfg := config(t)
	host := strings.TrimPrefix(cfg.URL, "ldaps://")
	p := newProxy(t, host)
	cfg.URL = "ldaps://" + p.ln.Addr().String()
	cfg.ServerName, _, _ = net.SplitHostPort(host)
	cfg.MaxConns = 1
	d := open(t, cfg)
	_, err := d.Info(t.Context())
	require.NoError(t, err)
	// Leave a listing connection idle too.
	_, err = d.Changes(t.Context(), "")
	require.NoError(t, err)
	p.cut()
	require.Eventually(t, func() bool {
		_, err := d.Info(t.Context())
		return err == nil
	}, 10*time.Second, 50*time.Millisecond, "the driver reconnects")
	// The idle listing connection, cut too, is found closed and replaced.
	_, err = d.Changes(t.Context(), "")
	require.NoError(t, err)
	for _, err := range d.ListUsers(t.Context()) {
		require.NoError(t, err)
		break
	}
}
