package adldap

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// FuzzListingDecoder feeds arbitrary bytes to every step of the listing's
// BER decoder (the message framing, an entry's attributes, the paging
// control, an LDAPResult): each returns an error or a value, never panics,
// never reads outside its input, and a message stream always ends.
func FuzzListingDecoder(f *testing.F) {
	f.Add(appendTLV(nil, tagSequence, appendTLV(nil, tagInteger, berInt(7))))
	f.Add(testEntry("CN=Ann,CN=Users,DC=contoso,DC=local", map[string][]string{
		"objectGUID": {"0123456789abcdef"}, "sAMAccountName": {"ann"}, "userAccountControl": {"512"},
		"pwdLastSet": {"9223372036854775806"}, "msDS-cloudExtensionAttribute1": {"e365:1;id=x"}, "otherEmpty": {},
	}))
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add([]byte{0x04, 0x84, 0x7f, 0xff, 0xff, 0xff, 'a'})
	f.Add([]byte{0x30, 0x85, 1, 2, 3, 4, 5})
	f.Add(appendTLV(nil, tagSequence, appendTLV(nil, tagOctetString, []byte(ldap.ControlTypePaging)),
		appendTLV(nil, tagBoolean, []byte{0}), appendTLV(nil, tagOctetString,
			appendTLV(nil, tagSequence, appendTLV(nil, tagInteger, berInt(0)), appendTLV(nil, tagOctetString, []byte("cookie"))))))
	f.Add(append(appendTLV(nil, tagEnumerated, []byte{0x31}), appendTLV(nil, tagOctetString, nil)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Framing: every message read consumes at least two bytes, so the
		// loop ends; a message never exceeds what was sent.
		r := bufio.NewReader(bytes.NewReader(data))
		var buf []byte
		for i := 0; ; i++ {
			if i > len(data) {
				t.Fatal("readMessage does not consume its input")
			}
			var msg []byte
			var err error
			msg, buf, err = readMessage(r, buf)
			if err != nil {
				break
			}
			if len(msg) > len(data) {
				t.Fatalf("a message of %d bytes from %d bytes of input", len(msg), len(data))
			}
		}
		// Splitting: content and rest are pieces of the input.
		for b := data; len(b) > 0; {
			_, content, rest, err := next(b)
			if err != nil {
				break
			}
			if len(content)+len(rest) >= len(b) {
				t.Fatal("next does not consume its input")
			}
			b = rest
		}
		d := &Directory{s: &settings{mapping: DefaultMappingAttribute}}
		if a, err := d.entryAttrs(data); err == nil {
			if u, err := a.user(); err == nil && u.ID.IsZero() && len(a.guid) != 16 {
				t.Fatal("a user without a 16-byte objectGUID")
			}
		}
		_, _ = entryValue(data, "objectGUID")
		_, _ = pagingCookie(data)
		_ = ldapResult(data)
		_, _ = parseInt(data)
	})
}

// FuzzParseDecimal checks the listing's number reader against
// strconv.ParseInt, which the go-ldap path uses for the same attributes.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"512", "-2147483646", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "99999999999999999999", "+5", "-", "", "1x", "00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := strconv.ParseInt(s, 10, 64)
		if err != nil || strings.Contains(s, "_") {
			want = 0
		}
		if got := parseDecimal([]byte(s)); got != want {
			t.Fatalf("parseDecimal(%q) = %d, want %d", s, got, want)
		}
	})
}

// FuzzEscapeRDNValue checks that a value escaped for a DN (RFC 4514) comes
// back unchanged from a DN parser and stays one RDN: a name never injects
// another RDN or component.
func FuzzEscapeRDNValue(f *testing.F) {
	for _, s := range []string{"Ann Lee", " lead", "trail ", "#hash", "a,b", "a+CN=x", `q"uo\te`, "nul\x00x",
		"\xff\xfe", "semi;colon", "<angle>", "é ü 漢字", "\u202eevil", " ", "=", "a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if v == "" {
			return
		}
		dn, err := ldap.ParseDN("CN=" + escapeRDNValue(v) + ",CN=Users,DC=contoso,DC=local")
		if err != nil {
			t.Fatalf("escaped %q gives a DN that does not parse: %v", v, err)
		}
		if len(dn.RDNs) != 4 || len(dn.RDNs[0].Attributes) != 1 {
			t.Fatalf("escaped %q changed the DN's shape: %v", v, dn)
		}
		if got := dn.RDNs[0].Attributes[0].Value; got != v {
			t.Fatalf("escaped %q came back as %q", v, got)
		}
	})
}

// FuzzEscapeFilter checks that a value escaped for a filter (RFC 4515)
// compiles as one equality assertion whose value is the input.
func FuzzEscapeFilter(f *testing.F) {
	for _, s := range []string{"ann", "*", "a)(|(cn=*", `\`, "nul\x00", "é", "\xff", "(", "a*b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		p, err := ldap.CompileFilter("(sAMAccountName=" + escapeFilter(v) + ")")
		if err != nil {
			t.Fatalf("escaped %q gives a filter that does not compile: %v", v, err)
		}
		if p.Tag != ldap.FilterEqualityMatch || len(p.Children) != 2 {
			t.Fatalf("escaped %q changed the filter's shape: tag %d", v, p.Tag)
		}
		if got := p.Children[1].Data.String(); got != v {
			t.Fatalf("escaped %q came back as %q", v, got)
		}
	})
}

// TestFileTimeFarFuture pins a pwdLastSet past 2262, which overflowed an
// int64 of nanoseconds and came back as a date in the past.
func TestFileTimeFarFuture(t *testing.T) {
	if got := fileTime(9223372036854775806); got.Year() != 30828 {
		t.Fatalf("fileTime of the largest FILETIME gave %v", got)
	}
	if got := fileTime(134397609499807050); got.Year() != 2026 {
		t.Fatalf("fileTime of a 2026 FILETIME gave %v", got)
	}
}
