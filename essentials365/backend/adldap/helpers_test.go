package adldap_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/internal/sambatest"
)

// config returns the driver configuration for the test DC, skipping the
// test when none is configured.
func config(t testing.TB) adldap.Config {
	t.Helper()
	s := sambatest.Settings(t)
	return adldap.Config{
		URL:      s.URL,
		User:     s.User,
		Password: s.Password,
		BaseDN:   s.BaseDN,
		CAFile:   s.CAFile,
		Timeout:  20 * time.Second,
	}
}

// open opens the driver on the test DC and closes it at cleanup.
func open(t testing.TB, cfg adldap.Config) *adldap.Directory {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := adldap.Open(ctx, cfg)
	require.NoError(t, err, "Open")
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func tlsConfig(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// adminConn binds a go-ldap connection as the test DC's administrator, for
// what the driver does not do (password settings objects, groups).
func adminConn(t testing.TB, cfg adldap.Config) *ldap.Conn {
	t.Helper()
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(cfg.CAFile)
	require.NoError(t, err)
	require.True(t, pool.AppendCertsFromPEM(pem))
	c, err := ldap.DialURL(cfg.URL, ldap.DialWithTLSConfig(tlsConfig(pool)))
	require.NoError(t, err)
	require.NoError(t, c.Bind(cfg.User, cfg.Password))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// adInterval writes d as an AD time interval: a negative count of 100 ns;
// 0 with never set is "never".
func adInterval(d time.Duration, never bool) string {
	if d == 0 && never {
		return strconv.FormatInt(math.MinInt64, 10)
	}
	return strconv.FormatInt(-int64(d/100), 10)
}

// applyPSO creates a global security group holding the user id and a
// password settings object with policy p applied to the group, and
// deletes both at cleanup. It returns the PSO's DN.
func applyPSO(ctx context.Context, t *testing.T, cfg adldap.Config, d *adldap.Directory, id backend.GUID, p backend.PasswordPolicy) string {
	t.Helper()
	u, err := d.GetUser(ctx, id)
	require.NoError(t, err)
	c := adminConn(t, cfg)
	name := backendtest.UniqueName("e365pso")
	group := "CN=" + name + ",CN=Users," + d.BaseDN()
	add := ldap.NewAddRequest(group, nil)
	add.Attribute("objectClass", []string{"top", "group"})
	add.Attribute("sAMAccountName", []string{name})
	add.Attribute("groupType", []string{"-2147483646"}) // global, security
	add.Attribute("member", []string{u.DN})
	require.NoError(t, c.Add(add), "add the group")
	pso := "CN=" + name + ",CN=Password Settings Container,CN=System," + d.BaseDN()
	tf := func(b bool) string {
		if b {
			return "TRUE"
		}
		return "FALSE"
	}
	add = ldap.NewAddRequest(pso, nil)
	add.Attribute("objectClass", []string{"top", "msDS-PasswordSettings"})
	add.Attribute("msDS-PasswordSettingsPrecedence", []string{"10"})
	add.Attribute("msDS-PasswordReversibleEncryptionEnabled", []string{"FALSE"})
	add.Attribute("msDS-PasswordHistoryLength", []string{strconv.Itoa(p.HistoryLength)})
	add.Attribute("msDS-PasswordComplexityEnabled", []string{tf(p.Complexity)})
	add.Attribute("msDS-MinimumPasswordLength", []string{strconv.Itoa(p.MinLength)})
	add.Attribute("msDS-MinimumPasswordAge", []string{adInterval(p.MinAge, false)})
	add.Attribute("msDS-MaximumPasswordAge", []string{adInterval(p.MaxAge, true)})
	add.Attribute("msDS-LockoutThreshold", []string{strconv.Itoa(p.LockoutThreshold)})
	add.Attribute("msDS-LockoutObservationWindow", []string{adInterval(p.LockoutWindow, false)})
	add.Attribute("msDS-LockoutDuration", []string{adInterval(p.LockoutDuration, true)})
	add.Attribute("msDS-PSOAppliesTo", []string{group})
	if err := c.Add(add); err != nil {
		_ = c.Del(ldap.NewDelRequest(group, nil))
		require.NoError(t, err, "add the password settings object")
	}
	t.Cleanup(func() {
		c := adminConn(t, cfg)
		if err := c.Del(ldap.NewDelRequest(pso, nil)); err != nil {
			t.Errorf("cleanup: delete %s: %v", pso, err)
		}
		if err := c.Del(ldap.NewDelRequest(group, nil)); err != nil {
			t.Errorf("cleanup: delete %s: %v", group, err)
		}
	})
	return pso
}
