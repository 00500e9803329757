package dnsrecords

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveFunc serves h on 127.0.0.1 (UDP and TCP, same port) until the test
// ends, and returns the address.
func serveFunc(t *testing.T, ip string, h dns.HandlerFunc) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)))
	require.NoError(t, err)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return pc.LocalAddr().String()
}

// A truncated answer over TCP is a failed query: the records are unknown,
// never reported missing.
func TestCheckTruncatedTCPAnswerIsAFailure(t *testing.T) {
	z := loadZone(t, "correct.zone")
	addr := serveFunc(t, "127.0.0.1", func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		m.Answer = z.rrs(strings.ToLower(q.Name), q.Qtype)
		if len(m.Answer) > 0 {
			m.Answer = m.Answer[:0] // cut off, over UDP and TCP alike
			m.Truncated = true
		}
		_ = w.WriteMsg(m)
	})
	set := mustSet(t, "contoso.com", contosoOptions())
	rep, err := Check(t.Context(), set, &CheckOptions{Server: addr, Verified: true})
	require.NoError(t, err)
	mx, ok := rep.Result(RoleMX)
	require.True(t, ok)
	assert.Equal(t, StatusUnknown, mx.Status, "a truncated TCP answer is not an empty answer")
	assert.Contains(t, findingKinds(rep.Findings), FindingQueryFailed)
}

// Only records answering the question count: a TXT record a server puts in
// the answer to an MX question does not make the TXT present.
func TestCheckCountsOnlyAnswersToTheQuestion(t *testing.T) {
	z := loadZone(t, "correct.zone")
	addr := serveFunc(t, "127.0.0.1", func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		if q.Qtype == dns.TypeMX {
			m.Answer = z.byName[strings.ToLower(q.Name)] // every record at the name
		}
		_ = w.WriteMsg(m)
	})
	set := mustSet(t, "contoso.com", contosoOptions())
	rep, err := Check(t.Context(), set, &CheckOptions{Server: addr, Verified: true})
	require.NoError(t, err)
	mx, _ := rep.Result(RoleMX)
	assert.Equal(t, StatusPresent, mx.Status)
	spf, _ := rep.Result(RoleSPF)
	assert.Equal(t, StatusMissing, spf.Status, "the SPF TXT came only in the answer to the MX question")
}

// The number of authoritative servers asked is capped: 16 silent name
// servers cost 4 servers' timeouts, not 16.
func TestCheckCapsNameServers(t *testing.T) {
	var nsQueries atomic.Int64
	addr := serveFunc(t, "127.0.0.1", func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		switch {
		case q.Qtype == dns.TypeNS:
			nsQueries.Add(1)
			for i := 1; i <= 16; i++ {
				m.Answer = append(m.Answer, &dns.NS{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns" + strconv.Itoa(i) + ".contoso.com."})
			}
		case q.Qtype == dns.TypeA && strings.HasPrefix(q.Name, "ns"):
			n, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(q.Name, ".", 2)[0], "ns"))
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 99, byte(n))})
		}
		_ = w.WriteMsg(m)
	})
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	set := mustSet(t, "contoso.com", contosoOptions())
	rep, err := Check(t.Context(), set, &CheckOptions{Resolver: res, Port: 1, Timeout: 200 * time.Millisecond, Attempts: 1})
	require.NoError(t, err)
	assert.Len(t, rep.Servers, DefaultMaxServers)
	assert.Positive(t, nsQueries.Load())
	rep, err = Check(t.Context(), set, &CheckOptions{Resolver: res, Port: 1, Timeout: 200 * time.Millisecond, Attempts: 1, MaxServers: 2})
	require.NoError(t, err)
	assert.Len(t, rep.Servers, 2)
}

func TestParseDomainWarnsOnMixedScripts(t *testing.T) {
	for _, tc := range []struct {
		name string
		warn string
	}{
		{"p\u0430ypal.com", "mixes Latin and Cyrillic"},
		{"\u0440\u0430\u0443\u0440\u0430\u04cf.com", "Cyrillic letters that look like Latin"},
		{"bücher.de", ""},
		{"東京タワー.jp", ""},
		{"контора.рф", ""},
	} {
		d, err := ParseDomain(tc.name, PolicyModern)
		require.NoError(t, err, tc.name)
		if tc.warn == "" {
			assert.Empty(t, d.Warnings, tc.name)
			continue
		}
		require.Len(t, d.Warnings, 1, tc.name)
		assert.Contains(t, d.Warnings[0], tc.warn)
	}
}

// The seed's warning is unconditional: never edit the records from the
// portal once the domain is verified.
func TestPortalWarningIsUnconditional(t *testing.T) {
	set := mustSet(t, "contoso.com", nil)
	txt, ok := set.Find(RoleVerificationTXT)
	require.True(t, ok)
	assert.Contains(t, txt.Explanation.Warnings, "Once the domain is verified, do not change the DNS records from the Microsoft 365 portal.")
	for _, w := range txt.Explanation.Warnings {
		assert.NotContains(t, w, "while", "no condition softens the warning")
	}
}
