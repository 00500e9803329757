package dnsrecords

import (
	"bytes"
	"testing"

	"github.com/essentials365/sdk/essentials365/backend"
)

// FuzzZoneRoundTrip holds that every zone fragment Render writes parses back
// with github.com/miekg/dns's zone parser to the same records, whatever the
// domain, tokens, existing SPF record and tenant records.
func FuzzZoneRoundTrip(f *testing.F) {
	f.Add("contoso.com", "", "", "", "_custom", "hello world", int32(3600))
	f.Add("bücher.de", "ms12345678", "v=spf1 include:_spf.google.com ~all", "dmarc@contoso.com", "x", `quote " and \ backslash; semicolon`, int32(300))
	f.Add("marketing.contoso.co.uk", "MS=ms1", "v=spf1 a mx ptr ?all", "", "_dmarc", "v=DMARC1; p=reject", int32(0))
	f.Add("domain-withdash.com", "", "v=spf1 ip4:192.0.2.1", "", "_sip._tls", "tab\tnewline\nnul\x00 high\xff", int32(1))
	f.Add("a.com", "ms99", "v=spf1 redirect=_spf.a.com", "", "selector1._domainkey", "\"(\")$ORIGIN x.", int32(2147483647))
	f.Fuzz(func(t *testing.T, domain, token, spf, reports, label, text string, ttl int32) {
		d, err := ParseDomain(domain, PolicyModern)
		if err != nil {
			return
		}
		owner := d.Name
		if label != "" {
			owner = label + "." + d.Name
		}
		set, err := Generate(d, &Options{
			VerificationToken: token,
			ExistingSPF:       []string{spf},
			DMARCReports:      reports,
			OWAAlias:          true,
			TenantRecords: []backend.DNSRecord{
				{Name: owner, Type: TypeTXT, Text: text, TTL: uint32(max(ttl, 0))},
			},
		})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := set.Render(&buf, FormatZone); err != nil {
			t.Fatalf("render: %v", err)
		}
		assertZoneRoundTrip(t, set, buf.String())
	})
}
