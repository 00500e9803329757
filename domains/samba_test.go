package domains_test

import (
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/domains"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/sambadns"
	"github.com/essentials365/sdk/internal/sambatest"
)

// The seed's case: the server hosts the domain's zone. The link writes the
// records into a Samba DC's internal DNS through samba-tool's RPC.
func TestLinkThroughSamba(t *testing.T) {
	const name = "linked-e365.com"
	dc := sambatest.Settings(t)
	u, err := url.Parse(dc.URL)
	require.NoError(t, err)
	host := u.Hostname()
	dnsAddr := net.JoinHostPort(host, "53")
	m := new(dns.Msg)
	m.SetQuestion("ad.e365.test.", dns.TypeSOA)
	if _, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, dnsAddr); err != nil {
		if os.Getenv("E365_DC_DNS") == "1" {
			t.Fatalf("the Samba DC serves no DNS on %s: %v", dnsAddr, err)
		}
		t.Skip("the Samba DC serves no DNS (start it with E365_DC_DNS=1)")
	}
	user := dc.User
	if rdn, _, ok := strings.Cut(user, ","); ok && strings.HasPrefix(strings.ToUpper(rdn), "CN=") {
		user = rdn[3:]
	}
	cmd := exec.Command("samba-tool", "dns", "zonecreate", host, name, "-U", user)
	cmd.Env = append(os.Environ(), "PASSWD="+dc.Password)
	if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(strings.ToLower(string(out)), "already") {
		t.Fatalf("zonecreate: %v: %s", err, out)
	}
	zone, err := sambadns.New(sambadns.Config{Server: host, Zone: name, User: user, Password: dc.Password}, nil)
	require.NoError(t, err)

	ctx := t.Context()
	svc, err := domains.New(tenantSeeing(dnsAddr), &domains.Options{Zone: zone, CheckServer: dnsAddr, RecordsDir: t.TempDir(), Retry: fastRetry()})
	require.NoError(t, err)
	plan, err := svc.PlanLink(ctx, name)
	require.NoError(t, err)
	res, err := svc.ApplyLink(ctx, plan, nil)
	t.Cleanup(func() { _ = zone.Update(t.Context(), res.Published, res.Replaced) })
	require.NoError(t, err)
	assert.True(t, res.Verified, res.Next)
	assert.Equal(t, domains.PublishZone, res.Publish)
	require.NotNil(t, res.Check)
	mx, _ := res.Check.Result("mx")
	assert.Equal(t, "present", string(mx.Status))
	auto, err := zone.Records(ctx, "autodiscover."+name)
	require.NoError(t, err)
	require.Len(t, auto, 1)
	assert.Equal(t, backend.M365AutodiscoverTarget, auto[0].Target)
}
