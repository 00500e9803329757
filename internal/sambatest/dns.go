package sambatest

import (
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// EnvDNS set to 1 says the DC was provisioned with its internal DNS
// (E365_DC_DNS=1 scripts/samba-dc start DIR): a DC that serves no DNS then
// fails [DNSZone] instead of skipping it.
const EnvDNS = "E365_DC_DNS"

// Zone is a zone on the test DC's internal DNS and the account that
// manages it through samba-tool.
type Zone struct {
	// Host is the DC's host name or address, as samba-tool takes it.
	Host string
	// DNSAddr is the DC's DNS service, host:53.
	DNSAddr string
	// Zone is the zone's name.
	Zone string
	// User is the administrator's account name (the CN of a bind DN).
	User string
	// Password is the administrator's password.
	Password string
}

// DNSZone returns the test DC's DNS settings after creating zone on it
// with samba-tool (a zone that exists already is kept). It skips t as
// [Settings] does when no DC is configured; when the DC serves no DNS it
// skips t, or fails it when E365_DC_DNS=1; it skips t when samba-tool is
// not installed, or fails it when E365_REQUIRE_INTEGRATION=1.
func DNSZone(t testing.TB, zone string) Zone {
	t.Helper()
	dc := Settings(t)
	u, err := url.Parse(dc.URL)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Hostname()
	dnsAddr := net.JoinHostPort(host, "53")
	m := new(dns.Msg)
	m.SetQuestion("ad.e365.test.", dns.TypeSOA)
	if _, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, dnsAddr); err != nil {
		msg := "the Samba DC serves no DNS on " + dnsAddr + " (start it with " + EnvDNS + "=1 scripts/samba-dc start DIR)"
		if os.Getenv(EnvDNS) == "1" {
			t.Fatal(msg + ": " + err.Error())
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("samba-tool"); err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal("samba-tool is not installed; " + EnvRequire + "=1 requires it")
		}
		t.Skip("samba-tool is not installed")
	}
	user := dc.User
	if rdn, _, ok := strings.Cut(user, ","); ok && strings.HasPrefix(strings.ToUpper(rdn), "CN=") {
		user = rdn[3:]
	}
	cmd := exec.Command("samba-tool", "dns", "zonecreate", host, zone, "-U", user)
	cmd.Env = append(os.Environ(), "PASSWD="+dc.Password)
	if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(strings.ToLower(string(out)), "already") {
		t.Fatalf("zonecreate: %v: %s", err, out)
	}
	return Zone{Host: host, DNSAddr: dnsAddr, Zone: zone, User: user, Password: dc.Password}
}
