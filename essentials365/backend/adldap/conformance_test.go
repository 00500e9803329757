package adldap_test

import (
	"context"
	"testing"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
)

// sambaHarness shares one driver over the test DC between the subtests.
type sambaHarness struct{ d *adldap.Directory }

func (h sambaHarness) MakeDirectory(context.Context, *testing.T) backend.Directory { return h.d }

func TestConformance(t *testing.T) {
	d := open(t, config(t))
	backendtest.RunDirectoryTests(t, sambaHarness{d})
}
