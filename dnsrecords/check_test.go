package dnsrecords

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

func mustSet(t testing.TB, domain string, opts *Options) *RecordSet {
	t.Helper()
	d, err := ParseDomain(domain, PolicyModern)
	require.NoError(t, err)
	set, err := Generate(d, opts)
	require.NoError(t, err)
	return set
}

// contosoOptions are the tenant's values for contoso.com, as published in
// testdata/correct.zone.
func contosoOptions() *Options {
	return &Options{
		VerificationToken: "ms12345678",
		MailExchange:      "contoso-com.mail.protection.outlook.com",
		InitialDomain:     "contoso.onmicrosoft.com",
	}
}

func findingKinds(fs []Finding) []FindingKind {
	var out []FindingKind
	for _, f := range fs {
		out = append(out, f.Kind)
	}
	return out
}

func statuses(rep *Report) map[Role]Status {
	out := map[Role]Status{}
	for _, r := range rep.Results {
		out[r.Record.Role] = r.Status
	}
	return out
}

func verdictMap(rep *Report) map[string]bool {
	out := map[string]bool{}
	for _, v := range rep.Verdicts {
		out[v.Name] = v.OK
	}
	return out
}

func TestCheckCorrectZone(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "correct.zone")
	set := mustSet(t, "contoso.com", contosoOptions())
	rep, err := Check(t.Context(), set, &CheckOptions{Server: srv.Addr, Timeout: time.Second})
	require.NoError(t, err)

	assert.Equal(t, []string{srv.Addr}, rep.Servers)
	require.Len(t, rep.Results, len(set.Records))
	for _, r := range rep.Results {
		assert.Equal(t, StatusPresent, r.Status, "%s %s: %v", r.Record.Type, r.Record.Name, r.Findings)
		assert.Empty(t, r.Findings, "%s", r.Record.Role)
	}
	assert.Empty(t, rep.Findings)
	assert.True(t, rep.OK())
	for _, v := range rep.Verdicts {
		assert.True(t, v.OK, "%s: %s", v.Name, v.Summary)
	}
	v, ok := rep.Verdict(VerdictMailFlow)
	require.True(t, ok)
	assert.Equal(t, "Mail for the domain will flow to Exchange Online.", v.Summary)
	// One query per owner name and type: 14 records, 12 distinct
	// (name, type) pairs, plus the msoid conflict query.
	assert.Equal(t, 13, rep.Queries)
	assert.Equal(t, rep.Queries, srv.Queries(), "the report counts every query the server received")
	res, ok := rep.Result(RoleMX)
	require.True(t, ok)
	assert.Equal(t, []string{"0 contoso-com.mail.protection.outlook.com.", "32767 ms12345678.msv1.invalid."}, res.Found)
}

func TestCheckMissingRecords(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "missing.zone")
	set := mustSet(t, "fabrikam.com", nil)
	rep, err := Check(t.Context(), set, &CheckOptions{Server: srv.Addr})
	require.NoError(t, err)

	st := statuses(rep)
	assert.Equal(t, StatusPresent, st[RoleMX])
	assert.Equal(t, StatusPresent, st[RoleSPF])
	for _, role := range []Role{RoleVerificationTXT, RoleVerificationMX, RoleAutodiscover, RoleSIPFederation, RoleSIPTLS,
		RoleSIP, RoleLyncdiscover, RoleEnrollment, RoleRegistration, RoleDKIM1, RoleDKIM2, RoleDMARC} {
		assert.Equal(t, StatusMissing, st[role], "%s", role)
	}
	auto, _ := rep.Result(RoleAutodiscover)
	require.Len(t, auto.Findings, 1)
	f := auto.Findings[0]
	assert.Equal(t, FindingMissing, f.Kind)
	assert.Equal(t, SeverityError, f.Severity)
	assert.Equal(t, "Add a CNAME record at autodiscover.fabrikam.com with value autodiscover.outlook.com and TTL 3600.", f.Fix)
	assert.NotEmpty(t, f.Explanation)
	sip, _ := rep.Result(RoleSIP)
	assert.Equal(t, SeverityInfo, sip.Findings[0].Severity, "an optional record missing is only a note")

	vm := verdictMap(rep)
	assert.True(t, vm[VerdictMailFlow])
	assert.True(t, vm[VerdictSPF])
	assert.False(t, vm[VerdictAutodiscover])
	assert.False(t, vm[VerdictVerification])
	assert.False(t, vm[VerdictDKIM])
	assert.False(t, rep.OK())
	// The AAAA follow-up at autodiscover is sent because no CNAME was found.
	assert.Equal(t, 14, rep.Queries)
	assert.Equal(t, rep.Queries, srv.Queries())
}

func TestCheckWrongValues(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "wrong.zone")
	set := mustSet(t, "wingtiptoys.com", &Options{
		VerificationToken: "ms12345678",
		MailExchange:      "wingtiptoys-com.mail.protection.outlook.com",
		DKIMSelector1:     "selector1-wingtiptoys-com._domainkey.wingtiptoys.onmicrosoft.com",
		DKIMSelector2:     "selector2-wingtiptoys-com._domainkey.wingtiptoys.onmicrosoft.com",
	})
	rep, err := Check(t.Context(), set, &CheckOptions{Server: srv.Addr})
	require.NoError(t, err)

	tests := []struct {
		role   Role
		status Status
		kind   FindingKind
	}{
		{RoleVerificationTXT, StatusWrong, FindingWrongValue},
		{RoleMX, StatusWrong, FindingWrongValue},
		{RoleAutodiscover, StatusWrong, FindingWrongValue},
		{RoleSPF, StatusWrong, FindingWrongValue},
		{RoleSIPFederation, StatusWrong, FindingWrongValue},
		{RoleSIPTLS, StatusPresent, ""},
		{RoleEnrollment, StatusPresent, FindingWrongValue}, // the variant without -s works: a note
		{RoleRegistration, StatusWrong, FindingWrongValue},
		{RoleDKIM1, StatusWrong, FindingWrongValue},
		{RoleDKIM2, StatusMissing, FindingMissing},
		{RoleDMARC, StatusWrong, FindingWrongValue},
	}
	for _, tc := range tests {
		t.Run(string(tc.role), func(t *testing.T) {
			res, ok := rep.Result(tc.role)
			require.True(t, ok)
			assert.Equal(t, tc.status, res.Status, "%v", res.Findings)
			if tc.kind == "" {
				assert.Empty(t, res.Findings)
				return
			}
			require.NotEmpty(t, res.Findings)
			assert.Equal(t, tc.kind, res.Findings[0].Kind)
			assert.NotEmpty(t, res.Findings[0].Fix)
		})
	}
	mx, _ := rep.Result(RoleMX)
	assert.Equal(t, "the MX records point to 10 mail.wingtiptoys.com., not to wingtiptoys-com.mail.protection.outlook.com", mx.Findings[0].Detail)
	spf, _ := rep.Result(RoleSPF)
	assert.Equal(t, `Change the SPF record to "v=spf1 mx include:_spf.example.net include:spf.protection.outlook.com ~all".`, spf.Findings[0].Fix)
	enr, _ := rep.Result(RoleEnrollment)
	assert.Equal(t, SeverityInfo, enr.Findings[0].Severity)
	reg, _ := rep.Result(RoleRegistration)
	assert.Equal(t, []string{"A 192.0.2.31"}, reg.Found)

	vm := verdictMap(rep)
	assert.False(t, vm[VerdictMailFlow])
	assert.False(t, vm[VerdictAutodiscover])
	assert.False(t, vm[VerdictFederation])
	v, _ := rep.Verdict(VerdictMailFlow)
	assert.Equal(t, "Mail will not reach Exchange Online: MX @ has the wrong value", v.Summary)
}

func TestCheckConflicts(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "conflict.zone")
	set := mustSet(t, "tailspintoys.com", &Options{
		VerificationToken: "ms24681357",
		MailExchange:      "tailspintoys-com.mail.protection.outlook.com",
	})
	rep, err := Check(t.Context(), set, &CheckOptions{Server: srv.Addr, Verified: true})
	require.NoError(t, err)

	_, hasVerification := rep.Result(RoleVerificationTXT)
	assert.False(t, hasVerification, "verified domains are not checked for verification records")

	tests := []struct {
		role   Role
		status Status
		kind   FindingKind
	}{
		{RoleSPF, StatusConflict, FindingSecondSPF},
		{RoleMX, StatusConflict, FindingCompetingMX},
		{RoleAutodiscover, StatusConflict, FindingAutodiscoverAddress},
		{RoleLyncdiscover, StatusPresent, FindingTTLDrift},
		{RoleDMARC, StatusConflict, FindingSecondDMARC},
		{RoleDKIM1, StatusPresent, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.role), func(t *testing.T) {
			res, ok := rep.Result(tc.role)
			require.True(t, ok)
			assert.Equal(t, tc.status, res.Status)
			if tc.kind == "" {
				assert.Empty(t, res.Findings)
				return
			}
			assert.Contains(t, findingKinds(res.Findings), tc.kind)
		})
	}
	auto, _ := rep.Result(RoleAutodiscover)
	assert.Equal(t, []string{"A 192.0.2.41", "AAAA 2001:db8::41"}, auto.Found, "the AAAA follow-up query found the IPv6 address")
	lync, _ := rep.Result(RoleLyncdiscover)
	assert.Equal(t, "TTL is 300, expected 3600", lync.Findings[0].Detail)
	mx, _ := rep.Result(RoleMX)
	assert.Equal(t, "MX 0 mail.tailspintoys.com has a number lower than or equal to the Microsoft 365 MX (10)", mx.Findings[1].Detail)

	spf, _ := rep.Result(RoleSPF)
	assert.Equal(t, `Replace them with one record: "v=spf1 include:spf.protection.outlook.com ip4:192.0.2.0/24 -all".`, spf.Findings[0].Fix)
	assert.ElementsMatch(t, []FindingKind{FindingVerificationLeft, FindingMSOID}, findingKinds(rep.Findings))
	for _, f := range rep.Findings {
		assert.NotEmpty(t, f.Explanation)
		assert.NotEmpty(t, f.Fix)
	}
	vm := verdictMap(rep)
	assert.False(t, vm[VerdictMailFlow])
	assert.False(t, vm[VerdictAutodiscover])
	assert.False(t, vm[VerdictSPF])
	assert.True(t, vm[VerdictFederation])
	assert.True(t, vm[VerdictDKIM])
}

func TestCheckApexCNAME(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "apexcname.zone")
	set := mustSet(t, "northwindtraders.com", &Options{Services: []Service{ServiceMail}})
	rep, err := Check(t.Context(), set, &CheckOptions{Server: srv.Addr})
	require.NoError(t, err)
	require.Len(t, rep.Findings, 1)
	assert.Equal(t, FindingApexCNAME, rep.Findings[0].Kind)
	assert.Equal(t, "the domain itself is a CNAME to sites.example.net", rep.Findings[0].Detail)
	st := statuses(rep)
	assert.Equal(t, StatusMissing, st[RoleMX], "the CNAME hides the MX")
	assert.Equal(t, StatusPresent, st[RoleAutodiscover])
	vm := verdictMap(rep)
	assert.False(t, vm[VerdictMailFlow])
	assert.True(t, vm[VerdictAutodiscover])
}

func TestCheckTruncatedAnswerRetriedOverTCP(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "truncated.zone")
	set := mustSet(t, "litware.com", &Options{Services: []Service{ServiceMail}})
	rep, err := Check(t.Context(), set, &CheckOptions{Server: srv.Addr})
	require.NoError(t, err)
	assert.Equal(t, int64(1), srv.tcp.Load(), "only the apex TXT answer is too large for UDP")
	st := statuses(rep)
	assert.Equal(t, StatusPresent, st[RoleSPF], "the SPF record was found in the TCP answer")
	assert.Equal(t, StatusPresent, st[RoleMX])
	assert.Equal(t, StatusPresent, st[RoleAutodiscover])
	assert.Equal(t, rep.Queries, srv.Queries())
	// apex MX, apex TXT over UDP then TCP, autodiscover A, msoid A.
	assert.Equal(t, 5, rep.Queries)
}

func TestCheckComparesAllAuthoritativeServers(t *testing.T) {
	primary := startServer(t, "127.0.0.1", 0, "correct.zone")
	_, port, err := net.SplitHostPort(primary.Addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	secondary := startServer(t, "127.0.0.2", p, "stale.zone")

	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, primary.Addr)
	}}
	set := mustSet(t, "contoso.com", contosoOptions())
	rep, err := Check(t.Context(), set, &CheckOptions{Resolver: resolver, Port: p})
	require.NoError(t, err)

	assert.Equal(t, []string{primary.Addr, secondary.Addr}, rep.Servers)
	st := statuses(rep)
	assert.Equal(t, StatusWrong, st[RoleAutodiscover], "the worst answer wins")
	assert.Equal(t, StatusMissing, st[RoleDKIM1])
	assert.Equal(t, StatusPresent, st[RoleMX])
	auto, _ := rep.Result(RoleAutodiscover)
	kinds := findingKinds(auto.Findings)
	assert.Contains(t, kinds, FindingServersDisagree)
	for _, f := range auto.Findings {
		if f.Kind == FindingServersDisagree {
			assert.Equal(t, primary.Addr+": present (autodiscover.outlook.com); "+secondary.Addr+": wrong-value (exchange.contoso.com)", f.Detail)
		}
	}
	mx, _ := rep.Result(RoleMX)
	assert.NotContains(t, findingKinds(mx.Findings), FindingServersDisagree)
	// Each server gets the same 13 queries; the NS lookups go through the
	// resolver and are not counted.
	assert.Equal(t, 26, rep.Queries)
	assert.Equal(t, 13, secondary.Queries())
}

func TestCheckServerFailures(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "missing.zone") // does not serve contoso.com: REFUSED
	set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceMail}})
	rep, err := Check(t.Context(), set, &CheckOptions{Server: srv.Addr})
	require.NoError(t, err)
	for _, r := range rep.Results {
		assert.Equal(t, StatusUnknown, r.Status)
		require.NotEmpty(t, r.Findings)
		assert.Equal(t, FindingQueryFailed, r.Findings[0].Kind)
		assert.Contains(t, r.Findings[0].Detail, "REFUSED")
	}
	assert.False(t, rep.OK())
	v, _ := rep.Verdict(VerdictMailFlow)
	assert.Equal(t, "Mail will not reach Exchange Online: MX @ could not be checked", v.Summary)
}

func TestCheckTimeoutIsBounded(t *testing.T) {
	// A UDP socket that never answers.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceFederation}})
	start := time.Now()
	rep, err := Check(t.Context(), set, &CheckOptions{Server: pc.LocalAddr().String(), Timeout: 50 * time.Millisecond, Attempts: 2})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, 2, rep.Queries, "one question, sent twice over UDP")
	res, _ := rep.Result(RoleSIPFederation)
	assert.Equal(t, StatusUnknown, res.Status)
}

func TestCheckContext(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "correct.zone")
	set := mustSet(t, "contoso.com", contosoOptions())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Check(ctx, set, &CheckOptions{Server: srv.Addr})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled))
}

func TestCheckInvalidOptions(t *testing.T) {
	set := mustSet(t, "contoso.com", nil)
	tests := []struct {
		name string
		set  *RecordSet
		opts *CheckOptions
		rule backend.Reason
	}{
		{"server without port", set, &CheckOptions{Server: "127.0.0.1"}, ReasonOption},
		{"no set", nil, nil, ReasonEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(t.Context(), tc.set, tc.opts)
			var ve *backend.Error
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.rule, ve.Reason)
			assert.ErrorIs(t, err, backend.ErrInvalidArgument)
		})
	}
}

func TestCheckMailMigration(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "conflict.zone")
	set := mustSet(t, "tailspintoys.com", &Options{
		Services:           []Service{ServiceMail},
		MailExchange:       "tailspintoys-com.mail.protection.outlook.com",
		MailMigration:      true,
		ActiveMXPreference: ptr(uint16(0)),
	})
	rep, err := Check(t.Context(), set, &CheckOptions{Server: srv.Addr})
	require.NoError(t, err)
	mx, _ := rep.Result(RoleMX)
	assert.Equal(t, StatusPresent, mx.Status, "during a migration the old MX is expected to come first")
	require.Len(t, mx.Findings, 1)
	assert.Equal(t, FindingCompetingMX, mx.Findings[0].Kind)
	assert.Equal(t, SeverityInfo, mx.Findings[0].Severity)
	v, _ := rep.Verdict(VerdictMailFlow)
	assert.True(t, v.OK)
	assert.Contains(t, v.Summary, "once the Microsoft 365 MX gets the lowest number")
}

func TestCheckDerivedValuesAreAcceptedAsUnverified(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "correct.zone")
	// No tenant values: the token is a placeholder; the DKIM targets are
	// guessed (and here happen to be right).
	set := mustSet(t, "contoso.com", &Options{Services: []Service{ServiceVerification}})
	rep, err := Check(t.Context(), set, &CheckOptions{Server: srv.Addr})
	require.NoError(t, err)
	txt, _ := rep.Result(RoleVerificationTXT)
	assert.Equal(t, StatusPresent, txt.Status)
	require.Len(t, txt.Findings, 1)
	assert.Equal(t, FindingUnverified, txt.Findings[0].Kind)
	assert.Equal(t, `found MS=ms12345678; the expected value was derived offline ("MS=msXXXXXXXX")`, txt.Findings[0].Detail)
	mx, _ := rep.Result(RoleVerificationMX)
	assert.Equal(t, StatusPresent, mx.Status)
}

func TestPlansAskFewerQueriesThanNaive(t *testing.T) {
	set := mustSet(t, "contoso.com", contosoOptions())
	grouped := planGrouped(set, false)
	naive := planNaive(set, false)
	assert.Len(t, grouped, 13)
	assert.Len(t, naive, 18)
	seen := map[question]bool{}
	for _, q := range grouped {
		assert.False(t, seen[q], "duplicate question %v", q)
		seen[q] = true
	}
}

func TestCheckNaivePlanAgrees(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "conflict.zone")
	set := mustSet(t, "tailspintoys.com", &Options{VerificationToken: "ms24681357", MailExchange: "tailspintoys-com.mail.protection.outlook.com"})
	opts := &CheckOptions{Server: srv.Addr, Verified: true}
	a, err := check(t.Context(), set, opts, planGrouped)
	require.NoError(t, err)
	b, err := check(t.Context(), set, opts, planNaive)
	require.NoError(t, err)
	assert.Equal(t, statuses(a), statuses(b))
	assert.Equal(t, verdictMap(a), verdictMap(b))
	assert.ElementsMatch(t, findingKinds(a.AllFindings()), findingKinds(b.AllFindings()))
	assert.Less(t, a.Queries, b.Queries)
}

func TestPickAddr(t *testing.T) {
	assert.Equal(t, "8.8.8.8", pickAddr([]string{"2001:db8::1", "8.8.8.8", "9.9.9.9"}))
	assert.Equal(t, "2001:db8::1", pickAddr([]string{"2001:db8::2", "2001:db8::1"}))
}

func TestCheckLogsEveryQuery(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "truncated.zone")
	set := mustSet(t, "litware.com", &Options{Services: []Service{ServiceMail}})
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rep, err := Check(t.Context(), set, &CheckOptions{Server: srv.Addr, Logger: logger})
	require.NoError(t, err)
	assert.Equal(t, rep.Queries, strings.Count(buf.String(), `msg="dns query"`))
	assert.Equal(t, 1, strings.Count(buf.String(), "net=tcp"), "the TCP retry is logged")
}

func TestCheckFindsNameServersOfTheParentZone(t *testing.T) {
	srv := startServer(t, "127.0.0.1", 0, "missing.zone")
	_, port, err := net.SplitHostPort(srv.Addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Addr)
	}}
	// sales.fabrikam.com has no NS records of its own: the servers of
	// fabrikam.com are asked.
	set := mustSet(t, "sales.fabrikam.com", &Options{Services: []Service{ServiceMail}})
	rep, err := Check(t.Context(), set, &CheckOptions{Resolver: resolver, Port: p})
	require.NoError(t, err)
	assert.Equal(t, []string{srv.Addr}, rep.Servers)
	assert.Equal(t, StatusMissing, statuses(rep)[RoleMX])

	// A domain nobody serves: no name server, an Unavailable error.
	set = mustSet(t, "nowhere.com", &Options{Services: []Service{ServiceMail}})
	_, err = Check(t.Context(), set, &CheckOptions{Resolver: resolver, Port: p})
	require.Error(t, err)
	assert.ErrorIs(t, err, backend.ErrUnavailable)
}
