package dnsrr

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/essentials365/sdk/essentials365/backend"
)

func TestRoundTrip(t *testing.T) {
	long := `v=DKIM1; say "hi" \ ` + strings.Repeat("k", 300) + "\x01é"
	for _, r := range []backend.DNSRecord{
		{Name: "contoso.com", Type: backend.DNSTypeMX, TTL: 3600, Preference: 10, Exchange: "mx.example.net"},
		{Name: "contoso.com", Type: backend.DNSTypeTXT, TTL: 300, Text: long},
		{Name: "autodiscover.contoso.com", Type: backend.DNSTypeCNAME, TTL: 3600, Target: "autodiscover.outlook.com"},
		{Name: "_sip._tls.contoso.com", Type: backend.DNSTypeSRV, TTL: 3600, Priority: 100, Weight: 1, Port: 443, Target: "sipdir.online.lync.com"},
	} {
		rr, err := ToRR("test", r)
		if err != nil {
			t.Fatal(err)
		}
		// Through the wire format and back, as a server would return it.
		buf := make([]byte, 2048)
		n, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := dns.UnpackRR(buf[:n], 0)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := FromRR(back)
		if !ok || got != r {
			t.Errorf("round trip of %s: got %+v", r, got)
		}
		if txt, ok := rr.(*dns.TXT); ok && len(txt.Txt) != 2 {
			t.Errorf("a %d-byte text is split in two strings, got %d", len(r.Text), len(txt.Txt))
		}
	}
	if _, err := ToRR("test", backend.DNSRecord{Name: "x.com", Type: "A"}); backend.ReasonOf(err) != backend.ReasonDNSRecordType {
		t.Errorf("type A: got %v", err)
	}
	if _, ok := FromRR(&dns.A{Hdr: dns.RR_Header{Name: "x.com.", Rrtype: dns.TypeA}}); ok {
		t.Error("an A record is not converted")
	}
}
