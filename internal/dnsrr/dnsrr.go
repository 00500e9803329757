// Package dnsrr converts between the SDK's backend.DNSRecord and
// github.com/miekg/dns resource records, for dnsrecords and the zone
// drivers: the one place that knows how TXT strings are split and escaped.
package dnsrr

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ToRR returns r as a resource record with fully qualified names. A TXT
// text longer than 255 bytes is split into strings of 255 bytes, each kept
// in the escaped form miekg/dns uses (\" for a quote, \DDD for a byte
// outside printable ASCII). A type other than MX, TXT, CNAME and SRV is
// InvalidArgument (backend.ReasonDNSRecordType) under op.
func ToRR(op string, r backend.DNSRecord) (dns.RR, error) {
	hdr := dns.RR_Header{Name: dns.Fqdn(r.Name), Class: dns.ClassINET, Ttl: r.TTL}
	switch r.Type {
	case backend.DNSTypeMX:
		hdr.Rrtype = dns.TypeMX
		return &dns.MX{Hdr: hdr, Preference: r.Preference, Mx: dns.Fqdn(r.Exchange)}, nil
	case backend.DNSTypeTXT:
		hdr.Rrtype = dns.TypeTXT
		chunks := SplitTXT(r.Text)
		for i, c := range chunks {
			chunks[i] = EscapeTXT(c)
		}
		return &dns.TXT{Hdr: hdr, Txt: chunks}, nil
	case backend.DNSTypeCNAME:
		hdr.Rrtype = dns.TypeCNAME
		return &dns.CNAME{Hdr: hdr, Target: dns.Fqdn(r.Target)}, nil
	case backend.DNSTypeSRV:
		hdr.Rrtype = dns.TypeSRV
		return &dns.SRV{Hdr: hdr, Priority: r.Priority, Weight: r.Weight, Port: r.Port, Target: dns.Fqdn(r.Target)}, nil
	}
	return nil, backend.Invalid(op, r.Name, backend.ReasonDNSRecordType, "record type %q is not one of MX, TXT, CNAME, SRV", r.Type)
}

// FromRR returns rr as a canonical backend.DNSRecord; ok is false for
// other types. The strings of a TXT record are joined unescaped.
func FromRR(rr dns.RR) (backend.DNSRecord, bool) {
	h := rr.Header()
	r := backend.DNSRecord{Name: backend.CanonicalDNSName(h.Name), TTL: h.Ttl}
	switch v := rr.(type) {
	case *dns.MX:
		r.Type, r.Preference, r.Exchange = backend.DNSTypeMX, v.Preference, backend.CanonicalDNSName(v.Mx)
	case *dns.TXT:
		var b strings.Builder
		for _, s := range v.Txt {
			b.WriteString(UnescapeTXT(s))
		}
		r.Type, r.Text = backend.DNSTypeTXT, b.String()
	case *dns.CNAME:
		r.Type, r.Target = backend.DNSTypeCNAME, backend.CanonicalDNSName(v.Target)
	case *dns.SRV:
		r.Type, r.Priority, r.Weight, r.Port, r.Target = backend.DNSTypeSRV, v.Priority, v.Weight, v.Port, backend.CanonicalDNSName(v.Target)
	default:
		return backend.DNSRecord{}, false
	}
	return r, true
}

// QType returns the query type of t, or dns.TypeNone.
func QType(t backend.DNSType) uint16 {
	switch t {
	case backend.DNSTypeMX:
		return dns.TypeMX
	case backend.DNSTypeTXT:
		return dns.TypeTXT
	case backend.DNSTypeCNAME:
		return dns.TypeCNAME
	case backend.DNSTypeSRV:
		return dns.TypeSRV
	}
	return dns.TypeNone
}

// SplitTXT splits s into character-strings of at most 255 bytes.
func SplitTXT(s string) []string {
	if len(s) <= 255 {
		return []string{s}
	}
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// EscapeTXT converts raw bytes to the escaped form github.com/miekg/dns
// keeps TXT strings in: \" and \\ for quote and backslash, \DDD for bytes
// outside printable ASCII.
func EscapeTXT(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// UnescapeTXT reverses EscapeTXT, and reads any RFC 1035 escape.
func UnescapeTXT(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			b.WriteByte((s[i+1]-'0')*100 + (s[i+2]-'0')*10 + (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
