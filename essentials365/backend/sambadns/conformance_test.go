package sambadns_test

import (
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/sambadns"
	"github.com/essentials365/sdk/internal/sambatest"
)

const zoneName = "fabrikam-e365.com"

// dcZone returns the settings of the test DC's DNS, creating the zone.
// It skips when the DC serves no DNS (provisioned without E365_DC_DNS=1),
// and fails then only when E365_DC_DNS=1 says it should.
func dcZone(t *testing.T) sambadns.Config {
	dc := sambatest.Settings(t)
	u, err := url.Parse(dc.URL)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Hostname()
	m := new(dns.Msg)
	m.SetQuestion("ad.e365.test.", dns.TypeSOA)
	if _, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, net.JoinHostPort(host, "53")); err != nil {
		msg := "the Samba DC serves no DNS on " + host + ":53 (start it with E365_DC_DNS=1 scripts/samba-dc start DIR)"
		if os.Getenv("E365_DC_DNS") == "1" {
			t.Fatal(msg + ": " + err.Error())
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("samba-tool"); err != nil {
		t.Skip("samba-tool is not installed")
	}
	user := dc.User
	if rdn, _, ok := strings.Cut(user, ","); ok && strings.HasPrefix(strings.ToUpper(rdn), "CN=") {
		user = rdn[3:]
	}
	cmd := exec.Command("samba-tool", "dns", "zonecreate", host, zoneName, "-U", user)
	cmd.Env = append(os.Environ(), "PASSWD="+dc.Password)
	if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(strings.ToLower(string(out)), "already") {
		t.Fatalf("zonecreate: %v: %s", err, out)
	}
	return sambadns.Config{Server: host, Zone: zoneName, User: user, Password: dc.Password}
}

func TestConformanceSamba(t *testing.T) {
	cfg := dcZone(t)
	open := func(c sambadns.Config) func(t *testing.T) backend.Zone {
		return func(t *testing.T) backend.Zone {
			z, err := sambadns.New(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			return z
		}
	}
	wrong := cfg
	wrong.Password = "not-the-password-1A!"
	backendtest.RunZoneTests(t, backendtest.ZoneHarness{Open: open(cfg), OpenRefused: open(wrong), NoTransfer: true, FixedTTL: 900})
}

func TestConfigRejected(t *testing.T) {
	_, err := sambadns.New(sambadns.Config{Server: "127.0.0.1", Zone: "x.com", User: "a"}, nil)
	if backend.ReasonOf(err) != sambadns.ReasonConfig {
		t.Fatalf("got %v, want %s", err, sambadns.ReasonConfig)
	}
}
