package dnsrecords

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenSets are the record sets the golden files hold.
func goldenSets(t testing.TB) map[string]*RecordSet {
	var ips []string
	for i := 1; i <= 16; i++ {
		ips = append(ips, "ip4:198.51.100."+strconv.Itoa(i))
	}
	return map[string]*RecordSet{
		// Everything derived from the domain name, as the example program
		// prints it without tenant values.
		"contoso": mustSet(t, "contoso.com", nil),
		// Tenant values, an internationalized name, a migration in
		// progress, the OWA alias, and an SPF record longer than 255 bytes.
		"buecher": mustSet(t, "bücher.de", &Options{
			Services:           []Service{ServiceVerification, ServiceMail, ServiceDKIM, ServiceDMARC},
			VerificationToken:  "ms55554444",
			MailExchange:       "xnbcherkva-de01b.mail.protection.outlook.com",
			DKIMSelector1:      "selector1-xnbcherkva-de01b._domainkey.buecher.onmicrosoft.com",
			DKIMSelector2:      "selector2-xnbcherkva-de01b._domainkey.buecher.onmicrosoft.com",
			ExistingSPF:        []string{"v=spf1 " + strings.Join(ips, " ") + " ~all"},
			MailMigration:      true,
			ActiveMXPreference: ptr(uint16(10)),
			OWAAlias:           true,
			DMARCReports:       "dmarc-reports@xn--bcher-kva.de",
		}),
	}
}

func extension(f Format) string {
	if f == FormatText {
		return "txt"
	}
	return string(f)
}

func TestRenderGolden(t *testing.T) {
	for name, set := range goldenSets(t) {
		for _, f := range Formats() {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				var buf bytes.Buffer
				require.NoError(t, set.Render(&buf, f))
				path := filepath.Join("testdata", "golden", name+"."+extension(f))
				if *update {
					require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run go test -update to create the golden files")
				assert.Equal(t, string(want), buf.String())
			})
		}
	}
}

func TestRenderZoneParsesBack(t *testing.T) {
	for name, set := range goldenSets(t) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, set.Render(&buf, FormatZone))
			assertZoneRoundTrip(t, set, buf.String())
		})
	}
	set := goldenSets(t)["buecher"]
	spf, _ := set.Find(RoleSPF)
	require.Greater(t, len(spf.Text), 255)
	rr, err := spf.RR()
	require.NoError(t, err)
	assert.Len(t, rr.(*dns.TXT).Txt, 2, "a long TXT value is split into 255-byte strings")
}

// assertZoneRoundTrip parses zone with miekg/dns and compares it with set.
func assertZoneRoundTrip(t testing.TB, set *RecordSet, zone string) {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(zone), "", "")
	var got []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		got = append(got, rr)
	}
	require.NoError(t, zp.Err(), "zone:\n%s", zone)
	require.Len(t, got, len(set.Records), "zone:\n%s", zone)
	for i, r := range set.Records {
		want, err := r.RR()
		require.NoError(t, err)
		require.True(t, dns.IsDuplicate(want, got[i]), "record %d: got %s, want %s", i, got[i], want)
		require.Equal(t, want.Header().Ttl, got[i].Header().Ttl)
		if _, ok := got[i].(*dns.TXT); ok {
			require.Equal(t, r.Text, txtValue(got[i]))
		}
	}
}

func TestRenderCSVAndJSONStructure(t *testing.T) {
	set := goldenSets(t)["contoso"]
	var buf bytes.Buffer
	require.NoError(t, set.Render(&buf, FormatCSV))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, len(set.Records)+1)
	assert.Equal(t, []string{"Type", "Host", "Name", "Value", "Priority", "Weight", "Port", "TTL", "Service", "Optional", "Source", "Purpose"}, rows[0])
	assert.Equal(t, []string{"SRV", "_sipfederationtls._tcp", "_sipfederationtls._tcp.contoso.com", "sipfed.online.lync.com", "100", "1", "5061", "3600", "federation", "false", "documented"}, rows[6][:11])

	buf.Reset()
	require.NoError(t, set.Render(&buf, FormatJSON))
	var doc struct {
		Domain  string `json:"domain"`
		Records []struct {
			Role       Role    `json:"role"`
			Preference *uint16 `json:"preference"`
			Unverified bool    `json:"unverified"`
		} `json:"records"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	assert.Equal(t, "contoso.com", doc.Domain)
	require.Len(t, doc.Records, len(set.Records))
	mx := doc.Records[2]
	assert.Equal(t, RoleMX, mx.Role)
	require.NotNil(t, mx.Preference, "preference 0 is written, not omitted")
	assert.Equal(t, uint16(0), *mx.Preference)
	assert.True(t, mx.Unverified)
}

func TestRenderUnknownFormat(t *testing.T) {
	set := mustSet(t, "contoso.com", nil)
	err := set.Render(&bytes.Buffer{}, "yaml")
	var ve *backend.Error
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, ReasonOption, ve.Reason)
	_, err = ParseFormat("xml")
	require.ErrorAs(t, err, &ve)
	for _, f := range Formats() {
		got, err := ParseFormat(strings.ToUpper(string(f)))
		require.NoError(t, err)
		assert.Equal(t, f, got)
	}
}

func TestWriteFile(t *testing.T) {
	set := mustSet(t, "contoso.com", nil)
	var text bytes.Buffer
	require.NoError(t, set.Render(&text, FormatText))

	t.Run("new file with the text rendering", func(t *testing.T) {
		dir := t.TempDir()
		path, err := WriteFile(dir, set, &WriteFileOptions{Random: func() uint32 { return 41 }})
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(dir, "NewDNSRecords_(42).txt"), path)
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, text.String(), string(got))
	})
	t.Run("an existing file is never overwritten", func(t *testing.T) {
		dir := t.TempDir()
		taken := filepath.Join(dir, "NewDNSRecords_(1).txt")
		require.NoError(t, os.WriteFile(taken, []byte("keep me"), 0o644))
		seq := []uint32{0, 0, 6}
		path, err := WriteFile(dir, set, &WriteFileOptions{Random: func() uint32 { n := seq[0]; seq = seq[1:]; return n }})
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(dir, "NewDNSRecords_(7).txt"), path)
		kept, err := os.ReadFile(taken)
		require.NoError(t, err)
		assert.Equal(t, "keep me", string(kept))
	})
	t.Run("gives up when every name is taken", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "NewDNSRecords_(5).txt"), nil, 0o644))
		_, err := WriteFile(dir, set, &WriteFileOptions{Random: func() uint32 { return 4 }, Attempts: 3})
		require.Error(t, err)
		assert.True(t, errors.Is(err, fs.ErrExist))
	})
	t.Run("other format, random names", func(t *testing.T) {
		dir := t.TempDir()
		a, err := WriteFile(dir, set, &WriteFileOptions{Format: FormatZone})
		require.NoError(t, err)
		b, err := WriteFile(dir, set, &WriteFileOptions{Format: FormatZone})
		require.NoError(t, err)
		assert.NotEqual(t, a, b)
		data, err := os.ReadFile(a)
		require.NoError(t, err)
		assertZoneRoundTrip(t, set, string(data))
	})
	t.Run("missing directory", func(t *testing.T) {
		_, err := WriteFile(filepath.Join(t.TempDir(), "nope"), set, nil)
		require.Error(t, err)
		assert.True(t, errors.Is(err, fs.ErrNotExist))
	})
}
