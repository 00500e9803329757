package sambadns_test

import (
	"testing"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/sambadns"
	"github.com/essentials365/sdk/internal/sambatest"
)

const zoneName = "fabrikam-e365.com"

// dcZone returns the settings of the test DC's DNS, creating the zone
// (sambatest.DNSZone: it skips when there is no DC, or no DNS on it).
func dcZone(t *testing.T) sambadns.Config {
	z := sambatest.DNSZone(t, zoneName)
	return sambadns.Config{Server: z.Host, Zone: z.Zone, User: z.User, Password: z.Password}
}

func TestConformanceSamba(t *testing.T) {
	cfg := dcZone(t)
	open := func(c sambadns.Config) func(t *testing.T) backend.Zone {
		return func(t *testing.T) backend.Zone {
			z, err := sambadns.New(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			return z
		}
	}
	wrong := cfg
	wrong.Password = "not-the-password-1A!"
	backendtest.RunZoneTests(t, backendtest.ZoneHarness{Open: open(cfg), OpenRefused: open(wrong), NoTransfer: true, FixedTTL: 900})
}

func TestConfigRejected(t *testing.T) {
	_, err := sambadns.New(sambadns.Config{Server: "127.0.0.1", Zone: "x.com", User: "a"}, nil)
	if backend.ReasonOf(err) != sambadns.ReasonConfig {
		t.Fatalf("got %v, want %s", err, sambadns.ReasonConfig)
	}
}
