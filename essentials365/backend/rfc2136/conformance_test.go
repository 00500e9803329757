package rfc2136_test

import (
	"encoding/base64"
	"testing"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/rfc2136"
	"github.com/essentials365/sdk/internal/bindtest"
)

func TestConformanceBIND(t *testing.T) {
	srv := bindtest.Start(t, "contoso.test")
	open := func(secret string) func(t *testing.T) backend.Zone {
		return func(t *testing.T) backend.Zone {
			z, err := rfc2136.New(rfc2136.Config{Server: srv.Addr, Zone: "contoso.test", KeyName: srv.KeyName,
				KeyAlgorithm: srv.KeyAlgorithm, KeySecret: secret}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return z
		}
	}
	wrong := base64.StdEncoding.EncodeToString([]byte("not the key of this server at all"))
	backendtest.RunZoneTests(t, backendtest.ZoneHarness{Open: open(srv.KeySecret), OpenRefused: open(wrong)})
}

// An unsigned update is refused by a zone whose policy names a key, and
// nothing is written.
func TestUnsignedUpdateRefused(t *testing.T) {
	srv := bindtest.Start(t, "contoso.test")
	z, err := rfc2136.New(rfc2136.Config{Server: srv.Addr, Zone: "contoso.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := backend.DNSRecord{Name: "x.contoso.test", Type: backend.DNSTypeTXT, Text: "x"}
	err = z.Update(t.Context(), nil, []backend.DNSRecord{rec})
	if backend.KindOf(err) != backend.PermissionDenied || backend.ReasonOf(err) != backend.ReasonZoneRefused {
		t.Fatalf("unsigned update: got %v, want PermissionDenied %s", err, backend.ReasonZoneRefused)
	}
	got, err := z.Records(t.Context(), rec.Name)
	if err != nil || len(got) != 0 {
		t.Fatalf("after a refused update: %v %v", got, err)
	}
	_, err = z.Records(t.Context())
	if backend.ReasonOf(err) != backend.ReasonZoneTransferRefused {
		t.Fatalf("unsigned transfer: got %v, want %s", err, backend.ReasonZoneTransferRefused)
	}
}

func TestConfigRejected(t *testing.T) {
	for _, cfg := range []rfc2136.Config{
		{Server: "127.0.0.1", Zone: "contoso.test"},
		{Server: "127.0.0.1:53", Zone: ""},
		{Server: "127.0.0.1:53", Zone: "contoso.test", KeyName: "k"},
	} {
		_, err := rfc2136.New(cfg, nil)
		if backend.ReasonOf(err) != rfc2136.ReasonConfig {
			t.Errorf("%+v: got %v, want %s", cfg, err, rfc2136.ReasonConfig)
		}
	}
}
