package domains_test

import (
	"testing"

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
	z := sambatest.DNSZone(t, name)
	dnsAddr := z.DNSAddr
	zone, err := sambadns.New(sambadns.Config{Server: z.Host, Zone: name, User: z.User, Password: z.Password}, nil)
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
