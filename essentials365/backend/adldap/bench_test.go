package adldap_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/internal/sambatest"
)

// benchUsers is how many users the enumeration benchmark lists at least.
const benchUsers = 5000

// seedBenchUsers makes sure OU=e365bench holds benchUsers users, adding
// the missing ones (disabled, without password, which AD allows and which
// spares the DC the password hashing) on four connections.
func seedBenchUsers(b *testing.B, s sambatest.DC) {
	b.Helper()
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(s.CAFile)
	require.NoError(b, err)
	require.True(b, pool.AppendCertsFromPEM(pem))
	dial := func() *ldap.Conn {
		c, err := ldap.DialURL(s.URL, ldap.DialWithTLSConfig(tlsConfig(pool)))
		require.NoError(b, err)
		require.NoError(b, c.Bind(s.User, s.Password))
		return c
	}
	c := dial()
	defer c.Close()
	ou := "OU=e365bench," + s.BaseDN
	add := ldap.NewAddRequest(ou, nil)
	add.Attribute("objectClass", []string{"top", "organizationalUnit"})
	if err := c.Add(add); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
		require.NoError(b, err)
	}
	res, err := c.SearchWithPaging(ldap.NewSearchRequest(ou, ldap.ScopeSingleLevel, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=user)", []string{"sAMAccountName"}, nil), 1000)
	require.NoError(b, err)
	have := map[string]bool{}
	for _, e := range res.Entries {
		have[e.GetAttributeValue("sAMAccountName")] = true
	}
	todo := make(chan string, benchUsers)
	for i := range benchUsers {
		if sam := fmt.Sprintf("e365bench%05d", i); !have[sam] {
			todo <- sam
		}
	}
	close(todo)
	if len(todo) == 0 {
		return
	}
	b.Logf("creating %d users in %s", len(todo), ou)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial()
			defer c.Close()
			for sam := range todo {
				r := ldap.NewAddRequest("CN="+sam+","+ou, nil)
				r.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
				r.Attribute("sAMAccountName", []string{sam})
				r.Attribute("displayName", []string{"Bench " + sam})
				r.Attribute("userAccountControl", []string{"514"})
				if err := c.Add(r); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(b, <-errs)
	b.Logf("created in %v", time.Since(start).Round(time.Millisecond))
}

// BenchmarkEnumerate lists every user of the test DC (at least 5,000) with
// ListUsers, and as a baseline in the same run with OpenLDAP's ldapsearch
// doing the same paged search (pages of 500, same filter and attributes).
// The adldap sub-benchmark reports its time as a multiple of ldapsearch's
// ("x-ldapsearch").
func BenchmarkEnumerate(b *testing.B) {
	s := sambatest.Settings(b)
	ldapsearch, err := exec.LookPath("ldapsearch")
	if err != nil {
		b.Skip("ldapsearch not installed (Debian: ldap-utils)")
	}
	seedBenchUsers(b, s)
	pwFile := filepath.Join(b.TempDir(), "pw")
	require.NoError(b, os.WriteFile(pwFile, []byte(s.Password), 0o600))

	attrs := []string{"objectGUID", "sAMAccountName", "userPrincipalName", "displayName",
		"givenName", "sn", "mail", "userAccountControl", "pwdLastSet", "msDS-cloudExtensionAttribute1"}
	filter := "(&(sAMAccountType=805306368)(!(isCriticalSystemObject=TRUE)))"
	var baseline float64
	b.Run("ldapsearch", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(ldapsearch, append([]string{"-LLL", "-x", "-o", "ldif-wrap=no",
				"-H", s.URL, "-D", s.User, "-y", pwFile, "-b", s.BaseDN, "-E", "pr=500/noprompt", filter}, attrs...)...)
			cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+s.CAFile)
			out, err := cmd.Output()
			require.NoError(b, err)
			if n := strings.Count(string(out), "\nsAMAccountName: "); n < benchUsers {
				b.Fatalf("ldapsearch listed %d users, want at least %d", n, benchUsers)
			}
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("adldap", func(b *testing.B) {
		cfg := config(b)
		cfg.PageSize = 500
		d := open(b, cfg)
		for b.Loop() {
			n := 0
			for _, err := range d.ListUsers(context.Background()) {
				require.NoError(b, err)
				n++
			}
			if n < benchUsers {
				b.Fatalf("ListUsers listed %d users, want at least %d", n, benchUsers)
			}
		}
		if baseline > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-ldapsearch")
		}
	})
}
