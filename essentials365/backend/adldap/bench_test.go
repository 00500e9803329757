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
	"syscall"
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

// BenchmarkEnumerate lists every user of the test DC (at least 5,000)
// with ListUsers and, paired in the same iteration, with OpenLDAP's
// ldapsearch doing the same paged search (pages of 500, same filter and
// attributes), alternating which goes first. It reports the driver's time
// per listing (ns/op) and as a multiple of ldapsearch's (x-ldapsearch),
// and the client CPU of each per listing (cpu-ms, ldapsearch-cpu-ms) with
// their ratio (x-ldapsearch-cpu): the driver's from getrusage of this
// process, ldapsearch's from its process state.
//
// The "busy" variant runs two CPU-bound processes beside it, as on a
// loaded server; the "changes" variant lists through Changes with an empty
// watermark (in parts) instead of ListUsers.
func BenchmarkEnumerate(b *testing.B) {
	s := sambatest.Settings(b)
	ldapsearch, err := exec.LookPath("ldapsearch")
	if err != nil {
		b.Skip("ldapsearch not installed (Debian: ldap-utils)")
	}
	seedBenchUsers(b, s)
	pwFile := filepath.Join(b.TempDir(), "pw")
	require.NoError(b, os.WriteFile(pwFile, []byte(s.Password), 0o600))
	cfg := config(b)
	cfg.PageSize = 500
	d := open(b, cfg)

	attrs := []string{"objectGUID", "sAMAccountName", "userPrincipalName", "displayName",
		"givenName", "sn", "mail", "userAccountControl", "pwdLastSet", "msDS-cloudExtensionAttribute1"}
	filter := "(&(sAMAccountType=805306368)(!(isCriticalSystemObject=TRUE)))"
	viaLdapsearch := func(b *testing.B) (time.Duration, time.Duration) {
		cmd := exec.Command(ldapsearch, append([]string{"-LLL", "-x", "-o", "ldif-wrap=no",
			"-H", s.URL, "-D", s.User, "-y", pwFile, "-b", s.BaseDN, "-E", "pr=500/noprompt", filter}, attrs...)...)
		cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+s.CAFile)
		start := time.Now()
		out, err := cmd.Output()
		wall := time.Since(start)
		require.NoError(b, err)
		if n := strings.Count(string(out), "\nsAMAccountName: "); n < benchUsers {
			b.Fatalf("ldapsearch listed %d users, want at least %d", n, benchUsers)
		}
		return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	viaDriver := func(b *testing.B) (time.Duration, time.Duration) {
		cpu0 := processCPU(b)
		start := time.Now()
		n := 0
		for _, err := range d.ListUsers(context.Background()) {
			require.NoError(b, err)
			n++
		}
		wall := time.Since(start)
		if n < benchUsers {
			b.Fatalf("ListUsers listed %d users, want at least %d", n, benchUsers)
		}
		return wall, processCPU(b) - cpu0
	}
	viaChanges := func(b *testing.B) (time.Duration, time.Duration) {
		cpu0 := processCPU(b)
		start := time.Now()
		n, wm := 0, ""
		for {
			ch, err := d.Changes(context.Background(), wm)
			require.NoError(b, err)
			n += len(ch.Changes)
			wm = ch.Watermark
			if !ch.More {
				break
			}
		}
		wall := time.Since(start)
		if n < benchUsers {
			b.Fatalf("Changes listed %d users, want at least %d", n, benchUsers)
		}
		return wall, processCPU(b) - cpu0
	}
	pair := func(b *testing.B, viaDriver func(*testing.B) (time.Duration, time.Duration)) {
		var wall, cpu, baseWall, baseCPU time.Duration
		i := 0
		for b.Loop() {
			var w, c, bw, bc time.Duration
			if i%2 == 0 {
				w, c = viaDriver(b)
				bw, bc = viaLdapsearch(b)
			} else {
				bw, bc = viaLdapsearch(b)
				w, c = viaDriver(b)
			}
			wall, cpu, baseWall, baseCPU = wall+w, cpu+c, baseWall+bw, baseCPU+bc
			i++
		}
		n := float64(i)
		b.ReportMetric(float64(wall.Nanoseconds())/n, "ns/op")
		b.ReportMetric(float64(wall)/float64(baseWall), "x-ldapsearch")
		b.ReportMetric(float64(cpu.Milliseconds())/n, "cpu-ms")
		b.ReportMetric(float64(baseCPU.Milliseconds())/n, "ldapsearch-cpu-ms")
		b.ReportMetric(float64(cpu)/float64(baseCPU), "x-ldapsearch-cpu")
	}
	b.Run("idle", func(b *testing.B) { pair(b, viaDriver) })
	b.Run("busy", func(b *testing.B) {
		for range 2 {
			cmd := exec.Command("sh", "-c", "while :; do :; done")
			require.NoError(b, cmd.Start())
			b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		}
		pair(b, viaDriver)
	})
	// The same listing through Changes with an empty watermark, in parts.
	b.Run("changes", func(b *testing.B) { pair(b, viaChanges) })
}

// processCPU returns the CPU time (user and system) this process used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
