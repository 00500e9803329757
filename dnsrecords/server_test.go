package dnsrecords

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// testZone is a zone loaded from a file under testdata.
type testZone struct {
	origin string
	soa    dns.RR
	byName map[string][]dns.RR
}

func loadZone(t testing.TB, file string) *testZone {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", file))
	require.NoError(t, err)
	defer f.Close()
	z := &testZone{byName: map[string][]dns.RR{}}
	zp := dns.NewZoneParser(f, "", file)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := strings.ToLower(rr.Header().Name)
		if rr.Header().Rrtype == dns.TypeSOA {
			z.soa, z.origin = rr, name
		}
		z.byName[name] = append(z.byName[name], rr)
	}
	require.NoError(t, zp.Err(), "parse %s", file)
	require.NotNil(t, z.soa, "%s has no SOA", file)
	return z
}

// exists reports whether name owns records or has descendants (an empty
// non-terminal such as _tcp.contoso.com).
func (z *testZone) exists(name string) bool {
	if len(z.byName[name]) > 0 {
		return true
	}
	for n := range z.byName {
		if strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	return false
}

func (z *testZone) rrs(name string, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range z.byName[name] {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}

// testServer is an authoritative DNS server on the loopback interface,
// serving zones from testdata over UDP and TCP.
type testServer struct {
	Addr  string
	zones []*testZone
	// udp and tcp count the queries received.
	udp, tcp atomic.Int64
}

// startServer serves the zone files on ip (port 0 picks a free port, the
// same for UDP and TCP). The servers stop in t.Cleanup.
func startServer(t testing.TB, ip string, port int, files ...string) *testServer {
	t.Helper()
	s := &testServer{}
	for _, f := range files {
		s.zones = append(s.zones, loadZone(t, f))
	}
	var (
		pc net.PacketConn
		ln net.Listener
	)
	for attempt := 0; ; attempt++ {
		var err error
		pc, err = net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			if port == 0 || attempt > 0 {
				t.Skipf("cannot listen on %s: %v", ip, err)
			}
			require.NoError(t, err)
		}
		p := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err = net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err == nil {
			break
		}
		pc.Close()
		if port != 0 || attempt > 10 {
			require.NoError(t, err)
		}
	}
	s.Addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{
		{PacketConn: pc, Handler: s},
		{Listener: ln, Handler: s},
	} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		errc := make(chan error, 1)
		go func() { errc <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-errc:
			require.NoError(t, err)
		}
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return s
}

// Queries returns the number of queries received.
func (s *testServer) Queries() int { return int(s.udp.Load() + s.tcp.Load()) }

func (s *testServer) zoneFor(name string) *testZone {
	var best *testZone
	for _, z := range s.zones {
		if name == z.origin || strings.HasSuffix(name, "."+z.origin) {
			if best == nil || len(z.origin) > len(best.origin) {
				best = z
			}
		}
	}
	return best
}

// ServeDNS answers like an authoritative server: CNAMEs are returned for
// any type and followed inside the zone, NODATA and NXDOMAIN carry the SOA,
// and UDP answers larger than the client's buffer are truncated.
func (s *testServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	udp := w.LocalAddr().Network() == "udp"
	if udp {
		s.udp.Add(1)
	} else {
		s.tcp.Add(1)
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	z := s.zoneFor(name)
	if z == nil {
		m.Rcode = dns.RcodeRefused
		_ = w.WriteMsg(m)
		return
	}
	for hops := 0; hops < 8; hops++ {
		if cn := z.rrs(name, dns.TypeCNAME); len(cn) > 0 && q.Qtype != dns.TypeCNAME {
			m.Answer = append(m.Answer, cn[0])
			name = strings.ToLower(cn[0].(*dns.CNAME).Target)
			if z2 := s.zoneFor(name); z2 == nil {
				break
			} else {
				z = z2
			}
			continue
		}
		m.Answer = append(m.Answer, z.rrs(name, q.Qtype)...)
		if len(m.Answer) == 0 {
			if !z.exists(name) {
				m.Rcode = dns.RcodeNameError
			}
			m.Ns = append(m.Ns, z.soa)
		}
		break
	}
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		size = int(opt.UDPSize())
		m.SetEdns0(opt.UDPSize(), false)
	}
	if udp {
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}
