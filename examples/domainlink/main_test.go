package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/rfc2136"
	"github.com/essentials365/sdk/internal/bindserver"
	"github.com/essentials365/sdk/internal/bindtest"
)

func requireBIND(t *testing.T) {
	if !bindserver.Available("") {
		if os.Getenv("E365_REQUIRE_INTEGRATION") == "1" {
			t.Fatal(bindtest.SkipMessage)
		}
		t.Skip(bindtest.SkipMessage)
	}
}

var verifiedAfter = regexp.MustCompile(`Verified fabrikam\.com after ([0-9.]+m?s)`)

// The whole link through the Graph driver, the emulator and BIND (TSIG).
func TestLinkWithBIND(t *testing.T) {
	requireBIND(t)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-poll", "50ms"}, &out, nil), out.String())
	s := out.String()
	m := verifiedAfter.FindStringSubmatch(s)
	require.NotNil(t, m, s)
	t.Logf("link to verified: %s", m[1])
	assert.Contains(t, s, "+ fabrikam.com. 3600 IN TXT \"MS=ms")
	assert.Contains(t, s, "IN CNAME autodiscover.outlook.com.")
	assert.Contains(t, s, "_sipfederationtls._tcp.fabrikam.com. 3600 IN SRV 100 1 5061 sipfed.online.lync.com.")
	assert.Regexp(t, `mail-flow +ok`, s)
	assert.Contains(t, s, "is now the default domain")
	assert.NotContains(t, s, "Records file:")
}

var msText = regexp.MustCompile(`MS=ms[0-9]{8}`)

// Without a zone driver: the records file, published by hand.
func TestLinkWithRecordsFile(t *testing.T) {
	requireBIND(t)
	var out bytes.Buffer
	published := false
	byHand := func(ctx context.Context, dns *bindserver.Server, file string) error {
		body, err := os.ReadFile(file)
		require.NoError(t, err)
		token := msText.FindString(string(body))
		require.NotEmpty(t, token, string(body))
		z, err := rfc2136.New(rfc2136.Config{Server: dns.Addr, Zone: "fabrikam.com", KeyName: dns.KeyName, KeyAlgorithm: dns.KeyAlgorithm, KeySecret: dns.KeySecret}, nil)
		require.NoError(t, err)
		go func() {
			time.Sleep(200 * time.Millisecond) // the administrator takes a moment
			published = true
			_ = z.Update(ctx, nil, []backend.DNSRecord{{Name: "fabrikam.com", Type: backend.DNSTypeTXT, Text: token}})
		}()
		return nil
	}
	dir := t.TempDir()
	require.NoError(t, run(t.Context(), []string{"-zone", "none", "-poll", "50ms", "-records-dir", dir}, &out, byHand), out.String())
	s := out.String()
	assert.True(t, published)
	assert.Contains(t, s, "No zone driver: the verification record is in")
	assert.Contains(t, s, "waiting for verification")
	assert.Regexp(t, verifiedAfter, s)
	assert.Contains(t, s, "Records file: "+dir, "the service records go to a second file")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2)
	assert.NotContains(t, s, "Written to the zone")
}

func TestRejectsBadFlags(t *testing.T) {
	var out bytes.Buffer
	assert.Error(t, run(t.Context(), []string{"-zone", "cloud"}, &out, nil))
}
