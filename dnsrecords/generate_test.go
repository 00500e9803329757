package dnsrecords

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// row is one line of Microsoft's record table for contoso.com, with the
// tenant's initial domain contoso.onmicrosoft.com.
type row struct {
	host, typ, value string
	prio, weight     uint16
	port             uint16
	ttl              uint32
	service          Service
	optional         bool
}

func rowOf(domain string, r Record) row {
	out := row{host: r.Host(domain), typ: string(r.Type), value: r.Value(), ttl: r.TTL, service: r.Service, optional: r.Optional}
	switch r.Type {
	case TypeMX:
		out.prio = r.Preference
	case TypeSRV:
		out.prio, out.weight, out.port = r.Priority, r.Weight, r.Port
	}
	return out
}

// TestGenerateMatchesDocumentation holds the generated set to Microsoft's
// documented records, record for record.
func TestGenerateMatchesDocumentation(t *testing.T) {
	set := mustSet(t, "contoso.com", &Options{VerificationToken: "MS=ms12345678", InitialDomain: "contoso.onmicrosoft.com"})
	want := []row{
		{"@", "TXT", "MS=ms12345678", 0, 0, 0, 3600, ServiceVerification, false},
		{"@", "MX", "ms12345678.msv1.invalid", 32767, 0, 0, 3600, ServiceVerification, true},
		{"@", "MX", "contoso-com.mail.protection.outlook.com", 0, 0, 0, 3600, ServiceMail, false},
		{"autodiscover", "CNAME", "autodiscover.outlook.com", 0, 0, 0, 3600, ServiceMail, false},
		{"@", "TXT", "v=spf1 include:spf.protection.outlook.com -all", 0, 0, 0, 3600, ServiceMail, false},
		{"_sipfederationtls._tcp", "SRV", "sipfed.online.lync.com", 100, 1, 5061, 3600, ServiceFederation, false},
		{"_sip._tls", "SRV", "sipdir.online.lync.com", 100, 1, 443, 3600, ServiceSkypeLegacy, true},
		{"sip", "CNAME", "sipdir.online.lync.com", 0, 0, 0, 3600, ServiceSkypeLegacy, true},
		{"lyncdiscover", "CNAME", "webdir.online.lync.com", 0, 0, 0, 3600, ServiceSkypeLegacy, true},
		{"enterpriseenrollment", "CNAME", "enterpriseenrollment-s.manage.microsoft.com", 0, 0, 0, 3600, ServiceMDM, false},
		{"enterpriseregistration", "CNAME", "enterpriseregistration.windows.net", 0, 0, 0, 3600, ServiceMDM, false},
		{"selector1._domainkey", "CNAME", "selector1-contoso-com._domainkey.contoso.onmicrosoft.com", 0, 0, 0, 3600, ServiceDKIM, false},
		{"selector2._domainkey", "CNAME", "selector2-contoso-com._domainkey.contoso.onmicrosoft.com", 0, 0, 0, 3600, ServiceDKIM, false},
		{"_dmarc", "TXT", "v=DMARC1; p=none; pct=100", 0, 0, 0, 3600, ServiceDMARC, false},
	}
	var got []row
	for _, r := range set.Records {
		got = append(got, rowOf("contoso.com", r))
	}
	assert.Equal(t, want, got)

	sources := map[Role]Source{}
	for _, r := range set.Records {
		sources[r.Role] = r.Source
		assert.NotEmpty(t, r.Explanation.Purpose, "%s", r.Role)
		assert.NotEmpty(t, r.Explanation.WithoutIt, "%s", r.Role)
	}
	assert.Equal(t, SourceTenant, sources[RoleVerificationTXT])
	assert.Equal(t, SourceDerived, sources[RoleMX], "the MX host is derived, so unverified")
	assert.Equal(t, SourceDerived, sources[RoleDKIM1])
	assert.Equal(t, SourceDocumented, sources[RoleAutodiscover])
	assert.Equal(t, SourceDocumented, sources[RoleSIPFederation])

	mx, _ := set.Find(RoleMX)
	assert.True(t, mx.Unverified())
	assert.Contains(t, strings.Join(mx.Explanation.Warnings, " "), "do not give this MX preference 0", "the Essentials migration warning")
}

func TestGenerateNewDKIMFormat(t *testing.T) {
	set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceDKIM}, InitialDomain: "contoso.onmicrosoft.com", DKIMPartition: "o"})
	require.Len(t, set.Records, 2)
	assert.Equal(t, "selector1-contoso-com._domainkey.contoso.o-v1.dkim.mail.microsoft", set.Records[0].Target)
	assert.Equal(t, "selector2-contoso-com._domainkey.contoso.o-v1.dkim.mail.microsoft", set.Records[1].Target)
}

func TestGenerateServices(t *testing.T) {
	tests := []struct {
		name     string
		services []Service
		roles    []Role
	}{
		{"mail", []Service{ServiceMail}, []Role{RoleMX, RoleAutodiscover, RoleSPF}},
		{"federation and mdm, in catalogue order", []Service{ServiceMDM, ServiceFederation},
			[]Role{RoleSIPFederation, RoleEnrollment, RoleRegistration}},
		{"essentials-era set", []Service{ServiceVerification, ServiceMail, ServiceFederation, ServiceSkypeLegacy},
			[]Role{RoleVerificationTXT, RoleVerificationMX, RoleMX, RoleAutodiscover, RoleSPF, RoleSIPFederation, RoleSIPTLS, RoleSIP, RoleLyncdiscover}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := mustSet(t, "contoso.com", &Options{Services: tc.services})
			var roles []Role
			for _, r := range set.Records {
				roles = append(roles, r.Role)
			}
			assert.Equal(t, tc.roles, roles)
		})
	}
}

func TestGenerateOptions(t *testing.T) {
	t.Run("placeholder token", func(t *testing.T) {
		set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceVerification}})
		for _, r := range set.Records {
			assert.True(t, r.Placeholder)
			assert.True(t, r.Unverified())
			assert.Contains(t, r.Value(), "msXXXXXXXX")
		}
	})
	t.Run("tenant MX", func(t *testing.T) {
		set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceMail}, MailExchange: "Contoso-com.o-v1.mx.microsoft."})
		mx, _ := set.Find(RoleMX)
		assert.Equal(t, "contoso-com.o-v1.mx.microsoft", mx.Exchange)
		assert.Equal(t, SourceTenant, mx.Source)
		assert.Empty(t, set.Warnings)
	})
	t.Run("hyphenated domain", func(t *testing.T) {
		set := mustSet(t, "domain-withdash.com", &Options{Services: []Service{ServiceMail, ServiceDKIM}})
		mx, _ := set.Find(RoleMX)
		assert.Equal(t, "domainwithdash-com.mail.protection.outlook.com", mx.Exchange)
		assert.True(t, mx.Unverified())
		assert.Contains(t, strings.Join(mx.Explanation.Warnings, " "), "adds a suffix")
		require.Len(t, set.Warnings, 1)
		assert.Contains(t, set.Warnings[0], "cannot be derived")
		dk, _ := set.Find(RoleDKIM1)
		assert.Equal(t, "selector1-domainwithdash-com._domainkey.domainwithdash.onmicrosoft.com", dk.Target)
	})
	t.Run("subdomain", func(t *testing.T) {
		set := mustSet(t, "marketing.contoso.com", &Options{Services: []Service{ServiceMail, ServiceDKIM}})
		mx, _ := set.Find(RoleMX)
		assert.Equal(t, "marketing-contoso-com.mail.protection.outlook.com", mx.Exchange)
		auto, _ := set.Find(RoleAutodiscover)
		assert.Equal(t, "autodiscover.marketing.contoso.com", auto.Name)
		dk, _ := set.Find(RoleDKIM1)
		assert.Equal(t, "selector1-marketing-contoso-com._domainkey.contoso.onmicrosoft.com", dk.Target)
	})
	t.Run("mail migration", func(t *testing.T) {
		set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceMail}, MailMigration: true, ActiveMXPreference: ptr(uint16(10))})
		mx, _ := set.Find(RoleMX)
		assert.Equal(t, uint16(20), mx.Preference)
		assert.True(t, set.MailMigration)
		assert.Contains(t, strings.Join(set.Warnings, " "), "preference 20, above the active MX (10)")
	})
	t.Run("existing SPF merged", func(t *testing.T) {
		set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceMail},
			ExistingSPF: []string{"MS=ms1", "v=spf1 include:_spf.google.com ~all"}})
		var spfs []string
		for _, r := range set.Records {
			if r.Type == TypeTXT && isSPF(r.Text) {
				spfs = append(spfs, r.Text)
			}
		}
		assert.Equal(t, []string{"v=spf1 include:_spf.google.com include:spf.protection.outlook.com ~all"}, spfs)
	})
	t.Run("DMARC policy and reports", func(t *testing.T) {
		set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceDMARC}, DMARCPolicy: "Quarantine", DMARCReports: "dmarc@contoso.com"})
		assert.Equal(t, "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@contoso.com", set.Records[0].Text)
	})
	t.Run("OWA alias from the Essentials wizard", func(t *testing.T) {
		set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceMail}, OWAAlias: true})
		owa, ok := set.Find(RoleOWA)
		require.True(t, ok)
		assert.Equal(t, "mail.contoso.com", owa.Name)
		assert.Equal(t, "mail.office365.com", owa.Target)
		assert.Equal(t, uint32(3600), owa.TTL)
		assert.True(t, owa.Optional)
	})
	t.Run("IDN domain", func(t *testing.T) {
		set := mustSet(t, "bücher.de", &Options{Services: []Service{ServiceMail}})
		mx, _ := set.Find(RoleMX)
		assert.Equal(t, "xnbcherkva-de.mail.protection.outlook.com", mx.Exchange)
		assert.Equal(t, "xn--bcher-kva.de", set.Domain.Name)
		assert.Equal(t, "bücher.de", set.Domain.Unicode)
	})
}

func TestGenerateRejectsBadOptions(t *testing.T) {
	d, err := ParseDomain("contoso.com", PolicyModern)
	require.NoError(t, err)
	tests := []struct {
		name string
		opts Options
		rule backend.Reason
	}{
		{"token", Options{VerificationToken: "12345678"}, ReasonOption},
		{"unknown service", Options{Services: []Service{"fax"}}, ReasonOption},
		{"MX host", Options{MailExchange: "bad host"}, ReasonRecordValue},
		{"one DKIM selector only", Options{DKIMSelector1: "a.example"}, ReasonOption},
		{"initial domain", Options{InitialDomain: "contoso.com"}, ReasonOption},
		{"DKIM partition", Options{DKIMPartition: "oo"}, ReasonOption},
		{"DMARC policy", Options{DMARCPolicy: "block"}, ReasonOption},
		{"DMARC mailbox", Options{DMARCReports: "dmarc@contoso.com; p=none"}, ReasonOption},
		{"tenant record type", Options{TenantRecords: []backend.DNSRecord{{Name: "contoso.com", Type: "A"}}}, ReasonRecordType},
		{"tenant record outside the domain", Options{TenantRecords: []backend.DNSRecord{{Name: "contoso.net", Type: TypeTXT, Text: "x"}}}, ReasonOwnerName},
		{"tenant TXT without text", Options{TenantRecords: []backend.DNSRecord{{Name: "contoso.com", Type: TypeTXT}}}, ReasonRecordValue},
		{"tenant CNAME without target", Options{TenantRecords: []backend.DNSRecord{{Name: "x.contoso.com", Type: TypeCNAME}}}, ReasonRecordValue},
		{"migration without the active preference", Options{MailMigration: true}, ReasonOption},
		{"migration after a 65535 MX", Options{MailMigration: true, ActiveMXPreference: ptr(uint16(65535))}, ReasonOption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(d, &tc.opts)
			var ve *backend.Error
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.rule, ve.Reason, "%v", err)
		})
	}
	_, err = Generate(Domain{}, nil)
	var ve *backend.Error
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, ReasonEmpty, ve.Reason)
}

// graphRecords is shaped like the value array of Graph's
// GET /domains/contoso.com/serviceConfigurationRecords.
const graphRecords = `[
 {"@odata.type":"#microsoft.graph.domainDnsMxRecord","isOptional":false,"label":"contoso.com","recordType":"Mx","supportedService":"Email","ttl":3600,"mailExchange":"contoso-com.o-v1.mx.microsoft","preference":0},
 {"@odata.type":"#microsoft.graph.domainDnsTxtRecord","isOptional":false,"label":"contoso.com","recordType":"Txt","supportedService":"Email","ttl":3600,"text":"v=spf1 include:spf.protection.outlook.com -all"},
 {"@odata.type":"#microsoft.graph.domainDnsCnameRecord","isOptional":false,"label":"autodiscover.contoso.com","recordType":"CName","supportedService":"Email","ttl":3600,"canonicalName":"autodiscover.outlook.com"},
 {"@odata.type":"#microsoft.graph.domainDnsSrvRecord","isOptional":false,"label":"contoso.com","recordType":"Srv","supportedService":"OfficeCommunicationsOnline","ttl":3600,"nameTarget":"sipfed.online.lync.com","port":5061,"priority":100,"protocol":"_tcp","service":"_sipfederationtls","weight":1},
 {"@odata.type":"#microsoft.graph.domainDnsSrvRecord","isOptional":false,"label":"_sip._tls.contoso.com","recordType":"Srv","supportedService":"OfficeCommunicationsOnline","ttl":3600,"nameTarget":"sipdir.online.lync.com","port":443,"priority":100,"protocol":"_tls","service":"_sip","weight":1},
 {"@odata.type":"#microsoft.graph.domainDnsCnameRecord","isOptional":false,"label":"msoid.contoso.com","recordType":"CName","supportedService":"OrgIdAuthentication","ttl":3600,"canonicalName":"clientconfig.microsoftonline-p.net"},
 {"@odata.type":"#microsoft.graph.domainDnsTxtRecord","isOptional":false,"label":"contoso.com","recordType":"Txt","ttl":3600,"text":"MS=ms87654321"},
 {"@odata.type":"#microsoft.graph.domainDnsMxRecord","isOptional":false,"label":"contoso.com","recordType":"Mx","ttl":3600}
]`

func TestGenerateFromTenantRecords(t *testing.T) {
	recs := graphDNSRecords(t, graphRecords)
	set := mustSet(t, "contoso.com", &Options{
		TenantRecords: recs,
		Services:      []Service{ServiceVerification, ServiceMail, ServiceFederation, ServiceSkypeLegacy},
		ExistingSPF:   []string{"v=spf1 ip4:192.0.2.1 -all"},
	})

	byRole := map[Role]Record{}
	for _, r := range set.Records {
		_, dup := byRole[r.Role]
		assert.False(t, dup, "role %s appears twice", r.Role)
		byRole[r.Role] = r
	}
	assert.Equal(t, "contoso-com.o-v1.mx.microsoft", byRole[RoleMX].Exchange)
	assert.Equal(t, SourceTenant, byRole[RoleMX].Source)
	assert.Equal(t, "v=spf1 ip4:192.0.2.1 include:spf.protection.outlook.com -all", byRole[RoleSPF].Text, "the tenant's SPF include is merged into the existing record")
	fed := byRole[RoleSIPFederation]
	assert.Equal(t, "_sipfederationtls._tcp.contoso.com", fed.Name, "service and protocol prefixed to the label")
	assert.Equal(t, []uint16{100, 1, 5061}, []uint16{fed.Priority, fed.Weight, fed.Port})
	assert.Equal(t, ServiceFederation, fed.Service)
	assert.Equal(t, "_sip._tls.contoso.com", byRole[RoleSIPTLS].Name, "a label that already has the prefix is kept")
	assert.Equal(t, "MS=ms87654321", byRole[RoleVerificationTXT].Text)
	assert.Equal(t, "ms87654321.msv1.invalid", byRole[RoleVerificationMX].Exchange, "the token fills the verification MX")
	assert.False(t, byRole[RoleVerificationMX].Placeholder)
	assert.Equal(t, SourceTenant, byRole[RoleAutodiscover].Source)
	_, hasOther := byRole[RoleOther]
	assert.False(t, hasOther, "no record outside the catalogue is kept")
	require.Len(t, set.Warnings, 2)
	assert.Contains(t, set.Warnings[0], "the tenant listed an msoid CNAME; it was left out")
	assert.Equal(t, "the tenant listed a verification MX without a value; the derived one is shown", set.Warnings[1])

	all := mustSet(t, "contoso.com", &Options{TenantRecords: recs})
	for _, r := range all.Records {
		assert.NotEqual(t, "msoid.contoso.com", r.Name, "an msoid CNAME breaks worldwide tenants and is never generated")
	}
	assert.Contains(t, strings.Join(all.Warnings, " "), "msoid CNAME")
}

// graphDNSRecords decodes Graph's JSON through backend.GraphDNSRecord, the
// one conversion.
func graphDNSRecords(t *testing.T, js string) []backend.DNSRecord {
	t.Helper()
	var wire []backend.GraphDNSRecord
	require.NoError(t, json.Unmarshal([]byte(js), &wire))
	out := make([]backend.DNSRecord, 0, len(wire))
	for _, g := range wire {
		r, err := g.DNSRecord()
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}

// Issue: with the tenant's SPF record and an existing ~all record, the
// merge must keep the customer's ~all, not publish the tenant's -all.
func TestGenerateTenantSPFKeepsExistingQualifier(t *testing.T) {
	recs := graphDNSRecords(t, graphRecords)
	set := mustSet(t, "contoso.com", &Options{
		TenantRecords: recs, Services: []Service{ServiceMail},
		ExistingSPF: []string{"v=spf1 include:_spf.google.com ~all"},
	})
	spf, ok := set.Find(RoleSPF)
	require.True(t, ok)
	assert.Equal(t, "v=spf1 include:_spf.google.com include:spf.protection.outlook.com ~all", spf.Text)
	asked := mustSet(t, "contoso.com", &Options{
		TenantRecords: recs, Services: []Service{ServiceMail}, SPFAll: "-all",
		ExistingSPF: []string{"v=spf1 include:_spf.google.com ~all"},
	})
	spf, _ = asked.Find(RoleSPF)
	assert.Equal(t, "v=spf1 include:_spf.google.com include:spf.protection.outlook.com -all", spf.Text, "the caller may ask for another policy")
	derived := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceMail}, ExistingSPF: []string{"v=spf1 mx ?all"}})
	spf, _ = derived.Find(RoleSPF)
	assert.Equal(t, "v=spf1 mx include:spf.protection.outlook.com ?all", spf.Text)
	_, err := Generate(derived.Domain, &Options{SPFAll: "+all"})
	assert.Equal(t, ReasonOption, backend.ReasonOf(err))
	none := mustSet(t, "contoso.com", &Options{TenantRecords: recs, Services: []Service{ServiceMail}})
	spf, _ = none.Find(RoleSPF)
	assert.Equal(t, "v=spf1 include:spf.protection.outlook.com -all", spf.Text, "without an existing record the tenant's value is used")
}

func TestGenerateMailMigrationStrictlyHigher(t *testing.T) {
	for _, tc := range []struct{ active, want uint16 }{{0, 10}, {10, 20}, {65530, 65535}, {65534, 65535}} {
		set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceMail}, MailMigration: true, ActiveMXPreference: ptr(tc.active)})
		mx, _ := set.Find(RoleMX)
		assert.Equal(t, tc.want, mx.Preference, "active %d", tc.active)
		assert.Greater(t, mx.Preference, tc.active, "strictly higher than the active MX")
	}
}

func TestGraphDNSRecordConversion(t *testing.T) {
	big := int64(70000)
	_, err := backend.GraphDNSRecord{Label: "contoso.com", RecordType: "Srv", Service: "_sip", Protocol: "_tls", NameTarget: "a.example", Port: &big}.DNSRecord()
	assert.Equal(t, ReasonRecordValue, backend.ReasonOf(err))
	_, err = backend.GraphDNSRecord{Label: "contoso.com", RecordType: "A"}.DNSRecord()
	assert.Equal(t, ReasonRecordType, backend.ReasonOf(err))
	// @odata.type without '#' and no recordType: the type still comes through.
	r, err := backend.GraphDNSRecord{ODataType: "microsoft.graph.domainDnsMxRecord", Label: "Contoso.com.", MailExchange: "X.example."}.DNSRecord()
	require.NoError(t, err)
	assert.Equal(t, backend.DNSRecord{Name: "contoso.com", Type: TypeMX, Exchange: "x.example"}, r)
	for _, rec := range mustSet(t, "contoso.com", nil).Records {
		back, err := backend.NewGraphDNSRecord(rec.DNSRecord).DNSRecord()
		require.NoError(t, err)
		assert.True(t, rec.DNSRecord.Same(back), "%s round-trips through Graph's shape", rec.DNSRecord)
	}
}
