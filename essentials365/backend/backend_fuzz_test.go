package backend_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/essentials365/sdk/essentials365/backend"
)

// wantInvalid fails unless err is an InvalidArgument *backend.Error with
// reason want.
func wantInvalid(t *testing.T, err error, want backend.Reason) {
	t.Helper()
	var be *backend.Error
	if !errors.As(err, &be) || !errors.Is(err, backend.ErrInvalidArgument) || backend.ReasonOf(err) != want {
		t.Fatalf("%v: want InvalidArgument with %s", err, want)
	}
}

// FuzzGUID checks ParseGUID and GUIDFromImmutableID on any text: what they
// accept is exactly one GUID's text form (any case, braces) or its
// immutableId, and the GUID writes back to it.
func FuzzGUID(f *testing.F) {
	for _, s := range []string{"d36e8b4b-a393-49b2-b050-bf63a785e0c7", "{D36E8B4B-A393-49B2-B050-BF63A785E0C7}",
		"{d36e8b4b-a393-49b2-b050-bf63a785e0c7", "d36e8b4b-a393-49b2-b050-bf63a785e0c7}", " d36e8b4b-a393-49b2-b050-bf63a785e0c7 ",
		"d36e8b4ba39349b2b050bf63a785e0c7", "+36e8b4b-a393-49b2-b050-bf63a785e0c7", "d36e8b4b-a393-49b2-b050-bf63a785e0cg",
		"S4tu06Ojskmwub9jp4XgxQ==", "S4tu06Ojskmwub9jp4XgxR==", "S4tu06Ojskmw\nub9jp4XgxQ==", "S4tu06Ojskmwub9jp4XgxQ", "", "=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if g, err := backend.ParseGUID(s); err != nil {
			wantInvalid(t, err, backend.ReasonGUIDSyntax)
		} else {
			norm := strings.ToLower(strings.TrimSpace(s))
			if strings.HasPrefix(norm, "{") {
				norm = norm[1 : len(norm)-1]
			}
			if g.String() != norm {
				t.Fatalf("%q parsed as %s", s, g)
			}
			if again, err := backend.GUIDFromImmutableID(g.ImmutableID()); err != nil || again != g {
				t.Fatalf("%s: immutableId %q reads back as %s (%v)", g, g.ImmutableID(), again, err)
			}
		}
		if g, err := backend.GUIDFromImmutableID(s); err != nil {
			wantInvalid(t, err, backend.ReasonImmutableID)
		} else if g.ImmutableID() != s {
			t.Fatalf("immutableId %q taken as %s, whose immutableId is %q", s, g, g.ImmutableID())
		}
	})
}

// FuzzDNSRecordGraph checks the conversion between DNSRecord and Graph's
// domainDnsRecord: a record goes to Graph's shape, through JSON and back
// the same record; any Graph JSON converts or fails with InvalidArgument
// and one of the record reasons. (A record without a value is kept: Graph
// lists a verification MX without one, and dnsrecords fills it in.)
func FuzzDNSRecordGraph(f *testing.F) {
	f.Add("contoso.com", "MX", "contoso-com.mail.protection.outlook.com", uint16(0), uint16(0), uint16(0), uint32(3600),
		`{"@odata.type":"#microsoft.graph.domainDnsMxRecord","label":"contoso.com","recordType":"Mx","mailExchange":"x.outlook.com","preference":0,"ttl":3600}`)
	f.Add("_sip._tls.contoso.com", "SRV", "sipdir.online.lync.com", uint16(100), uint16(1), uint16(443), uint32(3600),
		`{"label":"contoso.com","recordType":"Srv","nameTarget":"sipdir.online.lync.com","service":"_sip","protocol":"_tls","port":443,"priority":100,"weight":1,"ttl":3600}`)
	f.Add("contoso.com", "TXT", "MS=ms12345678", uint16(0), uint16(0), uint16(0), uint32(0),
		`{"recordType":"Txt","label":"contoso.com","text":"v=spf1 include:spf.protection.outlook.com -all","ttl":-1}`)
	f.Add("autodiscover.contoso.com", "CNAME", "autodiscover.outlook.com.", uint16(0), uint16(0), uint16(0), uint32(1),
		`{"@odata.type":"microsoft.graph.domainDnsCnameRecord","label":"autodiscover.contoso.com","canonicalName":""}`)
	f.Add("", "SRV", "", uint16(0), uint16(0), uint16(0), uint32(0),
		`{"recordType":"Srv","label":"contoso.com","nameTarget":"x","port":70000,"service":"_sip.","protocol":"._tls"}`)
	f.Add("contoso.com", "A", "1.2.3.4", uint16(0), uint16(0), uint16(0), uint32(0), `{"recordType":"A","label":"contoso.com"}`)
	f.Add("x", "MX", "y", uint16(1), uint16(0), uint16(0), uint32(1<<31), `{"recordType":"Mx","label":"","mailExchange":"y"}`)
	f.Fuzz(func(t *testing.T, name, typ, value string, a, b, c uint16, ttl uint32, graphJSON string) {
		var g backend.GraphDNSRecord
		if json.Unmarshal([]byte(graphJSON), &g) == nil {
			r, err := g.DNSRecord()
			if err != nil {
				var be *backend.Error
				if !errors.As(err, &be) || !errors.Is(err, backend.ErrInvalidArgument) ||
					(be.Reason != backend.ReasonDNSRecordType && be.Reason != backend.ReasonDNSRecordValue) {
					t.Fatalf("%s: %v", graphJSON, err)
				}
			} else if r.Name != backend.CanonicalDNSName(r.Name) || r.TTL > 1<<31-1 {
				t.Fatalf("%s converted to a record not in canonical form: %+v", graphJSON, r)
			}
		}

		tp, ok := backend.ParseDNSType(typ)
		if !ok || ttl > 1<<31-1 {
			return
		}
		r := backend.DNSRecord{Name: name, Type: tp, TTL: ttl, SupportedService: "Email", ID: "rec-1"}
		switch tp {
		case backend.DNSTypeMX:
			r.Exchange, r.Preference = value, a
		case backend.DNSTypeTXT:
			r.Text = value
		case backend.DNSTypeCNAME:
			r.Target = value
		case backend.DNSTypeSRV:
			r.Target, r.Priority, r.Weight, r.Port = value, a, b, c
		}
		r = r.Canonical()
		if r.Name == "" || tp != backend.DNSTypeTXT && r.Value() == "" || !utf8.ValidString(name+value) {
			return
		}
		raw, err := json.Marshal(backend.NewGraphDNSRecord(r))
		if err != nil {
			t.Fatal(err)
		}
		var back backend.GraphDNSRecord
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		got, err := back.DNSRecord()
		if err != nil {
			t.Fatalf("%+v: %s does not convert back: %v", r, raw, err)
		}
		if got != r {
			t.Fatalf("%+v went to Graph as %s and came back as %+v", r, raw, got)
		}
	})
}

// FuzzCheckSAMAccountName checks that a name the sAMAccountName rules
// accept holds no control character or forbidden character, is at most 20
// characters, and that every refusal names one of the documented reasons.
func FuzzCheckSAMAccountName(f *testing.F) {
	for _, s := range []string{"ann", "", " ", "a.", "ann\x00x", "a@b", strings.Repeat("é", 20), strings.Repeat("é", 21),
		"\u202eevil", "zero\u200bwidth", "a\u0085b", "a\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sam string) {
		err := backend.CheckSAMAccountName("directory: create user", sam)
		if err != nil {
			var be *backend.Error
			if !errors.As(err, &be) || !errors.Is(err, backend.ErrInvalidArgument) {
				t.Fatalf("%q: %v", sam, err)
			}
			switch be.Reason {
			case backend.ReasonNameCharacters, backend.ReasonSAMRequired, backend.ReasonSAMLength, backend.ReasonSAMCharacters:
			default:
				t.Fatalf("%q: reason %q", sam, be.Reason)
			}
			return
		}
		if backend.CheckName("", "", "", sam) != nil || utf8.RuneCountInString(sam) > 20 ||
			strings.ContainsAny(sam, backend.SAMForbidden) || strings.TrimSpace(sam) == "" || strings.HasSuffix(sam, ".") {
			t.Fatalf("%q accepted", sam)
		}
		if cn := backend.UniqueCN(strings.Repeat("Ünïcödé ", 20)+sam, sam); utf8.RuneCountInString(cn) > backend.MaxCN {
			t.Fatalf("UniqueCN gave %d characters: %q", utf8.RuneCountInString(cn), cn)
		}
	})
}
