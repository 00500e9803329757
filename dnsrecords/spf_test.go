package dnsrecords

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

func TestMergeSPF(t *testing.T) {
	tests := []struct {
		name     string
		existing []string
		want     string
		lookups  int
		merged   int
		changed  bool
		warnings []string // substrings, one per expected warning
	}{
		{
			name: "no existing record",
			want: "v=spf1 include:spf.protection.outlook.com -all", lookups: 1, changed: true,
		},
		{
			name:     "other TXT values are ignored",
			existing: []string{"MS=ms12345678", "google-site-verification=abc"},
			want:     "v=spf1 include:spf.protection.outlook.com -all", lookups: 1, changed: true,
		},
		{
			name:     "include added before all, policy kept",
			existing: []string{"v=spf1 ip4:192.0.2.0/24 include:_spf.google.com ~all"},
			want:     "v=spf1 ip4:192.0.2.0/24 include:_spf.google.com include:spf.protection.outlook.com ~all",
			lookups:  2, merged: 1, changed: true,
		},
		{
			name:     "already there: unchanged",
			existing: []string{"v=spf1 include:spf.protection.outlook.com -all"},
			want:     "v=spf1 include:spf.protection.outlook.com -all", lookups: 1, merged: 1,
		},
		{
			name:     "already there in another case with extra spaces",
			existing: []string{"v=spf1   INCLUDE:spf.protection.outlook.com  -all"},
			want:     "v=spf1 INCLUDE:spf.protection.outlook.com -all", lookups: 1, merged: 1,
		},
		{
			name:     "two records merged into one",
			existing: []string{"v=spf1 mx -all", "v=spf1 ip4:198.51.100.1 mx ~all"},
			want:     "v=spf1 mx ip4:198.51.100.1 include:spf.protection.outlook.com -all",
			lookups:  2, merged: 2, changed: true,
			warnings: []string{"publishes 2 SPF records"},
		},
		{
			name:     "redirect kept at the end",
			existing: []string{"v=spf1 a redirect=_spf.contoso.com"},
			want:     "v=spf1 a include:spf.protection.outlook.com redirect=_spf.contoso.com",
			lookups:  3, merged: 1, changed: true,
		},
		{
			name:     "no all: a warning, no policy invented",
			existing: []string{"v=spf1 ip4:192.0.2.1"},
			want:     "v=spf1 ip4:192.0.2.1 include:spf.protection.outlook.com",
			lookups:  1, merged: 1, changed: true,
			warnings: []string{"no all mechanism"},
		},
		{
			name:     "+all and ptr are warned about",
			existing: []string{"v=spf1 ptr +all"},
			want:     "v=spf1 ptr include:spf.protection.outlook.com +all",
			lookups:  2, merged: 1, changed: true,
			warnings: []string{"ptr mechanism is deprecated", "+all"},
		},
		{
			name: "over the lookup limit",
			existing: []string{"v=spf1 include:a.example include:b.example include:c.example include:d.example include:e.example " +
				"include:f.example include:g.example include:h.example include:i.example mx -all"},
			want: "v=spf1 include:a.example include:b.example include:c.example include:d.example include:e.example " +
				"include:f.example include:g.example include:h.example include:i.example mx include:spf.protection.outlook.com -all",
			lookups: 11, merged: 1, changed: true,
			warnings: []string{"needs 11 DNS lookups"},
		},
		{
			name:     "unknown terms kept with a warning",
			existing: []string{"v=spf1 foo:bar -all"},
			want:     "v=spf1 foo:bar include:spf.protection.outlook.com -all",
			lookups:  1, merged: 1, changed: true,
			warnings: []string{`unknown SPF term "foo:bar"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MergeSPF(tc.existing, "")
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Record)
			assert.Equal(t, tc.lookups, got.Lookups)
			assert.Equal(t, tc.merged, got.Merged)
			assert.Equal(t, tc.changed, got.Changed)
			require.Len(t, got.Warnings, len(tc.warnings), "%q", got.Warnings)
			for i, w := range tc.warnings {
				assert.Contains(t, got.Warnings[i], w)
			}
			assert.Equal(t, 1, strings.Count(strings.ToLower(got.Record), "v=spf1"), "exactly one SPF record")
		})
	}
}

func TestMergeSPFRejects(t *testing.T) {
	_, err := MergeSPF(nil, "ip4:192.0.2.1")
	var ve *backend.Error
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, ReasonSPF, ve.Reason)

	_, err = MergeSPF([]string{"v=spf1 ip4:192.0.2.1 \x01 -all"}, "")
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, ReasonSPF, ve.Reason)
}

func TestSPFAuthorises(t *testing.T) {
	assert.True(t, spfAuthorises("v=spf1 include:spf.protection.outlook.com -all", SPFInclude))
	assert.True(t, spfAuthorises("v=spf1 +include:SPF.protection.outlook.com -all", SPFInclude))
	assert.False(t, spfAuthorises("v=spf1 -include:spf.protection.outlook.com -all", SPFInclude))
	assert.False(t, spfAuthorises("v=spf1 include:spf.protection.outlook.com.evil.example -all", SPFInclude))
}
