package backendtest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ZoneHarness opens the zones of one zone driver for [RunZoneTests].
type ZoneHarness struct {
	// Open returns a writable zone. Subtests use names of their own under
	// it, so one zone may serve every subtest.
	Open func(t *testing.T) backend.Zone
	// OpenRefused, when set, returns the same kind of zone on a server that
	// refuses changes (a wrong key, a read-only zone).
	OpenRefused func(t *testing.T) backend.Zone
	// NoTransfer declares that listing the whole zone is refused
	// (Unimplemented, backend.ReasonZoneTransferRefused), as on Samba.
	NoTransfer bool
	// FixedTTL, when set, is the TTL the server gives every record whatever
	// was asked (Samba's RPC interface writes 900).
	FixedTTL uint32
}

// RunZoneTests runs the backend.Zone conformance suite against h.
func RunZoneTests(t *testing.T, h ZoneHarness) {
	t.Run("RecordTypes", func(t *testing.T) { zoneTestRecordTypes(t, h) })
	t.Run("Replay", func(t *testing.T) { zoneTestReplay(t, h) })
	t.Run("Replace", func(t *testing.T) { zoneTestReplace(t, h) })
	t.Run("Outside", func(t *testing.T) { zoneTestOutside(t, h) })
	t.Run("CNAMEConflict", func(t *testing.T) { zoneTestCNAME(t, h) })
	t.Run("WholeZone", func(t *testing.T) { zoneTestWholeZone(t, h) })
	t.Run("Writable", func(t *testing.T) { zoneTestWritable(t, h) })
	t.Run("Canceled", func(t *testing.T) { zoneTestCanceled(t, h) })
}

// zoneRecords returns the records a test publishes under host.zone: one of
// each type, with a TXT longer than 255 bytes and one with a quote.
func zoneRecords(zone, host string) []backend.DNSRecord {
	n := host + "." + zone
	return []backend.DNSRecord{
		{Name: n, Type: backend.DNSTypeMX, TTL: 3600, Preference: 10, Exchange: "mx1.example.net"},
		{Name: n, Type: backend.DNSTypeMX, TTL: 3600, Preference: 20, Exchange: "mx2.example.net"},
		{Name: n, Type: backend.DNSTypeTXT, TTL: 300, Text: "v=spf1 include:spf.protection.outlook.com -all"},
		{Name: n, Type: backend.DNSTypeTXT, TTL: 300, Text: `say "hello"; ` + strings.Repeat("k", 300)},
		{Name: "_sipfederationtls._tcp." + n, Type: backend.DNSTypeSRV, TTL: 3600, Priority: 100, Weight: 1, Port: 5061, Target: "sipfed.online.lync.com"},
		{Name: "autodiscover." + n, Type: backend.DNSTypeCNAME, TTL: 3600, Target: "autodiscover.outlook.com"},
	}
}

// zoneRequireSame fails unless got holds exactly the records of want.
func zoneRequireSame(t *testing.T, h ZoneHarness, want, got []backend.DNSRecord) {
	t.Helper()
	require.Len(t, got, len(want), "records: %v", got)
	for _, w := range want {
		i := slices.IndexFunc(got, w.Same)
		require.GreaterOrEqual(t, i, 0, "record %s is listed: %v", w, got)
		assert.Equal(t, w.Canonical().Name, got[i].Name, "names come back canonical")
		if h.FixedTTL != 0 {
			assert.Equal(t, h.FixedTTL, got[i].TTL, "TTL of %s", w)
		} else if w.TTL != 0 {
			assert.Equal(t, w.TTL, got[i].TTL, "TTL of %s", w)
		} else {
			assert.Equal(t, uint32(3600), got[i].TTL, "a TTL of 0 is written as 3600")
		}
	}
}

func zoneNames(recs []backend.DNSRecord) []string {
	var out []string
	for _, r := range recs {
		if !slices.Contains(out, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out
}

func zoneTestRecordTypes(t *testing.T, h ZoneHarness) {
	ctx := t.Context()
	z := h.Open(t)
	require.NotEmpty(t, z.Name())
	recs := zoneRecords(z.Name(), UniqueName("types"))
	require.NoError(t, z.Update(ctx, nil, recs))
	got, err := z.Records(ctx, zoneNames(recs)...)
	require.NoError(t, err)
	zoneRequireSame(t, h, recs, got)

	// Mixed case and a final dot name the same record.
	upper := recs[0]
	upper.Name = strings.ToUpper(upper.Name) + "."
	got, err = z.Records(ctx, upper.Name)
	require.NoError(t, err)
	assert.True(t, slices.ContainsFunc(got, upper.Same), "a name is found whatever its case: %v", got)

	require.NoError(t, z.Update(ctx, recs, nil))
	got, err = z.Records(ctx, zoneNames(recs)...)
	require.NoError(t, err)
	assert.Empty(t, got, "removed records are gone")
}

func zoneTestReplay(t *testing.T, h ZoneHarness) {
	ctx := t.Context()
	z := h.Open(t)
	rec := backend.DNSRecord{Name: UniqueName("replay") + "." + z.Name(), Type: backend.DNSTypeTXT, Text: "MS=ms12345678"}
	require.NoError(t, z.Update(ctx, nil, []backend.DNSRecord{rec}))
	require.NoError(t, z.Update(ctx, nil, []backend.DNSRecord{rec}), "adding a present record is a no-op")
	got, err := z.Records(ctx, rec.Name)
	require.NoError(t, err)
	zoneRequireSame(t, h, []backend.DNSRecord{rec}, got)
	require.NoError(t, z.Update(ctx, []backend.DNSRecord{rec}, nil))
	require.NoError(t, z.Update(ctx, []backend.DNSRecord{rec}, nil), "removing an absent record is a no-op")
}

func zoneTestReplace(t *testing.T, h ZoneHarness) {
	ctx := t.Context()
	z := h.Open(t)
	name := UniqueName("spf") + "." + z.Name()
	old := backend.DNSRecord{Name: name, Type: backend.DNSTypeTXT, Text: "v=spf1 ip4:192.0.2.1 ~all"}
	keep := backend.DNSRecord{Name: name, Type: backend.DNSTypeTXT, Text: "google-site-verification=abc"}
	require.NoError(t, z.Update(ctx, nil, []backend.DNSRecord{old, keep}))
	merged := backend.DNSRecord{Name: name, Type: backend.DNSTypeTXT, Text: "v=spf1 ip4:192.0.2.1 include:spf.protection.outlook.com ~all"}
	require.NoError(t, z.Update(ctx, []backend.DNSRecord{old}, []backend.DNSRecord{merged}))
	got, err := z.Records(ctx, name)
	require.NoError(t, err)
	zoneRequireSame(t, h, []backend.DNSRecord{keep, merged}, got)
	require.NoError(t, z.Update(ctx, got, nil))
}

func zoneTestOutside(t *testing.T, h ZoneHarness) {
	ctx := t.Context()
	z := h.Open(t)
	out := backend.DNSRecord{Name: "www.not-" + z.Name(), Type: backend.DNSTypeTXT, Text: "x"}
	inside := backend.DNSRecord{Name: UniqueName("in") + "." + z.Name(), Type: backend.DNSTypeTXT, Text: "x"}
	err := z.Update(ctx, nil, []backend.DNSRecord{inside, out})
	dirRequireKind(t, err, backend.InvalidArgument, backend.ReasonZoneOutside)
	got, err := z.Records(ctx, inside.Name)
	require.NoError(t, err)
	assert.Empty(t, got, "a refused update changes nothing")
	_, err = z.Records(ctx, out.Name)
	dirRequireKind(t, err, backend.InvalidArgument, backend.ReasonZoneOutside)
}

func zoneTestCNAME(t *testing.T, h ZoneHarness) {
	ctx := t.Context()
	z := h.Open(t)
	name := UniqueName("cname") + "." + z.Name()
	txt := backend.DNSRecord{Name: name, Type: backend.DNSTypeTXT, Text: "owned by someone else"}
	require.NoError(t, z.Update(ctx, nil, []backend.DNSRecord{txt}))
	other := backend.DNSRecord{Name: UniqueName("other") + "." + z.Name(), Type: backend.DNSTypeTXT, Text: "x"}
	cname := backend.DNSRecord{Name: name, Type: backend.DNSTypeCNAME, Target: "autodiscover.outlook.com"}
	err := z.Update(ctx, nil, []backend.DNSRecord{other, cname})
	dirRequireKind(t, err, backend.FailedPrecondition, backend.ReasonZoneCNAMEConflict)
	got, err := z.Records(ctx, name, other.Name)
	require.NoError(t, err)
	zoneRequireSame(t, h, []backend.DNSRecord{txt}, got)
	require.NoError(t, z.Update(ctx, []backend.DNSRecord{txt}, []backend.DNSRecord{cname}), "replacing the data with a CNAME in one update works")
	got, err = z.Records(ctx, name)
	require.NoError(t, err)
	zoneRequireSame(t, h, []backend.DNSRecord{cname}, got)
	require.NoError(t, z.Update(ctx, got, nil))
}

func zoneTestWholeZone(t *testing.T, h ZoneHarness) {
	ctx := t.Context()
	z := h.Open(t)
	rec := backend.DNSRecord{Name: UniqueName("all") + "." + z.Name(), Type: backend.DNSTypeCNAME, Target: "sipdir.online.lync.com"}
	require.NoError(t, z.Update(ctx, nil, []backend.DNSRecord{rec}))
	all, err := z.Records(ctx)
	if h.NoTransfer {
		dirRequireKind(t, err, backend.Unimplemented, backend.ReasonZoneTransferRefused)
	} else {
		require.NoError(t, err)
		assert.True(t, slices.ContainsFunc(all, rec.Same), "the whole zone lists %s", rec)
		for _, r := range all {
			_, ok := backend.ParseDNSType(string(r.Type))
			assert.True(t, ok, "only MX, TXT, CNAME and SRV records are listed: %s", r)
		}
	}
	require.NoError(t, z.Update(ctx, []backend.DNSRecord{rec}, nil))
}

func zoneTestWritable(t *testing.T, h ZoneHarness) {
	ctx := t.Context()
	z := h.Open(t)
	require.NoError(t, z.Writable(ctx))
	if h.OpenRefused == nil {
		t.Log("harness has no refusing zone; refusal not checked")
		return
	}
	r := h.OpenRefused(t)
	err := r.Writable(ctx)
	dirRequireKind(t, err, backend.PermissionDenied, "")
	assert.Contains(t, []backend.Reason{backend.ReasonZoneRefused, backend.ReasonZoneReadOnly}, backend.ReasonOf(err))
	rec := backend.DNSRecord{Name: UniqueName("ro") + "." + r.Name(), Type: backend.DNSTypeTXT, Text: "x"}
	err = r.Update(ctx, nil, []backend.DNSRecord{rec})
	dirRequireKind(t, err, backend.PermissionDenied, "")
	got, err := z.Records(ctx, rec.Name)
	require.NoError(t, err)
	assert.Empty(t, got, "a refused update writes nothing")
}

func zoneTestCanceled(t *testing.T, h ZoneHarness) {
	z := h.Open(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := z.Records(ctx, z.Name())
	dirRequireKind(t, err, backend.Canceled, "")
	tenantRequireOp(t, err, "zone: list records")
	err = z.Update(ctx, nil, []backend.DNSRecord{{Name: UniqueName("c") + "." + z.Name(), Type: backend.DNSTypeTXT, Text: "x"}})
	dirRequireKind(t, err, backend.Canceled, "")
	tenantRequireOp(t, err, "zone: update records")
}
