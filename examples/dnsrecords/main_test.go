package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunFormats(t *testing.T) {
	tests := []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{"text", func(t *testing.T, out string) {
			assert.True(t, strings.HasPrefix(out, "DNS records to add for contoso.com\n"))
			assert.Contains(t, out, "Record 14 of 14: DMARC policy (required)")
		}},
		{"zone", func(t *testing.T, out string) {
			zp := dns.NewZoneParser(strings.NewReader(out), "", "")
			n := 0
			for _, ok := zp.Next(); ok; _, ok = zp.Next() {
				n++
			}
			require.NoError(t, zp.Err())
			assert.Equal(t, 14, n)
		}},
		{"csv", func(t *testing.T, out string) {
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			require.NoError(t, err)
			assert.Len(t, rows, 15)
		}},
		{"json", func(t *testing.T, out string) {
			var doc struct {
				Domain  string            `json:"domain"`
				Records []json.RawMessage `json:"records"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &doc))
			assert.Equal(t, "contoso.com", doc.Domain)
			assert.Len(t, doc.Records, 14)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), []string{"-domain", "contoso.com", "-format", tc.format, "-out", dir}, &stdout, &stderr)
			require.NoError(t, err, stderr.String())
			tc.check(t, stdout.String())

			files, err := filepath.Glob(filepath.Join(dir, "NewDNSRecords_(*).txt"))
			require.NoError(t, err)
			require.Len(t, files, 1)
			assert.Equal(t, "wrote "+files[0]+"\n", stderr.String())
			data, err := os.ReadFile(files[0])
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(data), "DNS records to add for contoso.com\n"), "the file is always the Essentials-style text")
		})
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no domain", []string{}, "-domain is required"},
		{"subdomain under the Essentials policy", []string{"-domain", "marketing.contoso.com", "-policy", "essentials"}, "[rule essentials-subdomain]"},
		{"bad label", []string{"-domain", "-bad-.com"}, "[rule label-hyphen]"},
		{"bad format", []string{"-domain", "contoso.com", "-format", "yaml"}, "[rule option]"},
		{"bad service", []string{"-domain", "contoso.com", "-services", "mail,fax"}, "[rule option]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), append(tc.args, "-out", t.TempDir()), &stdout, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, stdout.String())
		})
	}
}

// serveZone serves a zone file of the dnsrecords tests on 127.0.0.1 over UDP.
func serveZone(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "dnsrecords", "testdata", file))
	require.NoError(t, err)
	defer f.Close()
	records := map[string][]dns.RR{}
	zp := dns.NewZoneParser(f, "", file)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := strings.ToLower(rr.Header().Name)
		records[name] = append(records[name], rr)
	}
	require.NoError(t, zp.Err())
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		for _, rr := range records[strings.ToLower(q.Name)] {
			if rr.Header().Rrtype == q.Qtype || (rr.Header().Rrtype == dns.TypeCNAME && q.Qtype != dns.TypeCNAME) {
				m.Answer = append(m.Answer, rr)
			}
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestRunCheck(t *testing.T) {
	t.Run("correct zone", func(t *testing.T) {
		addr := serveZone(t, "correct.zone")
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), []string{"-domain", "contoso.com", "-format", "zone", "-out", "", "-check", "-server", addr}, &stdout, &stderr)
		require.NoError(t, err, stdout.String())
		out := stdout.String()
		assert.Contains(t, out, "DNS check of contoso.com against "+addr+" (13 queries)")
		assert.Contains(t, out, "ok   mail-flow     Mail for the domain will flow to Exchange Online.")
		assert.NotContains(t, out, "FAIL")
		assert.Empty(t, stderr.String(), "no file written with -out \"\"")
	})
	t.Run("missing records", func(t *testing.T) {
		addr := serveZone(t, "missing.zone")
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), []string{"-domain", "fabrikam.com", "-services", "mail", "-out", "", "-check", "-server", addr}, &stdout, &stderr)
		require.ErrorIs(t, err, errCheckFailed)
		out := stdout.String()
		assert.Contains(t, out, "missing     CNAME autodiscover.fabrikam.com")
		assert.Contains(t, out, "fix: Add a CNAME record at autodiscover.fabrikam.com with value autodiscover.outlook.com and TTL 3600.")
		assert.Contains(t, out, "FAIL autodiscover")
	})
}
