package dnsrecords

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

func TestParseDomainAccepts(t *testing.T) {
	tests := []struct {
		name, input string
		policy      Policy
		want        Domain
	}{
		{"registrable", "contoso.com", PolicyEssentials,
			Domain{Name: "contoso.com", Unicode: "contoso.com", PublicSuffix: "com", Registrable: "contoso.com"}},
		{"upper case and final dot", " Contoso.COM. ", PolicyEssentials,
			Domain{Name: "contoso.com", Unicode: "contoso.com", PublicSuffix: "com", Registrable: "contoso.com"}},
		{"two-label public suffix", "contoso.co.uk", PolicyEssentials,
			Domain{Name: "contoso.co.uk", Unicode: "contoso.co.uk", PublicSuffix: "co.uk", Registrable: "contoso.co.uk"}},
		{"subdomain under the modern policy", "marketing.contoso.com", PolicyModern,
			Domain{Name: "marketing.contoso.com", Unicode: "marketing.contoso.com", PublicSuffix: "com", Registrable: "contoso.com", Subdomain: true}},
		{"unicode name", "Bücher.de", PolicyEssentials,
			Domain{Name: "xn--bcher-kva.de", Unicode: "bücher.de", PublicSuffix: "de", Registrable: "xn--bcher-kva.de"}},
		{"a-label", "xn--bcher-kva.de", PolicyEssentials,
			Domain{Name: "xn--bcher-kva.de", Unicode: "bücher.de", PublicSuffix: "de", Registrable: "xn--bcher-kva.de"}},
		{"leading digit", "365contoso.com", PolicyEssentials,
			Domain{Name: "365contoso.com", Unicode: "365contoso.com", PublicSuffix: "com", Registrable: "365contoso.com"}},
		{"private public suffix", "contoso.blogspot.com", PolicyEssentials,
			Domain{Name: "contoso.blogspot.com", Unicode: "contoso.blogspot.com", PublicSuffix: "blogspot.com", Registrable: "contoso.blogspot.com", PrivateSuffix: true}},
		{"63-character label", strings.Repeat("a", 63) + ".com", PolicyEssentials,
			Domain{Name: strings.Repeat("a", 63) + ".com", Unicode: strings.Repeat("a", 63) + ".com", PublicSuffix: "com", Registrable: strings.Repeat("a", 63) + ".com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDomain(tc.input, tc.policy)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseDomainRejects(t *testing.T) {
	long := strings.Repeat(strings.Repeat("a", 49)+".", 6) + "com" // 303 characters
	require.Len(t, long, 303)
	tests := []struct {
		name, input string
		policy      Policy
		rule        backend.Reason
	}{
		{"subdomain under the Essentials policy", "marketing.contoso.com", PolicyEssentials, ReasonEssentialsSubdomain},
		{"hyphens at both ends", "-bad-.com", PolicyModern, ReasonLabelHyphen},
		{"300-character name", long, PolicyModern, ReasonNameLength},
		{"invalid A-label", "xn--a.com", PolicyModern, ReasonIDNA},
		{"undecodable A-label", "xn--zz.com", PolicyModern, ReasonIDNA},
		{"A-label of an A-label", "xn--xn--bcher-kva.de", PolicyModern, ReasonIDNA},
		{"no public suffix", "contoso", PolicyModern, ReasonPublicSuffix},
		{"unknown top-level domain", "contoso.notatld", PolicyModern, ReasonPublicSuffix},
		{"a public suffix itself", "co.uk", PolicyModern, ReasonPublicSuffix},
		{"empty", "", PolicyModern, ReasonEmpty},
		{"blank", "   ", PolicyModern, ReasonEmpty},
		{"empty label", "contoso..com", PolicyModern, ReasonLabelEmpty},
		{"leading dot", ".contoso.com", PolicyModern, ReasonLabelEmpty},
		{"64-character label", strings.Repeat("a", 64) + ".com", PolicyModern, ReasonLabelLength},
		{"underscore", "con_toso.com", PolicyModern, ReasonLabelCharacters},
		{"space", "con toso.com", PolicyModern, ReasonLabelCharacters},
		{"reserved hyphens", "ab--cd.com", PolicyModern, ReasonLabelReserved},
		{"invalid unicode", "a\u200db.com", PolicyModern, ReasonIDNA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDomain(tc.input, tc.policy)
			require.Error(t, err)
			var ve *backend.Error
			require.True(t, errors.As(err, &ve), "error %v is not a *backend.Error", err)
			assert.Equal(t, tc.rule, ve.Reason, "%v", err)
			assert.Contains(t, err.Error(), "[rule "+string(tc.rule)+"]")
			assert.ErrorIs(t, err, backend.ErrInvalidArgument)
			assert.NotErrorIs(t, err, backend.ErrNotFound)
		})
	}
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]Policy{"essentials": PolicyEssentials, "Modern": PolicyModern, "": PolicyModern} {
		got, err := ParsePolicy(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Equal(t, strings.ToLower(want.String()), want.String())
	}
	_, err := ParsePolicy("sbs2011")
	assert.ErrorIs(t, err, backend.ErrInvalidArgument)
}

func TestCheckOwnerName(t *testing.T) {
	tests := []struct {
		owner string
		ok    bool
	}{
		{"contoso.com", true},
		{"_sipfederationtls._tcp.contoso.com.", true},
		{"selector1._domainkey.contoso.com", true},
		{"contoso.net", false},
		{"evilcontoso.com", false},
		{"bad name.contoso.com", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.owner, func(t *testing.T) {
			err := checkOwnerName(tc.owner, "contoso.com")
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			var ve *backend.Error
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, ReasonOwnerName, ve.Reason)
		})
	}
}
