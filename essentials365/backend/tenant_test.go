package backend_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/essentials365/sdk/essentials365/backend"
)

func TestSKUCapabilityStatus(t *testing.T) {
	for status, usable := range map[string]bool{
		"": true, backend.CapabilityEnabled: true, backend.CapabilityWarning: true,
		backend.CapabilitySuspended: false, backend.CapabilityLockedOut: false, backend.CapabilityDeleted: false,
	} {
		s := backend.SKU{SKUID: "a", Enabled: 10, Consumed: 4, CapabilityStatus: status}
		assert.Equal(t, usable, s.Usable(), status)
		want := 0
		if usable {
			want = 6
		}
		assert.Equal(t, want, s.Available(), status)
		u := backend.OnlineUser{AssignedLicenses: []backend.AssignedLicense{{SKUID: "A"}}}
		assert.Equal(t, usable, u.LicensedOn([]backend.SKU{s}), status)
	}
}
