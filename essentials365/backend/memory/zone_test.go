package memory_test

import (
	"testing"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

func TestZoneConformance(t *testing.T) {
	backendtest.RunZoneTests(t, backendtest.ZoneHarness{
		Open: func(t *testing.T) backend.Zone { return memory.NewZone("contoso.test", nil) },
		OpenRefused: func(t *testing.T) backend.Zone {
			return memory.NewZone("contoso.test", &memory.ZoneOptions{ReadOnly: true})
		},
	})
}
